package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"talker/player"
)

const playerColumns = `name, hash, rank, title, description, room, home, created_at, last_seen, last_address, logins, time_online`

func scanPlayer(row interface{ Scan(...any) error }) (*player.Player, error) {
	var p player.Player
	var created, seen, online int64
	err := row.Scan(&p.Name, &p.PasswordHash, &p.Rank, &p.Title, &p.Description, &p.Room, &p.Home,
		&created, &seen, &p.LastAddress, &p.Logins, &online)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.LastSeen, p.TimeOnline = timeOrZero(created), timeOrZero(seen), time.Duration(online)
	return &p, nil
}

// Player loads an account by name (any case). It returns ErrNotFound if
// there is none.
func (s *Store) Player(name string) (*player.Player, error) {
	p, err := scanPlayer(s.db.QueryRow("SELECT "+playerColumns+" FROM players WHERE key = ?", player.Key(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load player %q: %w", name, err)
	}
	return p, nil
}

// CreatePlayer stores a new account; it fails if the name is taken.
func (s *Store) CreatePlayer(p *player.Player) error {
	_, err := s.db.Exec("INSERT INTO players(key, "+playerColumns+") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		p.Key(), p.Name, p.PasswordHash, p.Rank, p.Title, p.Description, p.Room, p.Home,
		unixOrZero(p.CreatedAt), unixOrZero(p.LastSeen), p.LastAddress, p.Logins, int64(p.TimeOnline))
	if err != nil {
		if exists, _ := s.PlayerExists(p.Name); exists {
			return fmt.Errorf("the name %s is already taken", p.Name)
		}
		return fmt.Errorf("create player %q: %w", p.Name, err)
	}
	return nil
}

// SavePlayer writes every field of an existing account.
func (s *Store) SavePlayer(p *player.Player) error {
	res, err := s.db.Exec(`UPDATE players SET name=?, hash=?, rank=?, title=?, description=?, room=?, home=?,
		created_at=?, last_seen=?, last_address=?, logins=?, time_online=? WHERE key=?`,
		p.Name, p.PasswordHash, p.Rank, p.Title, p.Description, p.Room, p.Home,
		unixOrZero(p.CreatedAt), unixOrZero(p.LastSeen), p.LastAddress, p.Logins, int64(p.TimeOnline), p.Key())
	if err != nil {
		return fmt.Errorf("save player %q: %w", p.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("save player %q: %w", p.Name, ErrNotFound)
	}
	return nil
}

// PlayerExists reports whether an account with that name exists.
func (s *Store) PlayerExists(name string) (bool, error) {
	var one int
	err := s.db.QueryRow("SELECT 1 FROM players WHERE key = ?", player.Key(name)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// CountPlayersWithRank counts accounts of at least the given rank.
func (s *Store) CountPlayersWithRank(min player.Rank) (int, error) {
	var n int
	err := s.db.QueryRow("SELECT COUNT(*) FROM players WHERE rank >= ?", min).Scan(&n)
	return n, err
}
