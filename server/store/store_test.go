package store

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"talker/player"
)

// TestUpgradeFromSchemaV1 opens a database made by a binary that knew only
// the first migration: it is brought up to date and its players and rooms
// read with the new settings at their defaults.
func TestUpgradeFromSchemaV1(t *testing.T) {
	dir := databaseAt(t, 1,
		`INSERT INTO players(key, name, hash, rank, created_at) VALUES('old', 'Old', 'x', 10, 1)`,
		`INSERT INTO rooms(id, name, created_at) VALUES('main', 'The Main Room', 1)`)

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Player("old")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rank != player.Resident || p.Colour || p.Prompt || p.Gagged || p.Jailed || p.Lists != nil {
		t.Errorf("upgraded player: %+v", p)
	}
	rooms, err := s.Rooms()
	if err != nil || len(rooms) != 1 || rooms[0].Locked {
		t.Errorf("upgraded rooms: %v %+v", err, rooms)
	}
}

func TestPlayerSettingsAndLists(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &player.Player{Name: "Alice", PasswordHash: "h", CreatedAt: time.Now()}
	if err := s.CreatePlayer(p); err != nil {
		t.Fatal(err)
	}
	p.Colour, p.Prompt, p.PromptText, p.Timestamps, p.Earmuffs = true, true, "go>", true, true
	p.EnterMsg, p.ExitMsg, p.Gagged, p.Jailed = "in", "out", true, true
	if err := s.SavePlayer(p); err != nil {
		t.Fatal(err)
	}
	e := player.ListEntry{Name: "Bob", Friend: true, Ignore: player.IgnoreShouts, Invite: true}
	if err := s.SetListEntry("alice", "bob", e); err != nil {
		t.Fatal(err)
	}
	got, err := s.Player("ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Colour || !got.Prompt || got.PromptText != "go>" || !got.Timestamps || !got.Earmuffs ||
		got.EnterMsg != "in" || got.ExitMsg != "out" || !got.Gagged || !got.Jailed {
		t.Errorf("settings: %+v", got)
	}
	if got.Lists["bob"] != e {
		t.Errorf("lists: %+v", got.Lists)
	}
	if err := s.SetListEntry("alice", "bob", player.ListEntry{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Player("alice"); len(got.Lists) != 0 {
		t.Errorf("an empty entry was kept: %+v", got.Lists)
	}
}

func TestMailBansStaffLog(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for _, body := range []string{"one", "two"} {
		if err := s.SendMail(&Mail{To: "bob", From: "Alice", SentAt: now, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	box, _ := s.Mailbox("bob")
	if len(box) != 2 || box[0].Body != "one" || box[1].Read {
		t.Fatalf("mailbox: %+v", box)
	}
	_ = s.MarkMailRead(box[0].ID)
	if total, unread, err := s.CountMail("bob"); total != 2 || unread != 1 || err != nil {
		t.Errorf("count: %d %d %v", total, unread, err)
	}
	_ = s.DeleteMail("bob", box[0].ID)
	if total, _, _ := s.CountMail("bob"); total != 1 {
		t.Errorf("after delete: %d", total)
	}
	if total, unread, err := s.CountMail("nobody"); total != 0 || unread != 0 || err != nil {
		t.Errorf("empty mailbox: %d %d %v", total, unread, err)
	}

	b := &Ban{Kind: BanSite, Pattern: "10.0.0.0/8", By: "Sue", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.AddBan(b); err != nil || b.ID == 0 {
		t.Fatal(err)
	}
	bans, _ := s.Bans()
	if len(bans) != 1 || bans[0].Pattern != "10.0.0.0/8" || bans[0].Expired(now) || !bans[0].Expired(now.Add(2*time.Hour)) {
		t.Errorf("bans: %+v", bans)
	}
	_ = s.RemoveBan(b.ID)
	if bans, _ := s.Bans(); len(bans) != 0 {
		t.Errorf("ban not removed")
	}

	for i, a := range []string{"kick", "gag", "ban"} {
		if err := s.LogStaffAction(StaffAction{At: now.Add(time.Duration(i)), Actor: "Sue", Action: a, Target: "Troll"}); err != nil {
			t.Fatal(err)
		}
	}
	log, _ := s.StaffLog(2)
	if len(log) != 2 || log[0].Action != "gag" || log[1].Action != "ban" {
		t.Errorf("last two staff actions: %+v", log)
	}
}

// schemaVersion reads the database's schema version.
func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A future build's migrations, played on a database this build made, and
// the database then opened by this build again (a rolled-back reboot, or a
// reboot back to the previous release).
func TestSchemaFromANewerBuild(t *testing.T) {
	additive := append(append([]Migration(nil), migrations...),
		Migration{OlderCanUse: true, SQL: `CREATE TABLE future (x TEXT); ALTER TABLE players ADD COLUMN future_flag INTEGER NOT NULL DEFAULT 0`})
	breaking := append(append([]Migration(nil), migrations...),
		Migration{OlderCanUse: false, SQL: `ALTER TABLE players RENAME COLUMN title TO motto`})

	for _, tc := range []struct {
		name       string
		future     []Migration
		rebootOK   bool // a reboot's new generation may apply it
		olderStill bool // this build can use the database afterwards
	}{
		{"additive", additive, true, true},
		{"breaking", breaking, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreatePlayer(&player.Player{Name: "Alice", PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			// The new generation of a reboot opens with ReadableMigrations.
			err = s.migrate(ReadableMigrations, tc.future)
			if tc.rebootOK != (err == nil) {
				t.Fatalf("migration during a reboot: %v, want allowed=%v", err, tc.rebootOK)
			}
			if err != nil {
				if !errors.Is(err, ErrMigrationNeedsColdStart) || schemaVersion(t, s) != len(migrations) {
					t.Fatalf("refused migration: %v, schema now %d", err, schemaVersion(t, s))
				}
				// A cold start of the future build applies it.
				if err := s.migrate(AllMigrations, tc.future); err != nil {
					t.Fatal(err)
				}
			}
			if schemaVersion(t, s) != len(tc.future) {
				t.Fatalf("schema %d, want %d", schemaVersion(t, s), len(tc.future))
			}
			s.Close()

			// This build opens the future build's database.
			old, err := Open(dir)
			if tc.olderStill != (err == nil) {
				t.Fatalf("this build opening the newer database: %v, want usable=%v", err, tc.olderStill)
			}
			if err != nil {
				return
			}
			defer old.Close()
			if p, err := old.Player("alice"); err != nil || p.Name != "Alice" {
				t.Fatalf("player through the older build: %+v %v", p, err)
			}
			if schemaVersion(t, old) != len(tc.future) {
				t.Fatal("the older build changed the newer schema")
			}
		})
	}
}

// TestRefusesUnusableDatabase: a database file that is there but empty,
// not SQLite, a symlink or unreadable is refused with what to do, and left
// as it was; it is never taken for a new database.
func TestRefusesUnusableDatabase(t *testing.T) {
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T, path string)
		problem string
	}{
		{"empty", func(t *testing.T, path string) { writeFile(t, path, "", 0o600) }, "is empty"},
		{"garbage", func(t *testing.T, path string) {
			writeFile(t, path, strings.Repeat("not a database\n", 100), 0o600)
		}, "is not a SQLite database"},
		{"short", func(t *testing.T, path string) { writeFile(t, path, "SQLite", 0o600) }, "is not a SQLite database"},
		{"symlink", func(t *testing.T, path string) {
			// Even to a good database: the talker's database is its own plain file.
			good := t.TempDir()
			s, err := Open(good)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if err := os.Symlink(filepath.Join(good, FileName), path); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
		{"unreadable", func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("root can read a file with mode 000")
			}
			s, err := Open(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
		}, "cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tc.make(t, path)
			before, _ := os.Lstat(path)
			s, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatalf("Open took the %s file for a database", tc.name)
			}
			var ue *UnusableError
			if !errors.Is(err, ErrUnusable) || !errors.As(err, &ue) || ue.Path != path {
				t.Fatalf("Open: %v, want an UnusableError for %s", err, path)
			}
			msg := err.Error()
			for _, want := range []string{path, tc.problem, "talker backup", "mv " + path} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q: %s", want, msg)
				}
			}
			if _, err := OpenWith(dir, ReadableMigrations); !errors.Is(err, ErrUnusable) {
				t.Errorf("OpenWith(ReadableMigrations): %v", err)
			}
			after, err := os.Lstat(path)
			if err != nil || after.Size() != before.Size() || after.Mode() != before.Mode() {
				t.Errorf("the file was changed: %v %v, was %v", after, err, before)
			}
			if _, err := os.Lstat(path + "-wal"); err == nil {
				t.Error("SQLite opened the refused file (it has a -wal)")
			}
		})
	}
}

// TestCreatesOnlyWhereNoFile: a new database is made, 0600, where there is
// no file; it then passes CheckFile and opens again with its data.
func TestCreatesOnlyWhereNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := CheckFile(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("CheckFile with no file: %v", err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePlayer(&player.Player{Name: "Alice", PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new database: %v %v, want mode 0600", fi, err)
	}
	if err := CheckFile(path); err != nil {
		t.Fatalf("CheckFile on a good database: %v", err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Player("alice"); err != nil {
		t.Fatalf("reopened: %v", err)
	}
}

// TestBackupToAndVerifyCopy: a copy made while a writer has the database
// open, in WAL mode with uncheckpointed writes, holds them; a copy that
// is not a database is refused.
func TestBackupToAndVerifyCopy(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"Alice", "Bob", "Carol"} {
		if err := s.CreatePlayer(&player.Player{Name: n, PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := BackupTo(dir, dest); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyCopy(dest); err != nil || n != 3 {
		t.Fatalf("VerifyCopy: %d accounts, %v; want 3", n, err)
	}
	if err := BackupTo(dir, dest); err == nil {
		t.Error("BackupTo wrote over an existing database")
	}
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	writeFile(t, garbage, "junk", 0o600)
	if _, err := VerifyCopy(garbage); !errors.Is(err, ErrUnusable) {
		t.Errorf("VerifyCopy of garbage: %v", err)
	}
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, FileName), "", 0o600)
	if err := BackupTo(empty, filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, ErrUnusable) {
		t.Errorf("BackupTo from an empty database: %v", err)
	}
}

// TestVerifyCopyFindsCorruption: a copy with SQLite's header whose pages
// are damaged fails the integrity check even though its accounts can still
// be counted.
func TestVerifyCopyFindsCorruption(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := s.SendMail(&Mail{To: "bob", From: "Alice", SentAt: time.Now(), Body: strings.Repeat("x", 200)}); err != nil {
			t.Fatal(err)
		}
	}
	var root, pageSize int64
	if err := s.db.QueryRow("SELECT rootpage FROM sqlite_master WHERE name = 'mail'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The mail table's root page: the players table is untouched.
	if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 64)), (root-1)*pageSize+8); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if n, err := VerifyCopy(path); err == nil || !strings.Contains(err.Error(), "integrity") {
		t.Errorf("VerifyCopy of a damaged database: %d accounts, %v", n, err)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestPagerSettingKept: the page length is saved and read back; a
// database at the schema before it is still usable by the build before.
func TestPagerSettingKept(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "talker.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreatePlayer(&player.Player{Name: "Alice", PasswordHash: "x", Pager: 30}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Player("alice")
	if err != nil || p.Pager != 30 {
		t.Fatalf("%+v %v", p, err)
	}
	p.Pager = -1
	if err := s.SavePlayer(p); err != nil {
		t.Fatal(err)
	}
	if p, err = s.Player("alice"); err != nil || p.Pager != -1 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, m := range migrations {
		if strings.Contains(m.SQL, "ADD COLUMN pager") && !m.OlderCanUse {
			t.Error("the pager column would lock the previous build out")
		}
	}
}

// databaseAt makes, in a new directory, the database a binary that knew
// only the first version migrations would have made, with rows inserted;
// it returns the directory.
func databaseAt(t *testing.T, version int, rows ...string) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var qs []string
	for _, m := range migrations[:version] {
		qs = append(qs, m.SQL)
	}
	qs = append(qs, "PRAGMA user_version = "+strconv.Itoa(version))
	for _, q := range append(qs, rows...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return dir
}
