package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// minReaderOf reads the lowest schema version a binary must know to use
// the database.
func minReaderOf(t *testing.T, s *Store) string {
	t.Helper()
	v, ok, err := s.Meta(metaMinReader)
	if err != nil || !ok {
		t.Fatalf("schema_min_reader: %q %v %v", v, ok, err)
	}
	return v
}

// TestMigration6LocksOutTheBuildBefore: the build before migration 6 knows
// nothing of staff invisibility, so on a database that has it an invisible
// admin would be in its 'who' and announced at its logins. Migration 6 is
// not usable by older builds: a reboot from that build is refused (a cold
// start applies it), that build cannot open the database afterwards, and a
// database migrated when migration 6 was wrongly marked usable is brought
// into line when it is opened.
func TestMigration6LocksOutTheBuildBefore(t *testing.T) {
	if migrations[5].OlderCanUse || !strings.Contains(migrations[5].SQL, "invisible") {
		t.Fatal("migration 6 (the invisible column) is marked usable by the build before it")
	}
	dir := databaseAt(t, 5, `INSERT INTO players(key, name, hash, rank, created_at) VALUES('boss', 'Boss', 'x', 30, 1)`)
	// A reboot's new generation opens with ReadableMigrations.
	if _, err := OpenWith(dir, ReadableMigrations); !errors.Is(err, ErrMigrationNeedsColdStart) {
		t.Fatalf("a reboot from the schema-5 build: %v, want ErrMigrationNeedsColdStart", err)
	}
	s, err := Open(dir) // the cold start
	if err != nil {
		t.Fatal(err)
	}
	if v := minReaderOf(t, s); v != "6" {
		t.Errorf("schema_min_reader %s, want 6", v)
	}
	p, err := s.Player("boss")
	if err != nil {
		t.Fatal(err)
	}
	p.Invisible = true
	must(t, s.SavePlayer(p))
	// The build before, which knows migrations[:5], opening it.
	err = s.migrate(AllMigrations, migrations[:5])
	if err == nil || !strings.Contains(err.Error(), "newer than this binary can use") {
		t.Errorf("the build before migration 6 opening the database: %v, want refused", err)
	}
	s.Close()

	// A database brought up to date while migration 6 was marked usable
	// by older builds kept schema_min_reader 1.
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.SetMeta(metaMinReader, "1"))
	if err := s.migrate(AllMigrations, migrations[:5]); err != nil {
		t.Fatalf("with schema_min_reader 1, the build before is let in (the state this repairs): %v", err)
	}
	s.Close()
	s, err = OpenWith(dir, ReadableMigrations)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := minReaderOf(t, s); v != "6" {
		t.Errorf("schema_min_reader after opening %s, want 6 (raised)", v)
	}
	if err := s.migrate(AllMigrations, migrations[:5]); err == nil {
		t.Error("the build before migration 6 can still open the repaired database")
	}
	// Never lowered.
	must(t, s.SetMeta(metaMinReader, "7"))
	if err := s.raiseMinReader(context.Background(), 6); err != nil || minReaderOf(t, s) != "7" {
		t.Errorf("raiseMinReader lowered the minimum reader: %v %s", err, minReaderOf(t, s))
	}
}
