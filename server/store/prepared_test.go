package store

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"talker/player"
)

// TestEnterPlayer: a registration's account and login record are written
// together, a second registration of the name is refused as taken and
// leaves no record, a login updates the account and keeps only the
// newest KeptLogins records, and all of it is there after a reopen.
// reopen closes s and opens the database in dir again, closed when the
// test ends: what was written must be on disk, not in a cache.
func reopen(t *testing.T, s *Store, dir string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestEnterPlayer(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_700_000_000, 0)
	p := &player.Player{Name: "Alice", PasswordHash: "h", CreatedAt: at, LastSeen: at, LastAddress: "10.0.0.1", Logins: 1}
	before := s.NamesChanged()
	if err := s.EnterPlayer(p, true, "10.0.0.1", at); err != nil {
		t.Fatal(err)
	}
	if s.NamesChanged() != before+1 {
		t.Errorf("NamesChanged: %d, want %d", s.NamesChanged(), before+1)
	}
	again := &player.Player{Name: "alice", PasswordHash: "other", CreatedAt: at}
	if err := s.EnterPlayer(again, true, "10.0.0.2", at); !errors.Is(err, ErrNameTaken) || err.Error() != "the name alice is already taken" {
		t.Errorf("second registration: %v", err)
	}
	if l, err := s.Logins("Alice"); err != nil || len(l) != 1 || l[0].Addr != "10.0.0.1" {
		t.Errorf("logins after the refused registration: %v %+v", err, l)
	}
	for i := 0; i < KeptLogins+5; i++ {
		p.Logins++
		p.LastAddress = "10.0.1." + strconv.Itoa(i)
		if err := s.EnterPlayer(p, false, p.LastAddress, at.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EnterPlayer(&player.Player{Name: "Nobody"}, false, "x", at); !errors.Is(err, ErrNotFound) {
		t.Errorf("login of a missing account: %v", err)
	}
	s = reopen(t, s, dir)
	got, err := s.Player("alice")
	if err != nil || got.PasswordHash != "h" || got.Logins != KeptLogins+6 || got.LastAddress != "10.0.1."+strconv.Itoa(KeptLogins+4) {
		t.Errorf("reopened: %v %+v", err, got)
	}
	l, err := s.Logins("Alice")
	if err != nil || len(l) != KeptLogins || l[0].Addr != got.LastAddress {
		t.Errorf("kept logins: %v %d, newest %+v", err, len(l), l[0])
	}
	if exists, _ := s.PlayerExists("Nobody"); exists {
		t.Error("a login of a missing account made it")
	}
}

// BenchmarkEnterPlayer is the store's part of a registration through the
// login dialogue: the account, its login record and the trimming, one
// transaction (store.EnterPlayer), then the login's reads of the mail and
// news counts. It asserts that every account and record was written.
func BenchmarkEnterPlayer(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := time.Unix(1_700_000_000, 0)
	n := 0
	for b.Loop() {
		name := "Bench" + nameOf(n)
		p := &player.Player{Name: name, PasswordHash: "$2a$04$abcdefghijklmnopqrstuuvwxyzabcdefghijklmnopqrstuvwxyz", CreatedAt: at,
			LastSeen: at, LastAddress: "127.0.0.1", Logins: 1, Room: "main"}
		if err := s.EnterPlayer(p, true, "127.0.0.1", at); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.CountMail(p.Key()); err != nil {
			b.Fatal(err)
		}
		if _, err := s.UnreadNews(p.Key()); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	var players, logins int
	if err := s.db.QueryRow("SELECT (SELECT COUNT(*) FROM players WHERE key LIKE 'bench%'), (SELECT COUNT(*) FROM logins)").Scan(&players, &logins); err != nil {
		b.Fatal(err)
	}
	if players != n || logins != n {
		b.Fatalf("%d registrations made %d accounts and %d login records", n, players, logins)
	}
}

// nameOf spells n in letters (names are letters only).
func nameOf(n int) string {
	out := []byte{}
	for {
		out = append(out, byte('a'+n%26))
		n /= 26
		if n == 0 {
			return string(out)
		}
	}
}

// TestEnterPlayers: several logins in one transaction. An entry whose
// writes fail leaves nothing, not even the part that had succeeded (a
// registration whose login record cannot be written has no account), and
// the others are committed: a name taken, the login of an account gone
// and a login record refused (a trigger standing in for a failing write)
// each fail alone; the rest is there after a reopen.
func TestEnterPlayers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_700_000_000, 0)
	newP := func(name string) *player.Player {
		return &player.Player{Name: name, PasswordHash: "h-" + name, CreatedAt: at, LastSeen: at, Logins: 1}
	}
	bob := newP("Bob")
	if err := s.EnterPlayer(bob, true, "10.0.0.9", at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`CREATE TRIGGER refuse_eve BEFORE INSERT ON logins WHEN NEW.player = 'eve'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	bob.Logins = 2
	before := s.NamesChanged()
	es := []Entry{
		{Player: newP("Alice"), Create: true, Addr: "10.0.0.1", At: at},
		{Player: newP("bob"), Create: true, Addr: "10.0.0.2", At: at},    // taken
		{Player: newP("Carol"), Create: false, Addr: "10.0.0.3", At: at}, // no such account
		{Player: newP("Eve"), Create: true, Addr: "10.0.0.5", At: at},    // its login record fails
		{Player: bob, Create: false, Addr: "10.0.0.4", At: at.Add(time.Minute)},
		{Player: newP("Dave"), Create: true, Addr: "10.0.0.6", At: at},
	}
	s.EnterPlayers(es)
	for i, want := range []error{nil, ErrNameTaken, ErrNotFound, nil, nil, nil} {
		switch {
		case want != nil && !errors.Is(es[i].Err, want):
			t.Errorf("%s: %v, want %v", es[i].Player.Name, es[i].Err, want)
		case i == 3 && (es[i].Err == nil || !strings.Contains(es[i].Err.Error(), "injected failure")):
			t.Errorf("Eve: %v, want the injected failure", es[i].Err)
		case want == nil && i != 3 && es[i].Err != nil:
			t.Errorf("%s: %v", es[i].Player.Name, es[i].Err)
		}
	}
	if got := s.NamesChanged(); got != before+2 {
		t.Errorf("NamesChanged: %d, want %d (Alice and Dave)", got, before+2)
	}
	s = reopen(t, s, dir)
	for _, name := range []string{"Alice", "Dave"} {
		if l, err := s.Logins(name); err != nil || len(l) != 1 {
			t.Errorf("%s's login records: %v %+v", name, err, l)
		}
	}
	if got, err := s.Player("bob"); err != nil || got.PasswordHash != "h-Bob" || got.Logins != 2 {
		t.Errorf("Bob: %v %+v", err, got)
	}
	if l, err := s.Logins("Bob"); err != nil || len(l) != 2 || l[0].Addr != "10.0.0.4" {
		t.Errorf("Bob's login records: %v %+v", err, l)
	}
	for _, name := range []string{"Carol", "Eve"} {
		if exists, _ := s.PlayerExists(name); exists {
			t.Errorf("%s's failed entry left an account", name)
		}
	}
}

// BenchmarkEnterPlayers is what a batch of registrations written in one
// transaction (store.EnterPlayers, a savepoint each) costs per login, by
// batch size: 1 is EnterPlayer. It asserts that every account and record
// was written.
func BenchmarkEnterPlayers(b *testing.B) {
	for _, size := range []int{1, 2, 8, 64} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			at := time.Unix(1_700_000_000, 0)
			n := 0
			es := make([]Entry, size)
			for b.Loop() {
				for i := range es {
					p := &player.Player{Name: "Bench" + nameOf(n), PasswordHash: "$2a$04$abcdefghijklmnopqrstuuvwxyzabcdefghijklmnopqrstuvwxyz",
						CreatedAt: at, LastSeen: at, LastAddress: "127.0.0.1", Logins: 1, Room: "main"}
					es[i] = Entry{Player: p, Create: true, Addr: "127.0.0.1", At: at}
					n++
				}
				s.EnterPlayers(es)
				for i := range es {
					if es[i].Err != nil {
						b.Fatal(es[i].Err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/login")
			var players, logins int
			if err := s.db.QueryRow("SELECT (SELECT COUNT(*) FROM players WHERE key LIKE 'bench%'), (SELECT COUNT(*) FROM logins)").Scan(&players, &logins); err != nil {
				b.Fatal(err)
			}
			if players != n || logins != n {
				b.Fatalf("%d registrations made %d accounts and %d login records", n, players, logins)
			}
		})
	}
}
