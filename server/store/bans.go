package store

import (
	"fmt"
	"time"
)

// Kinds of ban.
const (
	BanName = "name" // an account name: refused at the name prompt
	BanSite = "site" // an address or CIDR range: refused at connect
)

// Ban refuses a name or a site, until ExpiresAt (zero: for good).
type Ban struct {
	ID        int64
	Kind      string // BanName or BanSite
	Pattern   string // a player key, or an address or CIDR range
	Reason    string
	By        string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Expired reports whether the ban no longer applies at now.
func (b Ban) Expired(now time.Time) bool { return !b.ExpiresAt.IsZero() && !now.Before(b.ExpiresAt) }

// AddBan stores a ban and sets its ID.
func (s *Store) AddBan(b *Ban) error {
	res, err := s.db.Exec("INSERT INTO bans(kind, pattern, reason, banned_by, created_at, expires_at) VALUES(?,?,?,?,?,?)",
		b.Kind, b.Pattern, b.Reason, b.By, unixOrZero(b.CreatedAt), unixOrZero(b.ExpiresAt))
	if err != nil {
		return fmt.Errorf("add ban: %w", err)
	}
	b.ID, err = res.LastInsertId()
	return err
}

// Bans lists every stored ban, oldest first.
func (s *Store) Bans() ([]Ban, error) {
	rows, err := s.db.Query("SELECT id, kind, pattern, reason, banned_by, created_at, expires_at FROM bans ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("load bans: %w", err)
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var created, expires int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Pattern, &b.Reason, &b.By, &created, &expires); err != nil {
			return nil, fmt.Errorf("load bans: %w", err)
		}
		b.CreatedAt, b.ExpiresAt = timeOrZero(created), timeOrZero(expires)
		out = append(out, b)
	}
	return out, rows.Err()
}

// RemoveBan deletes a ban.
func (s *Store) RemoveBan(id int64) error {
	_, err := s.db.Exec("DELETE FROM bans WHERE id = ?", id)
	return err
}
