package server

import (
	"database/sql"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

// atOnce has the clients type their passwords (name, password) while no
// hash may start, then starts all their checks and holds the world until
// every result is queued: the world takes them as one batch of logins
// (batchLogins), written in one transaction.
func (ts *testServer) atOnce(t *testing.T, logins map[*talkertest.Client]string) {
	t.Helper()
	var slots int
	ts.srv.world.do(func(w *World) { slots, w.hashSlots = w.hashSlots, 0 })
	for c, name := range logins {
		c.Expect("enter your name: ")
		c.Send(name)
		c.Expect("Password: ")
		c.Send("secret-" + name)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var queued int
		ts.srv.world.do(func(w *World) { queued = w.hashes.members.len() })
		if queued == len(logins) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d checks queued", queued, len(logins))
		}
		time.Sleep(5 * time.Millisecond)
	}
	var results int
	ts.srv.world.do(func(w *World) {
		w.hashSlots = max(slots, len(logins))
		w.dispatchHashes()
		w.hashSlots = slots
		for deadline := time.Now().Add(10 * time.Second); len(w.events) < len(logins) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		results = len(w.events)
	})
	if results != len(logins) {
		t.Fatalf("%d events queued, want the %d results alone", results, len(logins))
	}
}

// TestLoginBatchOneWriteFails: of two logins written in one transaction,
// the one whose writes fail (a trigger refuses its login record) is not
// let in, and its account is as it was; the other is let in and written.
// Once the writes work again, the first logs in.
func TestLoginBatchOneWriteFails(t *testing.T) {
	ts := startServer(t)
	for _, name := range []string{"Bob", "Carol"} {
		if _, err := CreateAccount(&ts.cfg, ts.srv.Store(), name, "secret-"+name, player.Resident); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+ts.srv.Store().Path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse_bob BEFORE INSERT ON logins WHEN NEW.player = 'bob'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	bob, carol := ts.dial(), ts.dial()
	ts.atOnce(t, map[*talkertest.Client]string{bob: "Bob", carol: "Carol"})
	bob.Expect("Sorry, something went wrong logging you in. Please try again.")
	bob.Expect("enter your name: ")
	carol.Expect("Welcome")
	carol.Expect("Exits:")
	var bobOn, carolOn bool
	ts.srv.world.do(func(w *World) {
		bobOn, carolOn = w.online[player.Key("Bob")] != nil, w.online[player.Key("Carol")] != nil
	})
	if bobOn || !carolOn {
		t.Errorf("online: Bob %v (want false), Carol %v (want true)", bobOn, carolOn)
	}
	if p := ts.player(t, "Bob"); p.Logins != 0 || p.LastAddress != "" {
		t.Errorf("Bob's account was written: %d logins, last from %q", p.Logins, p.LastAddress)
	}
	if l, err := ts.srv.Store().Logins("Bob"); err != nil || len(l) != 0 {
		t.Errorf("Bob's login records: %v %+v", err, l)
	}
	if p := ts.player(t, "Carol"); p.Logins != 1 || p.LastAddress == "" {
		t.Errorf("Carol's account: %d logins, last from %q", p.Logins, p.LastAddress)
	}
	if l, err := ts.srv.Store().Logins("Carol"); err != nil || len(l) != 1 {
		t.Errorf("Carol's login records: %v %+v", err, l)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse_bob`); err != nil {
		t.Fatal(err)
	}
	bob.Send("Bob")
	bob.Expect("Password: ")
	bob.Send("secret-Bob")
	bob.Expect("Welcome")
	bob.Expect("Exits:")
	if p := ts.player(t, "Bob"); p.Logins != 1 {
		t.Errorf("Bob's account after logging in: %d logins", p.Logins)
	}
}

// TestLoginBatchSameAccountTwice: two connections whose checks of the same
// account's password end together are not let in side by side: the
// second takes over the first one's session, as when they come one after
// the other (the batch is written before the second is handled).
func TestLoginBatchSameAccountTwice(t *testing.T) {
	ts := startServer(t)
	if _, err := CreateAccount(&ts.cfg, ts.srv.Store(), "Dave", "secret-Dave", player.Resident); err != nil {
		t.Fatal(err)
	}
	one, two := ts.dial(), ts.dial()
	ts.atOnce(t, map[*talkertest.Client]string{one: "Dave", two: "Dave"})
	var sessions int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ts.srv.world.do(func(w *World) {
			sessions = 0
			for _, s := range w.sessions {
				if s.Player != nil && s.Player.Key() == "dave" {
					sessions++
				}
			}
		})
		if p := ts.player(t, "Dave"); p.Logins == 1 && sessions == 1 {
			break
		}
	}
	if p := ts.player(t, "Dave"); p.Logins != 1 || sessions != 1 {
		t.Errorf("Dave: %d logins written, %d sessions playing; want 1 and 1", p.Logins, sessions)
	}
}
