package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"talker/player"
)

// prepared keeps the statements of the login path compiled: SQLite's
// parser was about a third of what a login's statements cost when each
// was prepared, run and finalized again (10,000 registrations: 2.0 s of
// 4.9 s in the store).
type prepared struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// stmt gives query prepared, preparing it the first time.
func (s *Store) stmt(query string) (*sql.Stmt, error) {
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	if st := s.prep.stmts[query]; st != nil {
		return st, nil
	}
	st, err := s.db.Prepare(query)
	if err != nil {
		return nil, err
	}
	if s.prep.stmts == nil {
		s.prep.stmts = map[string]*sql.Stmt{}
	}
	s.prep.stmts[query] = st
	return st, nil
}

// closeStmts closes the prepared statements (Close).
func (s *Store) closeStmts() {
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	for _, st := range s.prep.stmts {
		st.Close()
	}
	s.prep.stmts = nil
}

// queryRow is db.QueryRow through a prepared statement.
func (s *Store) queryRow(query string, args ...any) *sql.Row {
	st, err := s.stmt(query)
	if err != nil {
		return s.db.QueryRow(query, args...) // carries the error
	}
	return st.QueryRow(args...)
}

// query is db.Query through a prepared statement.
func (s *Store) query(query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

var insertPlayerSQL = "INSERT INTO players(key, " + playerColumns + ") VALUES(?" + strings.Repeat(",?", 31) + ")"

const (
	savePlayerSQL = `UPDATE players SET name=?, hash=?, rank=?, title=?, description=?, room=?, home=?,
		created_at=?, last_seen=?, last_address=?, logins=?, time_online=?,
		colour=?, prompt=?, prompt_text=?, timestamps=?, earmuffs=?, enter_msg=?, exit_msg=?, gagged=?, jailed=?, pager=?,
		colour_chosen=?, screen_reader=?,
		plan=?, gender=?, email=?, email_public=?, url=?, wrap=?, invisible=?
		WHERE key=?`
	noteLoginSQL = "INSERT INTO logins(player, addr, at) VALUES(?, ?, ?)"
	trimLoginSQL = `DELETE FROM logins WHERE player = ? AND rowid NOT IN
		(SELECT rowid FROM logins WHERE player = ? ORDER BY at DESC, rowid DESC LIMIT ?)`
)

// ErrNameTaken is wrapped by the error of CreatePlayer or EnterPlayer
// for a name that already has an account.
var ErrNameTaken = errors.New("already taken")

// EnterPlayer writes what a login changes, in one transaction: the
// account (inserted if create, which fails if the name is taken; updated
// otherwise), the login's record (NoteLogin) and the trimming of the
// account's older records. It returns once the transaction is committed:
// an account it made survives the talker being killed.
func (s *Store) EnterPlayer(p *player.Player, create bool, addr string, at time.Time) error {
	ins, err := s.stmt(insertPlayerSQL)
	if err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	upd, err := s.stmt(savePlayerSQL)
	if err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	note, err := s.stmt(noteLoginSQL)
	if err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	trim, err := s.stmt(trimLoginSQL)
	if err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	defer tx.Rollback() // after Commit: a no-op
	key := p.Key()
	if create {
		if _, err := tx.Stmt(ins).Exec(append([]any{key}, playerValues(p)...)...); err != nil {
			tx.Rollback()
			if exists, _ := s.PlayerExists(p.Name); exists {
				return fmt.Errorf("the name %s is %w", p.Name, ErrNameTaken)
			}
			return fmt.Errorf("create player %q: %w", p.Name, err)
		}
	} else {
		res, err := tx.Stmt(upd).Exec(append(playerValues(p), key)...)
		if err != nil {
			return fmt.Errorf("save player %q: %w", p.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("save player %q: %w", p.Name, ErrNotFound)
		}
	}
	if _, err := tx.Stmt(note).Exec(key, addr, unixOrZero(at)); err != nil {
		return fmt.Errorf("record a login of %q: %w", p.Name, err)
	}
	if _, err := tx.Stmt(trim).Exec(key, key, KeptLogins); err != nil {
		return fmt.Errorf("record a login of %q: %w", p.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enter player %q: %w", p.Name, err)
	}
	if create {
		s.namesChanged.Add(1)
	}
	return nil
}
