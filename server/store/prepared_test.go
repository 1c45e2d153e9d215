package store

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"talker/player"
)

// TestEnterPlayer: a registration's account and login record are written
// together, a second registration of the name is refused as taken and
// leaves no record, a login updates the account and keeps only the
// newest KeptLogins records, and all of it is there after a reopen.
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
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
