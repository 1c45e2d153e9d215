package store

import (
	"fmt"
	"time"

	"talker/player"
)

// PlayerNote is one note staff wrote about a player ('note'): seen only
// by staff ('notes'), kept until the account is deleted, following it
// through a rename.
type PlayerNote struct {
	ID     int64
	At     time.Time
	Author string // the staff member's name as it was then
	Body   string
}

// KeptNotes is how many notes are kept per player: the oldest go when a
// note past it is added, so that one player's file cannot grow without
// bound (50 notes of at most a line each is a few kilobytes).
const KeptNotes = 50

// AddPlayerNote adds a note about the player named, keeping the newest
// KeptNotes.
func (s *Store) AddPlayerNote(name, author, body string, at time.Time) error {
	key := player.Key(name)
	if _, err := s.db.Exec("INSERT INTO player_notes(player, author, at, body) VALUES(?,?,?,?)",
		key, author, unixOrZero(at), body); err != nil {
		return fmt.Errorf("add a note on %q: %w", name, err)
	}
	_, err := s.db.Exec(`DELETE FROM player_notes WHERE player = ? AND id NOT IN
		(SELECT id FROM player_notes WHERE player = ? ORDER BY id DESC LIMIT ?)`, key, key, KeptNotes)
	return err
}

// PlayerNotes lists the notes about the player named, oldest first.
func (s *Store) PlayerNotes(name string) ([]PlayerNote, error) {
	rows, err := s.db.Query("SELECT id, at, author, body FROM player_notes WHERE player = ? ORDER BY id", player.Key(name))
	if err != nil {
		return nil, fmt.Errorf("read notes on %q: %w", name, err)
	}
	defer rows.Close()
	var out []PlayerNote
	for rows.Next() {
		var n PlayerNote
		var at int64
		if err := rows.Scan(&n.ID, &at, &n.Author, &n.Body); err != nil {
			return nil, fmt.Errorf("read notes on %q: %w", name, err)
		}
		n.At = timeOrZero(at)
		out = append(out, n)
	}
	return out, rows.Err()
}
