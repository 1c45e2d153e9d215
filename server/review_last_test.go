package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

// TestLastAndExamineKeepInvisibleStaffOffline: to a lower rank, 'last
// <name>' and 'examine' of an invisible member of staff who is on say what
// they would if they were off: when they were last seen (their last
// visible logout, or turning invisible), not that they just logged in;
// staff of their rank and above see them on. Logging out and in while
// invisible leaves that time alone; turning visible is seen as a login.
func TestLastAndExamineKeepInvisibleStaffOffline(t *testing.T) {
	clock := &textClock{}
	ts := startServer(t, clock.config())
	alice := ts.account("Alice", player.Resident)
	boss := ts.account("Boss", player.Admin)
	sue := ts.account("Sue", player.Staff)
	sue.Send("invis on")
	sue.Expect("You are now invisible")
	wentInvisible := ts.player(t, "sue").LastSeen
	clock.advance(3 * time.Hour)
	sue.Send("quit")
	sue.WaitClosed()
	if got := ts.player(t, "sue").LastSeen; !got.Equal(wentInvisible) {
		t.Errorf("logging out while invisible moved LastSeen from %v to %v", wentInvisible, got)
	}
	clock.advance(2 * time.Hour)
	ask := func(c *talkertest.Client, cmd, until string) string {
		c.Quiet(100 * time.Millisecond)
		c.Send(cmd)
		return c.Expect(until)
	}
	offline := ask(alice, "last sue", ").")
	if !strings.Contains(offline, "Sue was last on 5 hours ago ("+wentInvisible.Format("Mon 2 Jan 15:04")+").") {
		t.Fatalf("last sue while she is off:\n%s", offline)
	}
	offlineX := ask(alice, "x sue", "Total time")

	sue = ts.login("Sue") // invisible
	if got := ask(alice, "last sue", ")."); got != offline {
		t.Errorf("last sue while she is on, invisible:\n%s\nwhile she was off:\n%s", got, offline)
	}
	if got := ask(alice, "x sue", "Total time"); got != offlineX {
		t.Errorf("examine sue while she is on, invisible:\n%s\nwhile she was off:\n%s", got, offlineX)
	}
	boss.Send("last sue")
	boss.Expect("Sue is on now")
	// 'last' lists her login from before she turned invisible, which
	// everyone saw, and not the one since, on or off.
	sueLogins := func() int {
		ask(alice, "last", "Recent logins, newest first:")
		n := 0
		for _, l := range strings.Split(alice.Quiet(200*time.Millisecond), "\n") {
			if strings.HasPrefix(l, "Sue ") {
				n++
			}
		}
		return n
	}
	if n := sueLogins(); n != 1 {
		t.Errorf("'last' lists %d logins of Sue while she is on, invisible; want 1 (the visible one)", n)
	}
	boss.Send("last")
	boss.Expect("Recent logins")
	if got := boss.Quiet(200 * time.Millisecond); strings.Count(got, "\nSue ") != 2 {
		t.Errorf("an admin's 'last' does not list both logins of Sue:\n%s", got)
	}
	sue.Send("quit")
	sue.WaitClosed()
	if n := sueLogins(); n != 1 {
		t.Errorf("'last' lists %d logins of Sue after she logged out invisible; want 1", n)
	}
	sue = ts.login("Sue")

	sue.Send("vis")
	sue.Expect("You are visible again.")
	alice.Send("last sue")
	alice.Expect("Sue is on now")
}
