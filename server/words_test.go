package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
)

// The words of issue 14: what players read says what happened.

func TestTellsSayTell(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	telly := ts.newPlayer("Telly")
	for _, c := range []struct{ msg, you, they string }{
		{"hello there", "You tell Telly 'hello there'", "Boss tells you 'hello there'"},
		{"ready?", "You ask Telly 'ready?'", "Boss asks you 'ready?'"},
		{"wow!", "You exclaim to Telly 'wow!'", "Boss exclaims to you 'wow!'"},
	} {
		boss.Send("tell telly " + c.msg)
		boss.Expect(c.you)
		telly.Expect(c.they)
	}
	telly.Send("reply fine")
	telly.Expect("You tell Boss 'fine'")
	boss.Expect("Telly tells you 'fine'")
}

func TestShoutsAlwaysSayShout(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	telly := ts.newPlayer("Telly")
	for _, msg := range []string{"anyone about?", "fire!", "hello"} {
		boss.Send("shout " + msg)
		boss.Expect("You shout '" + msg + "'")
		telly.Expect("Boss shouts '" + msg + "'")
	}
}

func TestTitleReadsAsASentenceInTheRoom(t *testing.T) {
	ts := startServer(t)
	telly := ts.newPlayer("Telly")
	boss := ts.newPlayer("Boss")
	telly.Send("title is trying things out")
	telly.Expect("title")
	boss.Send("look")
	got := boss.Expect("Telly is trying things out.")
	if strings.Contains(got, "out is here") {
		t.Errorf("the presence line reads badly:\n%s", got)
	}
	telly.Send("title -")
	telly.Expect("removed")
	boss.Send("look")
	boss.Expect("Telly is here.")
}

func TestPemoteIsThePossessiveEmote(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	telly := ts.newPlayer("Telly")
	boss.Send("pemote hat falls off")
	telly.Expect("Boss's hat falls off")
	boss.Send("::shoes squeak")
	telly.Expect("Boss's shoes squeak")
	boss.Send("::)")
	telly.Expect("Boss :)")
	boss.Send("remote telly waves")
	telly.Expect("Boss waves")
	boss.Send("help pemote")
	boss.Expect("possessive")
}

func TestUptimeCountsRecoveriesApart(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	boss.Send("uptime")
	boss.Expect("(0 seamless reboots, 0 crash recoveries)")
	ts.srv.Do(func(w *World) {
		w.system.Reboots, w.system.Recoveries = 1, 2
		w.system.LastReboot = &RebootTimings{Mode: "recover", At: w.cfg.Now(), By: "the angel"}
	})
	boss.Send("uptime")
	boss.Expect("(1 seamless reboot, 2 crash recoveries)")
	boss.Expect("Last crash recovery")
	// Carried across a reboot in the system state.
	var again SystemState
	ts.srv.Do(func(w *World) {
		rec := w.systemRecord()
		w.restoreSystem(&rec)
		again = w.system
	})
	if again.Reboots != 1 || again.Recoveries != 2 {
		t.Errorf("after a round trip: %d reboots, %d recoveries", again.Reboots, again.Recoveries)
	}
}

func TestUnbanTakesTheFormsBanDoes(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	sue.Send("ban name troll")
	sue.Expect("Banned the name troll")
	sue.Send("unban name troll")
	sue.Expect("The ban on name troll is lifted.")
	sue.Send("ban site 10.0.0.1")
	sue.Expect("Banned the site 10.0.0.1")
	sue.Send("unban name 10.0.0.1")
	sue.Expect("There is no ban on 'name 10.0.0.1'")
	sue.Send("unban site 10.0.0.1")
	sue.Expect("The ban on site 10.0.0.1 is lifted.")
	sue.Send("ban name troll")
	sue.Expect("Banned the name troll")
	sue.Send("unban troll")
	sue.Expect("The ban on name troll is lifted.")
	sue.Send("help unban")
	sue.Expect("unban name <name>")
}

func TestRoomLinkByShortName(t *testing.T) {
	ts := startServer(t)
	tinny := ts.account("Tinny", player.Resident)
	tinny.Send("home")
	tinny.Expect("tinny.home")
	tinny.Send("room create den")
	tinny.Expect("tinny.den")
	tinny.Send("room link home")
	tinny.Expect("Linked: there are exits both ways between tinny.den and tinny.home.")
	tinny.Send("room unlink home")
	tinny.Expect("The exit to tinny.home is gone.")
}

func TestWhoExplainsItsMarks(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	boss.Send("who")
	boss.Expect("(* admin, ^ staff, _ newbie)")
}

func TestShutdownNeedsNowOrSeconds(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	alice := ts.newPlayer("Alice")
	boss.Send("shutdown")
	boss.Expect("Type 'shutdown now [reason]' to stop at once")
	boss.Send("shutdown maintenance")
	boss.Expect("Type 'shutdown now [reason]' to stop at once")
	boss.Send("shutdown 0")
	boss.Expect("between 1 and 86400 seconds")
	select {
	case <-ts.srv.ShutdownRequested():
		t.Fatal("'shutdown' alone stopped the talker")
	case <-time.After(200 * time.Millisecond):
	}
	boss.Send("shutdown 600")
	boss.Expect("The angel stops too: the talker stays down until someone runs 'talker start'")
	alice.Expect("*** The talker will shut down in 10 minutes")
	boss.Send("shutdown cancel")
	alice.Expect("cancelled by Boss")

	boss.Send("shutdown now tea time")
	boss.Expect("The angel stops too")
	alice.Expect("*** The talker is shutting down now, by Boss (tea time).")
	<-ts.srv.ShutdownRequested()
	ts.stop() // what the program does next
	alice.WaitClosed()
	if n := strings.Count(alice.Text(), "shutting down"); n != 1 {
		t.Errorf("the shutdown was announced %d times:\n%s", n, alice.Text())
	}
}
