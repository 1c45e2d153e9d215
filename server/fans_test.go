package server

import (
	"strings"
	"testing"
	"time"
)

// TestBigTalkerTellsOnlyFriendsAboutLogins: above AnnounceAll players,
// logins and logouts go to friends only (not N² lines to everyone).
func TestBigTalkerTellsOnlyFriendsAboutLogins(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AnnounceAll = 1 })
	bob := ts.newPlayer("Bob")
	bob.Send("quit")
	bob.WaitClosed()
	alice := ts.newPlayer("Alice")
	alice.Send("friend bob")
	alice.Expect("Bob")
	carol := ts.newPlayer("Carol")
	carol.Send("go lounge")
	carol.Expect("The Lounge")
	alice.Send("go garden")
	alice.Expect("The Garden")
	alice.Quiet(100 * time.Millisecond)
	carol.Quiet(100 * time.Millisecond)

	bob2 := ts.dial()
	bob2.Login("Bob", "secret-Bob")
	alice.Expect("[ Your friend Bob has connected ]")
	bob2.Send("quit")
	alice.Expect("[ Your friend Bob has disconnected ]")
	if got := carol.Quiet(300 * time.Millisecond); strings.Contains(got, "Bob has") {
		t.Errorf("a non-friend heard about Bob on a big talker: %q", got)
	}
}
