package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"talker/player"
)

// Accounts as a whole: a password that must be changed at the next login
// (after staff reset it), where each account logged in from, and deleting
// or renaming an account together with everything that refers to it by
// key or name: other players' lists, mail, rooms (and the exits and
// players' rooms and homes naming them), the login history.

// KeptLogins is how many logins are kept per account (the newest).
const KeptLogins = 20

// Login is one login to an account.
type Login struct {
	Name string // the account's name
	Addr string
	At   time.Time
}

// SetPassword stores an account's password hash; mustChange makes the
// player choose a new password at their next login.
func (s *Store) SetPassword(name, hash string, mustChange bool) error {
	res, err := s.db.Exec("UPDATE players SET hash = ?, must_change_password = ? WHERE key = ?", hash, mustChange, player.Key(name))
	if err != nil {
		return fmt.Errorf("set the password of %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// MustChangePassword reports whether the account's password is a
// one-time one; ErrNotFound if there is no such account.
func (s *Store) MustChangePassword(name string) (bool, error) {
	var must bool
	err := s.queryRow("SELECT must_change_password FROM players WHERE key = ?", player.Key(name)).Scan(&must)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	return must, err
}

// NoteLogin records a login, keeping only the account's KeptLogins newest.
func (s *Store) NoteLogin(name, addr string, at time.Time) error {
	key := player.Key(name)
	note, err := s.stmt(noteLoginSQL)
	if err == nil {
		_, err = note.Exec(key, addr, unixOrZero(at))
	}
	if err != nil {
		return fmt.Errorf("record a login of %q: %w", name, err)
	}
	trim, err := s.stmt(trimLoginSQL)
	if err == nil {
		_, err = trim.Exec(key, key, KeptLogins)
	}
	return err
}

// Logins lists an account's recent logins, newest first.
func (s *Store) Logins(name string) ([]Login, error) {
	return s.logins(`SELECT p.name, l.addr, l.at FROM logins l JOIN players p ON p.key = l.player
		WHERE l.player = ? ORDER BY l.at DESC, l.rowid DESC`, player.Key(name))
}

// LoginsFrom lists, for each address, the other accounts that logged in
// from it (the last time each did), newest first.
func (s *Store) LoginsFrom(addrs []string, except string) ([]Login, error) {
	if len(addrs) == 0 {
		return nil, nil
	}
	args := []any{player.Key(except)}
	for _, a := range addrs {
		args = append(args, a)
	}
	return s.logins(`SELECT p.name, l.addr, MAX(l.at) AS last FROM logins l JOIN players p ON p.key = l.player
		WHERE l.player != ? AND l.addr IN (?`+strings.Repeat(",?", len(addrs)-1)+`)
		GROUP BY l.player, l.addr ORDER BY last DESC`, args...)
}

func (s *Store) logins(query string, args ...any) ([]Login, error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("read logins: %w", err)
	}
	defer rows.Close()
	var out []Login
	for rows.Next() {
		var l Login
		var at int64
		if err := rows.Scan(&l.Name, &l.Addr, &at); err != nil {
			return nil, fmt.Errorf("read logins: %w", err)
		}
		l.At = timeOrZero(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// LastLogins gives each account's newest login on record, by key.
func (s *Store) LastLogins() (map[string]time.Time, error) {
	rows, err := s.db.Query("SELECT player, MAX(at) FROM logins GROUP BY player")
	if err != nil {
		return nil, fmt.Errorf("read logins: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var key string
		var at int64
		if err := rows.Scan(&key, &at); err != nil {
			return nil, fmt.Errorf("read logins: %w", err)
		}
		out[key] = timeOrZero(at)
	}
	return out, rows.Err()
}

// Players lists every account, by name, without their lists.
func (s *Store) Players() ([]*player.Player, error) {
	return s.players("SELECT " + playerColumns + " FROM players ORDER BY key")
}

// IdleNewbies lists the newbie accounts not used since before (neither
// logged in nor, if they never did, created), without their lists.
func (s *Store) IdleNewbies(before time.Time) ([]*player.Player, error) {
	return s.players("SELECT "+playerColumns+" FROM players WHERE rank = ? AND MAX(last_seen, created_at) < ? ORDER BY key",
		player.Newbie, unixOrZero(before))
}

func (s *Store) players(query string, args ...any) ([]*player.Player, error) {
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("list players: %w", err)
	}
	defer rows.Close()
	var out []*player.Player
	for rows.Next() {
		p, err := scanPlayer(rows)
		if err != nil {
			return nil, fmt.Errorf("list players: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePlayer deletes an account and what is only its: its mail, its
// rooms (players who were in one, or had it as their home, will be put in
// the start room), other players' list entries about it, its logins. Mail
// it sent stays with those it was sent to. ErrNotFound if there is none.
func (s *Store) DeletePlayer(name string) error {
	key := player.Key(name)
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"UPDATE players SET room = '' WHERE room IN (SELECT id FROM rooms WHERE owner = ?1)",
		"UPDATE players SET home = '' WHERE home IN (SELECT id FROM rooms WHERE owner = ?1)",
		"DELETE FROM rooms WHERE owner = ?1", // and their exits, both ways (ON DELETE CASCADE)
		"DELETE FROM lists WHERE target = ?1",
		"DELETE FROM mail WHERE recipient = ?1",
		"DELETE FROM logins WHERE player = ?1",
		"DELETE FROM player_notes WHERE player = ?1",
		"DELETE FROM channel_members WHERE player = ?1",
		"DELETE FROM news_read WHERE player = ?1",
		"DELETE FROM aliases WHERE player = ?1",
	} {
		if _, err := tx.Exec(q, key); err != nil {
			return fmt.Errorf("delete player %q: %w", name, err)
		}
	}
	res, err := tx.Exec("DELETE FROM players WHERE key = ?", key) // and its own lists (ON DELETE CASCADE)
	if err != nil {
		return fmt.Errorf("delete player %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	defer s.namesChanged.Add(1)
	return tx.Commit()
}

// RenamePlayer gives an account a new name (already validated), and
// everything that refers to it follows: other players' lists, mail to it
// and the sender's name on mail from it, its logins, its rooms. Rooms
// whose id is the old key, a dot and a short name get the new key's
// ("alice.home" becomes "bob.home"), with their exits and the players in
// them or at home there; a room name starting with the old name's
// possessive ("Alice's Home") gets the new one's. It returns the rooms
// whose id changed, old id to new. A change of capitals only is a rename
// too.
func (s *Store) RenamePlayer(oldName, newName string) (map[string]string, error) {
	ok, nk := player.Key(oldName), player.Key(newName)
	tx, err := s.db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var was string
	if err := tx.QueryRow("SELECT name FROM players WHERE key = ?", ok).Scan(&was); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if nk != ok {
		var one int
		if err := tx.QueryRow("SELECT 1 FROM players WHERE key = ?", nk).Scan(&one); err == nil {
			return nil, fmt.Errorf("the name %s is already taken", newName)
		}
	}
	rooms, err := tx.Query("SELECT id, name FROM rooms WHERE owner = ?", ok)
	if err != nil {
		return nil, err
	}
	type room struct{ id, name string }
	var owned []room
	for rooms.Next() {
		var r room
		if err := rooms.Scan(&r.id, &r.name); err != nil {
			rooms.Close()
			return nil, err
		}
		owned = append(owned, r)
	}
	rooms.Close()
	// The key changes under the lists that refer to it: the foreign keys
	// are checked at the commit, when everything has followed.
	if _, err := tx.Exec("PRAGMA defer_foreign_keys = ON"); err != nil {
		return nil, err
	}
	for _, q := range []string{
		"UPDATE players SET key = ?2, name = ?3 WHERE key = ?1",
		"UPDATE lists SET owner = ?2 WHERE owner = ?1",
		"UPDATE lists SET target = ?2, name = ?3 WHERE target = ?1",
		"UPDATE mail SET recipient = ?2 WHERE recipient = ?1",
		"UPDATE mail SET sender = ?3 WHERE lower(sender) = ?1",
		"UPDATE logins SET player = ?2 WHERE player = ?1",
		"UPDATE player_notes SET player = ?2 WHERE player = ?1",
		"UPDATE channel_members SET player = ?2 WHERE player = ?1",
		"UPDATE news_read SET player = ?2 WHERE player = ?1",
		"UPDATE aliases SET player = ?2 WHERE player = ?1",
		"UPDATE rooms SET owner = ?2 WHERE owner = ?1",
	} {
		if _, err := tx.Exec(q, ok, nk, newName); err != nil {
			return nil, fmt.Errorf("rename %s to %s: %w", oldName, newName, err)
		}
	}
	moved := map[string]string{}
	for _, r := range owned {
		id, name := r.id, r.name
		if short, found := strings.CutPrefix(r.id, ok+"."); found && nk != ok {
			id = nk + "." + short
		}
		if rest, found := strings.CutPrefix(r.name, was+"'s "); found {
			name = newName + "'s " + rest
		}
		if id == r.id {
			if _, err := tx.Exec("UPDATE rooms SET name = ? WHERE id = ?", name, id); err != nil {
				return nil, err
			}
			continue
		}
		moved[r.id] = id
		for _, q := range []string{
			"UPDATE rooms SET id = ?2, name = ?3 WHERE id = ?1",
			"UPDATE exits SET room = ?2 WHERE room = ?1",
			"UPDATE exits SET dest = ?2 WHERE dest = ?1",
			"UPDATE players SET room = ?2 WHERE room = ?1",
			"UPDATE players SET home = ?2 WHERE home = ?1",
		} {
			if _, err := tx.Exec(q, r.id, id, name); err != nil {
				return nil, fmt.Errorf("rename room %s to %s: %w", r.id, id, err)
			}
		}
	}
	defer s.namesChanged.Add(1)
	return moved, tx.Commit()
}
