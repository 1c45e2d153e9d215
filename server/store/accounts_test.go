package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"talker/player"
)

// accountsFixture: Alice, with two rooms linked to each other and to the
// main room, who ignores Bob; Bob, who has her as a friend, is in her den
// and has her home as his; mail both ways; a login of each.
func accountsFixture(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	for _, p := range []*player.Player{
		{Name: "Alice", PasswordHash: "a", CreatedAt: now, Room: "alice.home", Home: "alice.home"},
		{Name: "Bob", PasswordHash: "b", CreatedAt: now, Room: "alice.den", Home: "alice.home"},
	} {
		if err := s.CreatePlayer(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*Room{
		{ID: "main", Name: "The Main Room"},
		{ID: "alice.home", Name: "Alice's Home", Owner: "alice"},
		{ID: "alice.den", Name: "The Den", Owner: "alice"},
	} {
		if err := s.SaveRoom(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*Room{
		{ID: "alice.home", Name: "Alice's Home", Owner: "alice", Exits: []string{"main", "alice.den"}},
		{ID: "alice.den", Name: "The Den", Owner: "alice", Exits: []string{"alice.home"}},
	} {
		if err := s.SaveRoom(r); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.SetListEntry("bob", "alice", player.ListEntry{Name: "Alice", Friend: true}))
	must(t, s.SetListEntry("alice", "bob", player.ListEntry{Name: "Bob", Ignore: player.IgnoreAll}))
	must(t, s.SendMail(&Mail{To: "alice", From: "Bob", SentAt: now, Body: "to alice"}))
	must(t, s.SendMail(&Mail{To: "bob", From: "Alice", SentAt: now, Body: "from alice"}))
	must(t, s.NoteLogin("Alice", "10.0.0.1", now))
	must(t, s.NoteLogin("Bob", "10.0.0.1", now.Add(time.Second)))
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func roomsByID(t *testing.T, s *Store) map[string]*Room {
	t.Helper()
	rooms, err := s.Rooms()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Room{}
	for _, r := range rooms {
		out[r.ID] = r
	}
	return out
}

func TestRenamePlayerEverythingFollows(t *testing.T) {
	s := accountsFixture(t)
	moved, err := s.RenamePlayer("alice", "Carol")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(moved) != "map[alice.den:carol.den alice.home:carol.home]" {
		t.Errorf("rooms moved: %v", moved)
	}
	if _, err := s.Player("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old name still loads: %v", err)
	}
	carol, err := s.Player("carol")
	if err != nil || carol.Name != "Carol" || carol.PasswordHash != "a" || carol.Home != "carol.home" || carol.Room != "carol.home" ||
		carol.Lists["bob"].Ignore != player.IgnoreAll {
		t.Fatalf("renamed account: %+v, %v", carol, err)
	}
	bob, _ := s.Player("bob")
	if e := bob.Lists["carol"]; !e.Friend || e.Name != "Carol" || len(bob.Lists) != 1 || bob.Room != "carol.den" || bob.Home != "carol.home" {
		t.Errorf("Bob's list and rooms: %+v", bob)
	}
	if box, _ := s.Mailbox("carol"); len(box) != 1 || box[0].Body != "to alice" {
		t.Errorf("Carol's mailbox: %+v", box)
	}
	if box, _ := s.Mailbox("bob"); len(box) != 1 || box[0].From != "Carol" {
		t.Errorf("mail from her is from Carol now: %+v", box)
	}
	rooms := roomsByID(t, s)
	if h := rooms["carol.home"]; h == nil || h.Name != "Carol's Home" || h.Owner != "carol" || fmt.Sprint(h.Exits) != "[carol.den main]" {
		t.Errorf("home: %+v", h)
	}
	if d := rooms["carol.den"]; d == nil || d.Name != "The Den" || fmt.Sprint(d.Exits) != "[carol.home]" || rooms["alice.home"] != nil {
		t.Errorf("rooms: %+v", rooms)
	}
	if l, _ := s.Logins("carol"); len(l) != 1 || l[0].Name != "Carol" {
		t.Errorf("logins: %+v", l)
	}
	// Taken names are refused; capitals alone may change.
	if _, err := s.RenamePlayer("carol", "bob"); err == nil {
		t.Error("renamed onto an existing account")
	}
	if _, err := s.RenamePlayer("nobody", "Dan"); !errors.Is(err, ErrNotFound) {
		t.Errorf("renaming nobody: %v", err)
	}
	if moved, err := s.RenamePlayer("carol", "CaRol"); err != nil || len(moved) != 0 {
		t.Fatalf("capitals: %v %v", moved, err)
	}
	if p, _ := s.Player("carol"); p.Name != "CaRol" {
		t.Errorf("capitals not changed: %s", p.Name)
	}
}

func TestDeletePlayerTakesWhatIsTheirs(t *testing.T) {
	s := accountsFixture(t)
	if err := s.DeletePlayer("ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Player("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("still there: %v", err)
	}
	bob, _ := s.Player("bob")
	if len(bob.Lists) != 0 || bob.Room != "" || bob.Home != "" {
		t.Errorf("Bob still refers to her: %+v", bob)
	}
	if box, _ := s.Mailbox("bob"); len(box) != 1 {
		t.Errorf("mail she sent went too: %+v", box)
	}
	if box, _ := s.Mailbox("alice"); len(box) != 0 {
		t.Errorf("her mailbox stayed: %+v", box)
	}
	if rooms := roomsByID(t, s); len(rooms) != 1 || len(rooms["main"].Exits) != 0 {
		t.Errorf("rooms left: %+v", rooms)
	}
	var n int
	_ = s.db.QueryRow("SELECT count(*) FROM lists").Scan(&n)
	if l, _ := s.Logins("alice"); len(l) != 0 || n != 0 {
		t.Errorf("logins %v, list rows %d", l, n)
	}
	if err := s.DeletePlayer("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestPasswordsLoginsIdleNewbies(t *testing.T) {
	s := accountsFixture(t)
	if must, err := s.MustChangePassword("alice"); must || err != nil {
		t.Fatalf("a new account must change its password: %v %v", must, err)
	}
	must(t, s.SetPassword("Alice", "new", true))
	if must, _ := s.MustChangePassword("alice"); !must {
		t.Error("one-time password not marked")
	}
	if p, _ := s.Player("alice"); p.PasswordHash != "new" {
		t.Error("hash not set")
	}
	// Saving the player leaves the mark alone (it is not part of Player).
	p, _ := s.Player("alice")
	must(t, s.SavePlayer(p))
	if must, _ := s.MustChangePassword("alice"); !must {
		t.Error("saving the player cleared the mark")
	}
	if err := s.SetPassword("nobody", "x", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("password of nobody: %v", err)
	}
	if _, err := s.MustChangePassword("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("mark of nobody: %v", err)
	}

	base := time.Now()
	for i := 0; i < KeptLogins+5; i++ {
		must(t, s.NoteLogin("alice", fmt.Sprintf("10.0.1.%d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	l, _ := s.Logins("alice")
	if len(l) != KeptLogins || l[0].Addr != fmt.Sprintf("10.0.1.%d", KeptLogins+4) {
		t.Errorf("%d logins kept, newest %+v", len(l), l[0])
	}
	must(t, s.NoteLogin("bob", "10.0.1.24", base))
	others, _ := s.LoginsFrom([]string{"10.0.1.24", "10.0.0.1"}, "alice")
	if len(others) != 2 || others[0].Name != "Bob" {
		t.Errorf("others from her addresses: %+v", others)
	}

	old := time.Now().Add(-48 * time.Hour)
	must(t, s.CreatePlayer(&player.Player{Name: "Stale", PasswordHash: "x", CreatedAt: old, LastSeen: old}))
	must(t, s.CreatePlayer(&player.Player{Name: "Fresh", PasswordHash: "x", CreatedAt: old, LastSeen: time.Now()}))
	must(t, s.CreatePlayer(&player.Player{Name: "Never", PasswordHash: "x", CreatedAt: old}))
	must(t, s.CreatePlayer(&player.Player{Name: "Elder", PasswordHash: "x", CreatedAt: old, LastSeen: old, Rank: player.Resident}))
	idle, err := s.IdleNewbies(time.Now().Add(-24 * time.Hour))
	var names []string
	for _, p := range idle {
		names = append(names, p.Name)
	}
	if err != nil || fmt.Sprint(names) != "[Never Stale]" {
		t.Errorf("idle newbies: %v %v", names, err)
	}
	all, _ := s.Players()
	if len(all) != 6 || all[0].Name != "Alice" {
		t.Errorf("players: %d", len(all))
	}
	last, err := s.LastLogins()
	if err != nil || len(last) != 2 || !last["alice"].Equal(base.Add(time.Duration(KeptLogins+4)*time.Minute)) {
		t.Errorf("last logins: %v %v", last, err)
	}
}

// TestAccountsSchemaReadableByThePreviousBuild: the accounts migration is
// additive: the build before it (which knows two schema versions) opens
// the database, reads and saves players and creates new ones.
func TestAccountsSchemaReadableByThePreviousBuild(t *testing.T) {
	s := accountsFixture(t)
	must(t, s.SetPassword("alice", "otp", true))
	// Migration 6 (staff invisibility) locks out every build before it
	// (TestMigration6LocksOutTheBuildBefore); up to migration 5 the build
	// that knew two versions could use the database, and its meta says so.
	if m := minReader(migrations, 5); m > 2 {
		t.Fatalf("a database at schema 5 needs a build that knows %d versions", m)
	}
	must(t, s.SetMeta(metaMinReader, fmt.Sprint(minReader(migrations, 5))))
	previous := migrations[:2]
	if err := s.migrate(ReadableMigrations, previous); err != nil || s.ahead != len(migrations)-len(previous) {
		t.Fatalf("the previous build: %v, ahead %d", err, s.ahead)
	}
	p, err := s.Player("alice")
	if err != nil || p.PasswordHash != "otp" {
		t.Fatalf("%+v %v", p, err)
	}
	p.Title = "still here"
	must(t, s.SavePlayer(p))
	must(t, s.CreatePlayer(&player.Player{Name: "Later", PasswordHash: "x", CreatedAt: time.Now()}))
	if must, err := s.MustChangePassword("later"); must || err != nil {
		t.Errorf("an account the previous build made: %v %v", must, err)
	}
}
