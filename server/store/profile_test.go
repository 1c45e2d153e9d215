package store

import (
	"strconv"
	"testing"
	"time"

	"talker/player"
)

// TestProfileWrapInvisibleAndNotes: a database from the build before
// migration 6 is brought up to date with the profile empty; the profile,
// the wrap width and invisibility are saved and read; notes on a player
// are kept (the newest KeptNotes), follow a rename and go with the account.
func TestProfileWrapInvisibleAndNotes(t *testing.T) {
	dir := databaseAt(t, 5,
		`INSERT INTO players(key, name, hash, rank, created_at) VALUES('old', 'Old', 'x', 20, 1)`)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Player("old")
	if err != nil || p.Plan != "" || p.Wrap != 0 || p.Invisible || p.EmailPublic {
		t.Fatalf("upgraded: %+v %v", p, err)
	}
	p.Plan, p.Gender, p.Email, p.EmailPublic, p.URL = "world domination", "female", "old@example.org", true, "https://example.org/"
	p.Wrap, p.Invisible = 60, true
	must(t, s.SavePlayer(p))
	got, err := s.Player("old")
	if err != nil || got.Plan != p.Plan || got.Gender != p.Gender || got.Email != p.Email || !got.EmailPublic ||
		got.URL != p.URL || got.Wrap != 60 || !got.Invisible {
		t.Errorf("saved: %+v %v", got, err)
	}
	must(t, s.CreatePlayer(&player.Player{Name: "New", PasswordHash: "x", CreatedAt: time.Now(), Wrap: 100, Plan: "hello"}))
	if n, err := s.Player("new"); err != nil || n.Wrap != 100 || n.Plan != "hello" {
		t.Errorf("created: %+v %v", n, err)
	}

	at := time.Unix(1_700_000_000, 0)
	for i := 0; i < KeptNotes+3; i++ {
		must(t, s.AddPlayerNote("New", "Old", "note "+strconv.Itoa(i), at.Add(time.Duration(i)*time.Second)))
	}
	notes, err := s.PlayerNotes("new")
	if err != nil || len(notes) != KeptNotes || notes[0].Body != "note 3" || notes[len(notes)-1].Author != "Old" {
		t.Fatalf("notes: %d %v %+v", len(notes), err, notes[:1])
	}
	if _, err := s.RenamePlayer("New", "Newer"); err != nil {
		t.Fatal(err)
	}
	if notes, err := s.PlayerNotes("newer"); err != nil || len(notes) != KeptNotes {
		t.Errorf("notes after rename: %d %v", len(notes), err)
	}
	must(t, s.DeletePlayer("Newer"))
	must(t, s.CreatePlayer(&player.Player{Name: "Newer", PasswordHash: "x", CreatedAt: time.Now()}))
	if notes, err := s.PlayerNotes("newer"); err != nil || len(notes) != 0 {
		t.Errorf("a new account of the name inherited %d notes (%v)", len(notes), err)
	}
	// Migration 6 locks the previous build out (an invisible admin would
	// be shown there): TestMigration6LocksOutTheBuildBefore.
}

// TestRecentLogins: 'last' reads the newest logins of anyone, newest
// first, bounded.
func TestRecentLogins(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"Ann", "Bea", "Cat"} {
		must(t, s.CreatePlayer(&player.Player{Name: n, PasswordHash: "x", CreatedAt: time.Now()}))
	}
	base := time.Unix(1_700_000_000, 0)
	must(t, s.NoteLogin("Ann", "10.0.0.1", base))
	must(t, s.NoteLogin("Bea", "10.0.0.2", base.Add(time.Minute)))
	must(t, s.NoteLogin("Cat", "10.0.0.3", base.Add(2*time.Minute)))
	must(t, s.NoteLogin("Ann", "10.0.0.1", base.Add(3*time.Minute)))
	got, err := s.RecentLogins(3)
	if err != nil || len(got) != 3 || got[0].Name != "Ann" || got[1].Name != "Cat" || got[2].Name != "Bea" {
		t.Errorf("recent logins: %+v %v", got, err)
	}
}

// TestDeleteRoom: the room goes with its exits both ways, and players in
// it or at home there are sent to the start room.
func TestDeleteRoom(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t, s.SaveRoom(&Room{ID: "main", Name: "Main"}))
	must(t, s.SaveRoom(&Room{ID: "ann.den", Name: "Den", Owner: "ann", Exits: []string{"main"}}))
	must(t, s.SaveRoom(&Room{ID: "lobby", Name: "Lobby", Exits: []string{"main", "ann.den"}}))
	must(t, s.CreatePlayer(&player.Player{Name: "Ann", PasswordHash: "x", CreatedAt: time.Now(), Room: "ann.den", Home: "ann.den"}))
	must(t, s.DeleteRoom("ann.den"))
	rooms, err := s.Rooms()
	if err != nil || len(rooms) != 2 {
		t.Fatalf("rooms: %v %+v", err, rooms)
	}
	for _, r := range rooms {
		if r.ID == "lobby" && (len(r.Exits) != 1 || r.Exits[0] != "main") {
			t.Errorf("lobby's exits: %v", r.Exits)
		}
	}
	if p, err := s.Player("ann"); err != nil || p.Room != "" || p.Home != "" {
		t.Errorf("ann: %+v %v", p, err)
	}
	if err := s.DeleteRoom("ann.den"); err != ErrNotFound {
		t.Errorf("deleting again: %v", err)
	}
}
