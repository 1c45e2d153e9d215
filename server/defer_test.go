package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/reboot"
	"talker/server/telnet"
)

// TestRebootDefersInputAndReplaysOnRollback: once a reboot has begun, a
// line that would start a password check waits; once connections pause,
// everything queued or typed waits too, and the snapshot carries it. When
// the reboot is rolled back, all of it is handled here, in order, once.
func TestRebootDefersInputAndReplaysOnRollback(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	if _, err := CreateAccount(&ts.cfg, ts.srv.Store(), "Carol", "secret-Carol", player.Resident); err != nil {
		t.Fatal(err)
	}
	carol := ts.dial()
	carol.Expect("enter your name: ")
	carol.Send("Carol")
	carol.Expect("Password: ")

	s := ts.srv
	heldBy := func(name string) (n int) {
		s.world.do(func(w *World) {
			for _, ss := range w.sessions {
				if ss.Login.Name == name || (ss.Player != nil && ss.Player.Name == name) {
					for _, ev := range ss.held {
						if ev.Kind == telnet.EventLine {
							n++
						}
					}
				}
			}
		})
		return n
	}
	waitHeld := func(name string, want int) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); heldBy(name) != want; {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d held events, want %d", name, heldBy(name), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// A reboot has begun: the password waits instead of being checked.
	s.world.do(func(w *World) { w.rebooting = true })
	carol.Send("secret-Carol")
	waitHeld("Carol", 1)
	alice.Send("say before the pause")
	bob.Expect("Alice says 'before the pause'")

	// Connections pause while the world still has a line of Alice's
	// queued: that line is held, not handled; what she types after the
	// pause stays unread (her reader is frozen).
	s.pauseAccept()
	done := make(chan struct{})
	go s.world.do(func(w *World) {
		alice.Send("say queued before the pause")
		for deadline := time.Now().Add(2 * time.Second); len(w.events) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		w.startQuiesce(done)
	})
	<-done
	waitHeld("Alice", 1)
	alice.Send("say typed during the pause")
	if _, ok := bob.TryExpect("during the pause", 100*time.Millisecond); ok {
		t.Fatal("input was handled during the pause")
	}

	// The snapshot carries both, for the next generation to handle.
	var state []byte
	var err error
	s.world.do(func(w *World) {
		state, _, err = w.snapshot(reboot.ModeReboot, &RebootTimings{Mode: reboot.ModeReboot}, nil, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := decodeSnapshot(state)
	if err != nil {
		t.Fatal(err)
	}
	carried := map[string]string{}
	for _, raw := range snap.Sessions {
		var st SessionState
		if err := codecFor(snap.Version).unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		name := st.Login.Name
		if st.Player != nil {
			name = st.Player.Name
		}
		for _, ev := range st.Held {
			carried[name] += string(ev.Line)
		}
	}
	if carried["Alice"] != "say queued before the pause" || carried["Carol"] != "secret-Carol" {
		t.Errorf("held input in the snapshot: %q", carried)
	}

	// Rolled back: everything is handled here after all, once.
	s.resume()
	s.world.do(func(w *World) {
		w.rebooting = false
		w.replayHeld()
	})
	bob.Expect("Alice says 'queued before the pause'")
	bob.Expect("Alice says 'typed during the pause'")
	carol.Expect("Welcome")
	alice.Send("say after")
	bob.Expect("Alice says 'after'")
	for _, line := range []string{"queued before the pause", "typed during the pause"} {
		if n := strings.Count(bob.Text(), line); n != 1 {
			t.Errorf("%q was handled %d times", line, n)
		}
	}
	if heldBy("Alice")+heldBy("Carol") != 0 {
		t.Error("input still held after the rollback")
	}
}
