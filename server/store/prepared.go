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
	// One entry of EnterPlayers.
	savepointSQL  = "SAVEPOINT entry"
	releaseSQL    = "RELEASE entry"
	rollbackToSQL = "ROLLBACK TO entry"
	trimLoginSQL  = `DELETE FROM logins WHERE player = ? AND rowid NOT IN
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
	es := []Entry{{Player: p, Create: create, Addr: addr, At: at}}
	s.EnterPlayers(es)
	return es[0].Err
}

// Entry is one login's writes for EnterPlayers: what EnterPlayer's
// arguments are, and its outcome.
type Entry struct {
	Player *player.Player
	Create bool // a registration: the account is inserted
	Addr   string
	At     time.Time
	Err    error // set by EnterPlayers: nil once committed
}

// EnterPlayers writes several logins (EnterPlayer's writes for each) in
// one transaction, so that a crowd logging in at once pays for one
// commit, not one each. Each entry's writes are in a savepoint of their
// own: an entry whose writes fail (a name taken, an account gone) gets
// its error in Err and leaves nothing, and the others go on. If the
// transaction itself fails (begin, commit), every entry gets that error
// and nothing is written. It returns once the transaction is committed:
// an entry whose Err is nil survives the talker being killed.
func (s *Store) EnterPlayers(es []Entry) {
	fail := func(err error) {
		for i := range es {
			if es[i].Err == nil {
				es[i].Err = fmt.Errorf("enter player %q: %w", es[i].Player.Name, err)
			}
		}
	}
	for i := range es {
		es[i].Err = nil
	}
	var st [7]*sql.Stmt
	for i, q := range []string{insertPlayerSQL, savePlayerSQL, noteLoginSQL, trimLoginSQL,
		savepointSQL, releaseSQL, rollbackToSQL} {
		var err error
		if st[i], err = s.stmt(q); err != nil {
			fail(err)
			return
		}
	}
	tx, err := s.db.Begin()
	if err != nil {
		fail(err)
		return
	}
	defer tx.Rollback() // after Commit: a no-op
	ins, upd, note, trim := tx.Stmt(st[0]), tx.Stmt(st[1]), tx.Stmt(st[2]), tx.Stmt(st[3])
	// With one entry the transaction is its savepoint.
	single := len(es) == 1
	ok := 0
	for i := range es {
		e := &es[i]
		if !single {
			if _, err := tx.Stmt(st[4]).Exec(); err != nil {
				fail(err)
				return
			}
		}
		e.Err = s.enterOne(tx, ins, upd, note, trim, e)
		switch {
		case single:
		case e.Err != nil:
			if _, err := tx.Stmt(st[6]).Exec(); err != nil {
				fail(err)
				return
			}
			if _, err := tx.Stmt(st[5]).Exec(); err != nil {
				fail(err)
				return
			}
		default:
			if _, err := tx.Stmt(st[5]).Exec(); err != nil {
				fail(err)
				return
			}
		}
		if e.Err == nil {
			ok++
		}
	}
	if ok == 0 {
		tx.Rollback() // nothing to commit (and the connection is wanted below)
	} else if err := tx.Commit(); err != nil {
		fail(err)
		return
	}
	for i := range es {
		if es[i].Err == nil && es[i].Create {
			s.namesChanged.Add(1)
		}
	}
	// A registration's failed insert is told as the name taken if it is
	// (looked up once the transaction is over: the pool has one connection).
	for i := range es {
		if e := &es[i]; errors.Is(e.Err, errInsertFailed) {
			if exists, _ := s.PlayerExists(e.Player.Name); exists {
				e.Err = fmt.Errorf("the name %s is %w", e.Player.Name, ErrNameTaken)
			}
		}
	}
}

// errInsertFailed marks a registration's failed insert, told as a name
// taken if the name has an account.
var errInsertFailed = errors.New("insert failed")

// enterOne is one entry's writes in tx.
func (s *Store) enterOne(tx *sql.Tx, ins, upd, note, trim *sql.Stmt, e *Entry) error {
	p := e.Player
	key := p.Key()
	if e.Create {
		if _, err := ins.Exec(append([]any{key}, playerValues(p)...)...); err != nil {
			return fmt.Errorf("create player %q: %w: %w", p.Name, errInsertFailed, err)
		}
	} else {
		res, err := upd.Exec(append(playerValues(p), key)...)
		if err != nil {
			return fmt.Errorf("save player %q: %w", p.Name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("save player %q: %w", p.Name, ErrNotFound)
		}
	}
	if _, err := note.Exec(key, e.Addr, unixOrZero(e.At)); err != nil {
		return fmt.Errorf("record a login of %q: %w", p.Name, err)
	}
	if _, err := trim.Exec(key, key, KeptLogins); err != nil {
		return fmt.Errorf("record a login of %q: %w", p.Name, err)
	}
	return nil
}
