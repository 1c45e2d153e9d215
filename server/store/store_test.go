package store

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"talker/player"
)

// TestUpgradeFromSchemaV1 opens a database made by a binary that knew only
// the first migration: it is brought up to date and its players and rooms
// read with the new settings at their defaults.
func TestUpgradeFromSchemaV1(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0].SQL, "PRAGMA user_version = 1",
		`INSERT INTO players(key, name, hash, rank, created_at) VALUES('old', 'Old', 'x', 10, 1)`,
		`INSERT INTO rooms(id, name, created_at) VALUES('main', 'The Main Room', 1)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

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
