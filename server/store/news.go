package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// News: the talker's notice board ('news'), and which items each player
// has read.

// NewsItem is one post on the board.
type NewsItem struct {
	ID       int64
	Author   string // the author's name as registered
	PostedAt time.Time
	Subject  string
	Body     string
	Read     bool // by the player it was listed for (News)
}

// PostNews stores a new item, sets its ID, and deletes the oldest items
// beyond keep.
func (s *Store) PostNews(n *NewsItem, keep int) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.Exec("INSERT INTO news(author, posted_at, subject, body) VALUES(?,?,?,?)",
		n.Author, unixOrZero(n.PostedAt), n.Subject, n.Body)
	if err != nil {
		return fmt.Errorf("post news: %w", err)
	}
	if n.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := tx.Exec("DELETE FROM news WHERE id NOT IN (SELECT id FROM news ORDER BY id DESC LIMIT ?)", keep); err != nil {
		return fmt.Errorf("post news: %w", err)
	}
	if _, err := tx.Exec("DELETE FROM news_read WHERE item NOT IN (SELECT id FROM news)"); err != nil {
		return fmt.Errorf("post news: %w", err)
	}
	return tx.Commit()
}

// News lists every item, oldest first, each marked read or not for the
// player given (the bodies are left out).
func (s *Store) News(playerKey string) ([]NewsItem, error) {
	rows, err := s.db.Query(`SELECT n.id, n.author, n.posted_at, n.subject, r.item IS NOT NULL
		FROM news n LEFT JOIN news_read r ON r.item = n.id AND r.player = ? ORDER BY n.id`, playerKey)
	if err != nil {
		return nil, fmt.Errorf("list news: %w", err)
	}
	defer rows.Close()
	var out []NewsItem
	for rows.Next() {
		var n NewsItem
		var at int64
		if err := rows.Scan(&n.ID, &n.Author, &at, &n.Subject, &n.Read); err != nil {
			return nil, fmt.Errorf("list news: %w", err)
		}
		n.PostedAt = timeOrZero(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// ReadNews returns one item and marks it read by the player. It returns
// ErrNotFound if there is no such item.
func (s *Store) ReadNews(playerKey string, id int64) (*NewsItem, error) {
	var n NewsItem
	var at int64
	err := s.db.QueryRow("SELECT id, author, posted_at, subject, body FROM news WHERE id = ?", id).
		Scan(&n.ID, &n.Author, &at, &n.Subject, &n.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read news %d: %w", id, err)
	}
	n.PostedAt, n.Read = timeOrZero(at), true
	if _, err := s.db.Exec("INSERT OR IGNORE INTO news_read(player, item) VALUES(?,?)", playerKey, id); err != nil {
		return nil, fmt.Errorf("read news %d: %w", id, err)
	}
	return &n, nil
}

// DeleteNews deletes one item. It returns ErrNotFound if there is none.
func (s *Store) DeleteNews(id int64) error {
	res, err := s.db.Exec("DELETE FROM news WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete news %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	_, err = s.db.Exec("DELETE FROM news_read WHERE item = ?", id)
	return err
}

// UnreadNews counts the items a player has not read.
func (s *Store) UnreadNews(playerKey string) (int, error) {
	var n int
	err := s.queryRow(`SELECT COUNT(*) FROM news WHERE id NOT IN
		(SELECT item FROM news_read WHERE player = ?)`, playerKey).Scan(&n)
	return n, err
}
