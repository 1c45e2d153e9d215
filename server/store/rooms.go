package store

import (
	"fmt"
	"time"
)

// Room is a stored room: an id players type ("lounge"), a display name, a
// description and the ids it has exits to. A room with an owner is that
// player's own: they may describe it, lock it and link it to others.
type Room struct {
	ID          string
	Name        string
	Description string
	Owner       string // player key, "" for system rooms
	Locked      bool   // only the owner and those they invite may enter
	CreatedAt   time.Time
	Exits       []string
}

// Rooms loads every room with its exits, in id order.
func (s *Store) Rooms() ([]*Room, error) {
	rows, err := s.db.Query("SELECT id, name, description, owner, locked, created_at FROM rooms ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	defer rows.Close()
	var out []*Room
	byID := map[string]*Room{}
	for rows.Next() {
		r := &Room{}
		var created int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Description, &r.Owner, &r.Locked, &created); err != nil {
			return nil, fmt.Errorf("load rooms: %w", err)
		}
		r.CreatedAt = timeOrZero(created)
		out = append(out, r)
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	exits, err := s.db.Query("SELECT room, dest FROM exits ORDER BY room, dest")
	if err != nil {
		return nil, fmt.Errorf("load exits: %w", err)
	}
	defer exits.Close()
	for exits.Next() {
		var from, to string
		if err := exits.Scan(&from, &to); err != nil {
			return nil, fmt.Errorf("load exits: %w", err)
		}
		if r := byID[from]; r != nil {
			r.Exits = append(r.Exits, to)
		}
	}
	return out, exits.Err()
}

// SaveRoom creates or updates a room and replaces its exits, atomically.
func (s *Store) SaveRoom(r *Room) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	if _, err := tx.Exec(`INSERT INTO rooms(id, name, description, owner, locked, created_at) VALUES(?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, description=excluded.description, owner=excluded.owner,
		locked=excluded.locked`,
		r.ID, r.Name, r.Description, r.Owner, r.Locked, unixOrZero(r.CreatedAt)); err != nil {
		return fmt.Errorf("save room %q: %w", r.ID, err)
	}
	if _, err := tx.Exec("DELETE FROM exits WHERE room = ?", r.ID); err != nil {
		return err
	}
	for _, dest := range r.Exits {
		if _, err := tx.Exec("INSERT INTO exits(room, dest) VALUES(?, ?)", r.ID, dest); err != nil {
			return fmt.Errorf("save exit %s -> %s: %w", r.ID, dest, err)
		}
	}
	return tx.Commit()
}
