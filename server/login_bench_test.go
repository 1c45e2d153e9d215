package server

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

// TestLookCountsTheCrowdAroundInvisibleStaff: in a room of more people
// than 'look' names, the count of the others leaves out invisible staff
// for those below them and counts them for those above, as invisibility
// and rank change (the room's count of its invisible staff, which lets
// 'look' skip asking of every member whether it may be seen).
func TestLookCountsTheCrowdAroundInvisibleStaff(t *testing.T) {
	ts := startServer(t)
	for i := 0; i < lookNames+2; i++ { // residents: 32, named first
		ts.account("Crowd"+string(rune('a'+i/26))+string(rune('a'+i%26)), player.Resident)
	}
	boss := ts.account("Boss", player.Admin)
	sue := ts.account("Sue", player.Staff)
	sue.Send("invis on")
	sue.Expect("You are now invisible")
	// Zed sees the 32 residents and Boss: 30 named, 3 more.
	zed := ts.account("Zed", player.Resident)
	lookSays := func(c *talkertest.Client, more int) {
		t.Helper()
		c.Send("look")
		c.Expect(" and " + strconv.Itoa(more) + " others ('who' lists everyone).")
	}
	lookSays(zed, 3)
	lookSays(boss, 4) // the 32, Sue and Zed
	lookSays(sue, 4)  // the 32, Boss and Zed
	sue.Send("invis off")
	sue.Expect("You are visible again.")
	lookSays(zed, 4)
	sue.Send("invis on")
	sue.Expect("You are now invisible")
	lookSays(zed, 3)
	boss.Send("demote sue resident")
	boss.Expect("Sue is now resident")
	lookSays(zed, 4) // invisible, but no longer staff: seen
	boss.Send("promote sue staff")
	boss.Expect("Sue is now staff")
	lookSays(zed, 3)
	sue.Send("quit")
	sue.WaitClosed()
	lookSays(zed, 3) // she has gone: the count is not off by one
	lookSays(boss, 3)
}

// BenchmarkRegistrations is issue 16's login path end to end: a new
// client registers through the whole login dialogue (name, yes, password
// twice, at hash cost 4) and lands in the start room, with
// $TALKER_BENCH_SESSIONS (500) already there. It asserts that each one
// ended in the room and that the accounts exist.
func BenchmarkRegistrations(b *testing.B) {
	ts := startServer(b)
	n := benchSessions()
	for i := 0; i < n; i++ {
		ts.newPlayer("Crowd" + benchName(i))
	}
	made := 0
	start := time.Now()
	for b.Loop() {
		c := ts.newPlayer("Bench" + benchName(made))
		c.Send("quit")
		c.WaitClosed()
		made++
	}
	b.ReportMetric(float64(made)/time.Since(start).Seconds(), "logins/s")
	b.StopTimer()
	for _, name := range []string{"Bench" + benchName(0), "Bench" + benchName(made-1)} {
		if exists, err := ts.srv.Store().PlayerExists(name); err != nil || !exists {
			b.Fatalf("%s registered but not stored: %v", name, err)
		}
	}
}

// benchName spells i in letters (names are letters only).
func benchName(i int) string {
	return string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

// TestRoomGMCPCountFollowsClients: a link-dead session that entered the
// room without GMCP and is resumed from a GMCP client is sent
// Room.AddPlayer and Room.RemovePlayer, as the only GMCP client there (the
// room's count of GMCP clients, which lets an arrival skip the loop over
// the members when there are none, follows the session's new client).
func TestRoomGMCPCountFollowsClients(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	carol := ts.newPlayer("Carol") // no GMCP
	bob := ts.newPlayer("Bob")     // no GMCP
	dropAndWait(t, carol, bob, "Carol")
	again := ts.gmcpDial()
	if got := again.Login("carol", "secret-Carol"); !strings.Contains(got, "taken over your session") {
		t.Fatalf("not a resumed session:\n%s", got)
	}
	dave := ts.newPlayer("Dave")
	again.ExpectGMCP(`Room.AddPlayer {"name":"Dave"`)
	dave.Send("quit")
	again.ExpectGMCP(`Room.RemovePlayer "Dave"`)
}
