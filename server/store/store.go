// Package store is the talker's durable storage: accounts, rooms and a small
// key/value table of system state, in an embedded SQLite database (pure Go,
// no cgo) inside the data directory.
//
// The database file and its journal are created private to the talker's
// user (0600). Writes are small and synchronous; WAL mode keeps a reader
// (`talker account create` from a shell, say) from blocking the talker.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database's name inside the data directory.
const FileName = "talker.db"

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store is an open database. It is safe for concurrent use, but the talker
// keeps all writes on its world goroutine so that their order is the order
// of events.
type Store struct {
	db   *sql.DB
	path string
	// ahead is how many schema versions the database is ahead of this
	// build (made by a newer build that older ones can still use).
	ahead int
	// namesChanged counts the accounts made, renamed or deleted through
	// this Store (NamesChanged).
	namesChanged atomic.Uint64
	prep         prepared // the login path's statements (prepared.go)
}

// NamesChanged counts the accounts made, renamed or deleted through this
// Store so far, so that an index of the names knows when it is stale.
func (s *Store) NamesChanged() uint64 { return s.namesChanged.Load() }

// SchemaAhead reports how many schema versions the database is ahead of
// this build: 0, unless a newer build made it (and left it usable by
// this one).
func (s *Store) SchemaAhead() int { return s.ahead }

// Open opens the database in dataDir and brings its schema up to date. It
// creates a new database only where there is no file at all: a file that
// is there but empty, not SQLite, a symlink or unreadable is refused (see
// CheckFile), never taken for a new talker.
func Open(dataDir string) (*Store, error) {
	return OpenWith(dataDir, AllMigrations)
}

// Migrations says which pending schema migrations an open may apply.
type Migrations int

const (
	// AllMigrations: a cold start, nothing else is using the database.
	AllMigrations Migrations = iota
	// ReadableMigrations: only migrations that leave the database usable by
	// a binary that knows the schema as it is now. A reboot's new
	// generation opens with this before Ready: if the reboot then fails,
	// the old generation keeps serving from the same file (and can cold
	// start from it later). So does a tool run beside a live talker.
	ReadableMigrations
)

// ErrMigrationNeedsColdStart is returned by OpenWith(ReadableMigrations)
// when a pending migration would leave the database unreadable to the
// binary that is using it.
var ErrMigrationNeedsColdStart = errors.New("this build changes the database in a way the running build cannot read; " +
	"apply it with a cold start ('talker stop', then 'talker start'), not a reboot or restart")

// OpenWith is Open, applying only the migrations which allows. future are
// migrations played after this build's own, as if this were a later build
// (for tests of schema changes across reboots; nil otherwise).
func OpenWith(dataDir string, which Migrations, future ...Migration) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dataDir, FileName)
	created, err := prepareFile(path)
	if err != nil {
		return nil, err
	}
	// mode=rw: SQLite must never create the file itself (it would, with
	// the umask's mode, if the file vanished after the check).
	dsn := "file:" + path + "?mode=rw&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// One connection: SQLite serialises writers anyway, and a single
	// connection means no SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	list := migrations
	if len(future) > 0 {
		list = append(append([]Migration(nil), migrations...), future...)
	}
	if err := s.migrate(which, list); err != nil {
		db.Close()
		if created {
			// Nothing was written: an empty file left here would be
			// refused at the next start as a lost database.
			removeIfEmpty(path)
		}
		return nil, err
	}
	return s, nil
}

// sqliteHeader is how every SQLite database file begins.
const sqliteHeader = "SQLite format 3\x00"

// ErrUnusable is wrapped by the error for a database file that is there
// but that the talker will not use (an *UnusableError).
var ErrUnusable = errors.New("unusable database file")

// UnusableError is a database file that exists but is empty, not a SQLite
// database, a symlink or unreadable. SQLite would take an empty file for a
// new database: the talker would start with no accounts, and the first to
// register an admin's name would get it.
type UnusableError struct {
	Path    string
	Problem string // "is empty (0 bytes)", "is a symbolic link", ...
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("the database %s %s; the talker will not start a new database over it, which would lose every account. "+
		"Restore it from a backup (the output of 'talker backup' says how), or, to start a new talker, move it out of the way: mv %s %s.old",
		e.Path, e.Problem, e.Path, e.Path)
}

func (e *UnusableError) Unwrap() error { return ErrUnusable }

// CheckFile checks that path is an existing SQLite database the talker can
// use: a regular file (not a symlink) it can read, with SQLite's header.
// It returns an error wrapping fs.ErrNotExist when there is no file, and
// an *UnusableError when there is one that will not do.
func CheckFile(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil {
		return &UnusableError{path, fmt.Sprintf("cannot be examined (%v)", errors.Unwrap(err))}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &UnusableError{path, "is a symbolic link (the database must be a plain file, private to the talker's user)"}
	}
	if !fi.Mode().IsRegular() {
		return &UnusableError{path, "is not a regular file"}
	}
	// O_NOFOLLOW: a symlink swapped in since the Lstat is not followed.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return &UnusableError{path, fmt.Sprintf("cannot be read (%v; it must belong to the talker's user, mode 0600)", errors.Unwrap(err))}
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	switch n, err := io.ReadFull(f, head); {
	case n == 0 && err == io.EOF:
		return &UnusableError{path, "is empty (0 bytes)"}
	case err == io.ErrUnexpectedEOF || err == nil && string(head) != sqliteHeader:
		return &UnusableError{path, "is not a SQLite database (it does not start with SQLite's header)"}
	case err != nil:
		return &UnusableError{path, fmt.Sprintf("cannot be read (%v)", errors.Unwrap(err))}
	}
	return nil
}

// prepareFile makes path ready for SQLite to open: an existing database
// that passes CheckFile, or, only where there is no file at all, a new
// empty one (created says so). We create it, exclusively and 0600, so
// that it and the -wal/-shm files SQLite derives from its mode are never
// readable by other users.
func prepareFile(path string) (created bool, err error) {
	if err := CheckFile(path); !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, CheckFile(path) // another process created it meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("create database: %w", err)
	}
	return true, f.Close()
}

func removeIfEmpty(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		os.Remove(path)
	}
}

// openReadOnly opens an existing database file for reading only, with no
// migrations: a backup's source (a live talker's database, whose schema is
// the talker's business) and its copy.
func openReadOnly(path string) (*sql.DB, error) {
	if err := CheckFile(path); err != nil {
		return nil, err
	}
	return sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
}

// BackupTo writes a consistent copy of the database in dataDir to dest, a
// file that must not exist or be empty. VACUUM INTO reads in one
// transaction: in WAL mode a talker writing meanwhile neither waits for it
// nor changes what it copies. The copy is in rollback-journal mode, one
// self-contained file.
func BackupTo(dataDir, dest string) error {
	db, err := openReadOnly(filepath.Join(dataDir, FileName))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	return nil
}

// VerifyCopy checks a copy of the database (a backup) with SQLite's
// integrity check, and returns how many accounts it holds.
func VerifyCopy(path string) (accounts int, err error) {
	db, err := openReadOnly(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil {
		return 0, fmt.Errorf("check %s: %w", path, err)
	}
	if result != "ok" {
		return 0, fmt.Errorf("%s fails SQLite's integrity check: %s", path, result)
	}
	if err := db.QueryRow("SELECT count(*) FROM players").Scan(&accounts); err != nil {
		return 0, fmt.Errorf("count the accounts in %s: %w", path, err)
	}
	return accounts, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database, checkpointing the WAL into the main file.
func (s *Store) Close() error {
	s.closeStmts()
	_, _ = s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return s.db.Close()
}

// Migration moves the schema up one version.
type Migration struct {
	SQL string
	// OlderCanUse: a binary that knows only the schema before this
	// migration can still use the database after it (new tables, new
	// columns with defaults; the store never selects "*" from a table).
	// Only such migrations run during a reboot, so that a failed reboot
	// leaves a database the old generation can keep using. A migration
	// that renames, drops or changes the meaning of anything is false, and
	// raises the schema version every binary must know (metaMinReader).
	OlderCanUse bool
}

// SchemaVersion is the schema version this build brings a database to.
func SchemaVersion() int { return len(migrations) }

// metaMinReader is the meta key holding the lowest schema version a binary
// must know to use the database (absent: the schema version itself).
const metaMinReader = "schema_min_reader"

// migrations bring an older schema up to date; migrations[i] moves the schema
// from version i to version i+1. Append only: a released migration never
// changes.
var migrations = []Migration{
	{OlderCanUse: false, SQL: `CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE players (
		key          TEXT PRIMARY KEY,
		name         TEXT NOT NULL,
		hash         TEXT NOT NULL,
		rank         INTEGER NOT NULL DEFAULT 0,
		title        TEXT NOT NULL DEFAULT '',
		description  TEXT NOT NULL DEFAULT '',
		room         TEXT NOT NULL DEFAULT '',
		home         TEXT NOT NULL DEFAULT '',
		created_at   INTEGER NOT NULL,
		last_seen    INTEGER NOT NULL DEFAULT 0,
		last_address TEXT NOT NULL DEFAULT '',
		logins       INTEGER NOT NULL DEFAULT 0,
		time_online  INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE rooms (
		id          TEXT PRIMARY KEY,
		name        TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		owner       TEXT NOT NULL DEFAULT '',
		created_at  INTEGER NOT NULL
	);
	CREATE TABLE exits (
		room TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
		dest TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
		PRIMARY KEY (room, dest)
	);`},
	// 2: the full talker: player settings, lists, mail, bans, the staff
	// log, lockable rooms.
	{OlderCanUse: true, SQL: `ALTER TABLE players ADD COLUMN colour      INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN prompt      INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN prompt_text TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN timestamps  INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN earmuffs    INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN enter_msg   TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN exit_msg    TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN gagged      INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN jailed      INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE rooms ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE lists (
		owner    TEXT NOT NULL REFERENCES players(key) ON DELETE CASCADE,
		target   TEXT NOT NULL,
		name     TEXT NOT NULL,
		friend   INTEGER NOT NULL DEFAULT 0,
		ignoring INTEGER NOT NULL DEFAULT 0,
		invite   INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (owner, target)
	);
	CREATE TABLE mail (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		recipient TEXT NOT NULL,
		sender    TEXT NOT NULL,
		sent_at   INTEGER NOT NULL,
		body      TEXT NOT NULL,
		is_read   INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX mail_by_recipient ON mail(recipient, id);
	CREATE TABLE bans (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		kind       TEXT NOT NULL,
		pattern    TEXT NOT NULL,
		reason     TEXT NOT NULL DEFAULT '',
		banned_by  TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE staff_log (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		at     INTEGER NOT NULL,
		actor  TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL DEFAULT ''
	);`},
	// 3: accounts: a password staff reset must be changed at the next
	// login; the address of every login (the last few per account).
	// Additive: a previous build ignores both (it lets a player in on a
	// one-time password without asking for a new one, and records no
	// logins), so a reboot back to it still works.
	{OlderCanUse: true, SQL: `ALTER TABLE players ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE logins (
		player TEXT NOT NULL,
		addr   TEXT NOT NULL,
		at     INTEGER NOT NULL
	);
	CREATE INDEX logins_by_player ON logins(player, at);
	CREATE INDEX logins_by_addr ON logins(addr);`},
	// 4: a player's page length ('pager'). Additive: a previous build
	// leaves the column alone (its players page by their client's height).
	{OlderCanUse: true, SQL: `ALTER TABLE players ADD COLUMN pager INTEGER NOT NULL DEFAULT 0;`},
	// 5: colour by the client's capability unless the player chose (those
	// who have colour on chose it: it was off by default); the screen
	// reader setting (0 follow the client, 1 on, 2 off). Additive: a
	// previous build ignores both.
	{OlderCanUse: true, SQL: `ALTER TABLE players ADD COLUMN colour_chosen INTEGER NOT NULL DEFAULT 0;
	UPDATE players SET colour_chosen = 1 WHERE colour != 0;
	ALTER TABLE players ADD COLUMN screen_reader INTEGER NOT NULL DEFAULT 0;`},
	// 6: profile fields shown by 'examine' (plan, gender, e-mail and
	// whether it is public, url), the wrap width a player set by hand
	// (0: the client's), staff invisibility, and staff notes on players
	// (profile.go, notes.go). Additive in form, but not usable by a
	// previous build: it ignores the invisible column, so an admin who
	// turned invisible here would be listed in 'who' and announced at
	// every login there, believing themselves hidden. A privacy leak is
	// not a missing feature: the previous build is refused (minReader 6),
	// and bringing a database from schema 5 to 6 takes a cold start.
	{OlderCanUse: false, SQL: `ALTER TABLE players ADD COLUMN plan         TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN gender       TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN email        TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN email_public INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN url          TEXT    NOT NULL DEFAULT '';
	ALTER TABLE players ADD COLUMN wrap         INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE players ADD COLUMN invisible    INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE player_notes (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		player TEXT NOT NULL,
		author TEXT NOT NULL,
		at     INTEGER NOT NULL,
		body   TEXT NOT NULL
	);
	CREATE INDEX player_notes_by_player ON player_notes(player, id);`},
	// 7: talk channels (membership and each channel's last lines), the
	// news board and who has read what, command aliases (channels.go,
	// news.go, aliases.go). Additive: a previous build ignores them.
	{OlderCanUse: true, SQL: `CREATE TABLE channel_members (
		player  TEXT NOT NULL,
		channel TEXT NOT NULL,
		PRIMARY KEY (player, channel)
	);
	CREATE INDEX channel_members_by_channel ON channel_members(channel);
	CREATE TABLE channel_history (
		id      INTEGER PRIMARY KEY AUTOINCREMENT,
		channel TEXT NOT NULL,
		at      INTEGER NOT NULL,
		speaker TEXT NOT NULL,
		text    TEXT NOT NULL
	);
	CREATE INDEX channel_history_by_channel ON channel_history(channel, id);
	CREATE TABLE news (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		author    TEXT NOT NULL,
		posted_at INTEGER NOT NULL,
		subject   TEXT NOT NULL,
		body      TEXT NOT NULL
	);
	CREATE TABLE news_read (
		player TEXT NOT NULL,
		item   INTEGER NOT NULL,
		PRIMARY KEY (player, item)
	);
	CREATE TABLE aliases (
		player    TEXT NOT NULL,
		name      TEXT NOT NULL,
		expansion TEXT NOT NULL,
		PRIMARY KEY (player, name)
	);`},
}

// minReader is the lowest schema version a binary must know to use a
// database at schema version v of list.
func minReader(list []Migration, v int) int {
	m := 1
	for i := 0; i < v; i++ {
		if !list[i].OlderCanUse {
			m = i + 1
		}
	}
	return m
}

// migrate brings the schema up to len(list) (the list is a parameter so
// that tests can play a future build).
func (s *Store) migrate(which Migrations, list []Migration) error {
	ctx := context.Background()
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(list) {
		// A newer build's database: usable if every migration since the
		// one this build knows left it readable to older builds (a reboot
		// back to the previous release, or a rolled-back reboot).
		need := version
		var v string
		err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaMinReader).Scan(&v)
		if err == nil {
			fmt.Sscanf(v, "%d", &need)
		}
		if need > len(list) {
			return fmt.Errorf("database schema version %d is newer than this binary can use (it knows %d, the database needs %d); run a newer talker",
				version, len(list), need)
		}
		s.ahead = version - len(list)
		return nil
	}
	if which == ReadableMigrations {
		for v := version; v < len(list); v++ {
			if !list[v].OlderCanUse && version > 0 {
				return fmt.Errorf("schema version %d to %d: %w", version, v+1, ErrMigrationNeedsColdStart)
			}
		}
	}
	for v := version; v < len(list); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(list[v].SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			metaMinReader, fmt.Sprint(minReader(list, v+1))); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return s.raiseMinReader(ctx, minReader(list, len(list)))
}

// raiseMinReader makes the lowest schema version a binary must know at
// least need. A database migrated by a build that took a migration to be
// usable by older builds and was wrong about it (migration 6, made before
// its invisible column was found to leak) kept a lower one; the migration
// is now marked, and this brings such a database into line when it is
// opened. It never lowers the value.
func (s *Store) raiseMinReader(ctx context.Context, need int) error {
	have := 0
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaMinReader).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the schema's minimum reader: %w", err)
	}
	fmt.Sscanf(v, "%d", &have)
	if have >= need {
		return nil
	}
	if err := s.SetMeta(metaMinReader, fmt.Sprint(need)); err != nil {
		return fmt.Errorf("raise the schema's minimum reader to %d: %w", need, err)
	}
	return nil
}

// Meta reads a system-state value; ok is false when it is unset.
func (s *Store) Meta(key string) (value string, ok bool, err error) {
	err = s.db.QueryRow("SELECT value FROM meta WHERE key = ?", key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetMeta durably stores a system-state value.
func (s *Store) SetMeta(key, value string) error {
	_, err := s.db.Exec("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
