package cli

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

// missedOnceInOrder fails the test unless each of lines is in text exactly
// once, in the order given.
func missedOnceInOrder(t *testing.T, text string, lines ...string) {
	t.Helper()
	last := -1
	for _, l := range lines {
		if n := strings.Count(text, l); n != 1 {
			t.Errorf("%q shown %d times, want once:\n%s", l, n, text)
			continue
		}
		at := strings.Index(text, l)
		if at < last {
			t.Errorf("%q out of order:\n%s", l, text)
		}
		last = at
	}
}

// TestLinkDeadSurvivesReboot: a player whose TCP connection dropped is
// kept, link-dead, with no socket at all; a seamless reboot carries the
// session, what it missed before and the time left; logging in again in
// the new generation resumes it, with the lines said before and after the
// reboot shown once, in order.
func TestLinkDeadSurvivesReboot(t *testing.T) {
	lt := startTalker(t)
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	alice.Send("go lounge")
	alice.Expect("The Lounge")
	bob := lt.dial()
	bob.Register("Bob", "bob-pw-12")
	bob.Send("go lounge")
	bob.Expect("Alice is here")
	alice.Close()
	bob.Expect("Alice has lost their connection.")
	bob.Send("say before the reboot")
	bob.Expect("You say 'before the reboot'")

	lt.reboot()
	bob.Expect("Reboot complete")
	bob.Send("who")
	if who := bob.Expect("newbie)"); !strings.Contains(who, "link-dead") {
		t.Errorf("after the reboot, who does not show Alice link-dead:\n%s", who)
	}
	bob.Send("say after the reboot")
	bob.Expect("You say 'after the reboot'")

	again := lt.dial()
	got := again.Login("alice", "alice-pw")
	bob.Expect("Alice has reconnected.")
	again.Quiet(200 * time.Millisecond)
	if !strings.Contains(got, "taken over your session") || !strings.Contains(got, "The Lounge") {
		t.Errorf("resume transcript:\n%s", got)
	}
	missedOnceInOrder(t, again.Text(), "Bob says 'before the reboot'", "Bob says 'after the reboot'")
	again.Send("say back after a reboot")
	bob.Expect("Alice says 'back after a reboot'")
}

// TestLinkDeadWindowCarriedAcrossReboot: the time left travels with the
// session: a reboot does not start the window again, and when it ends the
// new generation tells the room that the player left.
func TestLinkDeadWindowCarriedAcrossReboot(t *testing.T) {
	lt := startTalker(t, "--link-dead", "4s")
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	bob := lt.dial()
	bob.Register("Bob", "bob-pw-12")
	alice.Expect("Bob arrives.")
	alice.Close()
	dropped := time.Now()
	bob.Expect("Alice has lost their connection.")
	time.Sleep(2 * time.Second)
	lt.reboot()
	bob.Expect("Reboot complete")
	if _, ok := bob.TryExpect("Alice has left the talker.", 6*time.Second); !ok {
		t.Fatalf("the link-dead session never ended after the reboot:\n%s", bob.Text())
	}
	if d := time.Since(dropped); d > 6500*time.Millisecond {
		t.Errorf("ended %v after the drop: the reboot started the 4 s window again", d)
	}
}

// TestLinkDeadSurvivesKill9: the angel's checkpoints carry a link-dead
// session (in the system state, as it has no socket to hold): after kill -9
// the recovered generation still has it, and a login resumes it with the
// lines missed before and after the crash, once, in order.
func TestLinkDeadSurvivesKill9(t *testing.T) {
	la := startAngel(t)
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	bob := la.dialClient()
	bob.Register("Bob", "bob-pw-12")
	alice.Expect("Bob arrives.")
	alice.Close()
	bob.Expect("Alice has lost their connection.")
	bob.Send("say before the crash")
	bob.Expect("You say 'before the crash'")
	// Missed lines reach the angel's copy at most once a second
	// (linkDeadCheckpointEvery), at the next 200 ms checkpoint.
	time.Sleep(1500 * time.Millisecond)

	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	bob.Expect("tripped over something and recovered")
	bob.Send("who")
	if who := bob.Expect("newbie)"); !strings.Contains(who, "link-dead") {
		t.Errorf("after the crash, who does not show Alice link-dead:\n%s", who)
	}
	bob.Send("say after the crash")
	bob.Expect("You say 'after the crash'")
	again := talkertest.Dial(t, la.addr, talkertest.Options{Width: 200, Height: 50})
	again.Login("alice", "alice-pw")
	bob.Expect("Alice has reconnected.")
	again.Quiet(200 * time.Millisecond)
	missedOnceInOrder(t, again.Text(), "Bob says 'before the crash'", "Bob says 'after the crash'")
}
