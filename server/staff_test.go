package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
)

func TestRankPermissions(t *testing.T) {
	ts := startServer(t)
	newt := ts.newPlayer("Newt")
	sue := ts.account("Sue", player.Staff)
	sam := ts.account("Sam", player.Staff)
	boss := ts.account("Boss", player.Admin)
	ts.account("Big", player.Admin)

	// A newbie has no staff commands at all.
	for _, c := range []string{"kick sue", "promote newt", "ban site 10.0.0.1", "wall hi", "stafflog", "shutdown"} {
		newt.Send(c)
		newt.Expect("Unknown command '" + strings.Fields(c)[0] + "'")
	}
	sue.Send("shutdown")
	sue.Expect("Unknown command 'shutdown'")

	// Staff act only on lower ranks.
	sue.Send("kick sam")
	sue.Expect("You cannot kick Sam, who is staff: only people below your own rank.")
	sue.Send("demote boss")
	sue.Expect("You cannot demote Boss, who is admin")
	sue.Send("gag boss")
	sue.Expect("You cannot gag Boss")
	sue.Send("jail sam")
	sue.Expect("You cannot jail Sam")
	sue.Send("demote sue")
	sue.Expect("You cannot demote yourself.")
	boss.Send("demote big")
	boss.Expect("You cannot demote Big, who is admin")

	// Promotion: one step, or to a named rank no higher than your own.
	sue.Send("promote newt")
	sue.Expect("Newt is now resident (was newbie).")
	newt.Expect("*** Sue has promoted you to resident.")
	sue.Send("promote newt admin")
	sue.Expect("You cannot promote anyone above your own rank.")
	sue.Send("promote newt wizard")
	sue.Expect("unknown rank")
	boss.Send("promote newt staff")
	boss.Expect("Newt is now staff (was resident).")
	newt.Send("stafflog 1")
	newt.Expect("Boss promote Newt: resident -> staff")
	boss.Send("demote newt")
	boss.Expect("Newt is now resident (was staff).")
	boss.Send("demote newt admin")
	boss.Expect("demoting means a lower rank")
	boss.Send("demote sam")
	boss.Expect("Sam is now resident (was staff).")
	sam.Send("kick newt")
	sam.Expect("Unknown command 'kick'")

	// Offline players too, and it is stored.
	newt.Send("quit")
	newt.WaitClosed()
	sue.Send("demote newt")
	sue.Expect("Newt is now newbie (was resident).")
	if p := ts.player(t, "newt"); p.Rank != player.Newbie {
		t.Errorf("stored rank %v", p.Rank)
	}
	sue.Send("demote newt")
	sue.Expect("Newt is already newbie, the lowest rank.")
}

func TestKickGagJail(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")

	sue.Send("kick bob spamming the lounge")
	bob.Expect("*** You have been kicked off Talker by Sue (spamming the lounge).")
	bob.WaitClosed()
	sue.Expect("You have kicked Bob off the talker.")
	alice.Expect("[ Bob has disconnected ]")

	sue.Send("gag alice shouting")
	alice.Expect("*** You have been gagged by Sue (shouting)")
	for _, c := range []string{"say hi", "shout hi", "tell sue hi", ":waves", "whisper sue hi", "<sue hi", "think hi", "reply hi"} {
		alice.Send(c)
		alice.Expect("You have been gagged: you cannot talk")
	}
	alice.Send("mail send sue hi")
	alice.Expect("You have been gagged: you cannot send mail")
	alice.Send("look") // other commands still work
	alice.Expect("The Main Room")
	if got := sue.Quiet(200 * time.Millisecond); strings.Contains(got, "Alice says") || strings.Contains(got, "Alice waves") {
		t.Errorf("a gagged player was heard: %q", got)
	}
	// The gag lasts across log-ins.
	alice.Send("quit")
	alice.WaitClosed()
	alice = ts.login("Alice")
	alice.Send("say hi")
	alice.Expect("You have been gagged")
	sue.Send("ungag alice")
	alice.Expect("*** Sue has ungagged you")
	alice.Send("say free")
	sue.Expect("Alice says 'free'")
	sue.Send("ungag alice")
	sue.Expect("Alice is not gagged.")

	sue.Send("jail alice cooling off")
	alice.Expect("*** You have been jailed by Sue (cooling off).")
	alice.Expect("The Jail (jail)")
	sue.Expect("Alice is dragged off to the jail.")
	for _, c := range []string{"go main", "home", "join sue"} {
		alice.Send(c)
		alice.Expect("You are in jail: you cannot go anywhere")
	}
	alice.Send("shout help")
	alice.Expect("Nobody can hear you shout from the jail.")
	sue.Send("trans alice main")
	sue.Expect("Alice is in jail; 'unjail' them first.")
	sue.Send("go jail")
	sue.Expect("There is no room called 'jail' that way.")
	bob = ts.login("Bob")
	bob.Send("join alice")
	bob.Expect("Only staff can go into the jail.")
	// Still in jail after logging out and in.
	alice.Send("quit")
	alice.WaitClosed()
	alice = ts.dial()
	alice.Expect("name: ")
	alice.Send("alice")
	alice.Expect("Password: ")
	alice.Send("secret-Alice")
	alice.Expect("The Jail (jail)")
	alice.Expect("You are in jail")
	alice.Send("look")
	alice.Expect("The Jail (jail)")
	sue.Send("unjail alice")
	alice.Expect("*** Sue has let you out of the jail.")
	alice.Expect("The Main Room")
	sue.Send("stafflog")
	sue.Expect("Sue kick Bob: spamming the lounge")
	sue.Expect("Sue gag Alice: shouting")
	sue.Expect("Sue ungag Alice")
	sue.Expect("Sue jail Alice: cooling off")
	sue.Expect("Sue unjail Alice")
}

func TestBanByName(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.account("Boss", player.Admin)
	troll := ts.newPlayer("Troll")

	sue.Send("ban name boss")
	sue.Expect("You cannot ban Boss")
	sue.Send("ban name troll 2h being a troll")
	troll.Expect("*** Sorry, the name Troll is banned from Talker (being a troll). The ban ends in 2 hours.")
	troll.WaitClosed()
	sue.Expect("Banned the name troll for 2 hours (ban #")
	sue.Expect("Troll has been disconnected.")

	c := ts.dial()
	c.Expect("name: ")
	c.Send("troll")
	c.Expect("Sorry, the name Troll is banned from Talker (being a troll).")
	c.WaitClosed()

	// A name without an account can be banned before anyone takes it.
	sue.Send("ban name Rude")
	sue.Expect("Banned the name rude for good")
	c = ts.dial()
	c.Expect("name: ")
	c.Send("rude")
	c.Expect("Sorry, the name Rude is banned from Talker.")
	c.WaitClosed()

	sue.Send("ban")
	sue.Expect("Bans:")
	sue.Expect("name troll, by Sue, 2 hours left (being a troll)")
	sue.Expect("name rude, by Sue, for good")
	sue.Send("unban troll")
	sue.Expect("The ban on name troll is lifted.")
	sue.Send("unban troll")
	sue.Expect("There is no ban on 'troll'.")
	ts.login("Troll")
	sue.Send("ban name bad-name")
	sue.Expect("That is not a name")
	sue.Send("ban person x")
	sue.Expect("Usage: ban")
}

func TestBanBySite(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	alice := ts.newPlayer("Alice")

	sue.Send("ban site not-an-address")
	sue.Expect("is not an address or a range")
	sue.Send("ban site 10.1.2.3/8 a range")
	sue.Expect("Banned the site 10.0.0.0/8 for good (ban #")
	ts.dial().Expect("name: ") // 127.0.0.1 is not in 10/8

	// The tests connect from 127.0.0.1: ban it. Alice, connected from
	// there and below Sue's rank, is disconnected; Sue is not.
	sue.Send("ban site 127.0.0.0/8 1s testing")
	alice.Expect("*** Sorry, connections from your address are banned from Talker (testing).")
	alice.WaitClosed()
	c := ts.dial()
	c.Expect("Sorry, connections from your address are banned from Talker (testing). The ban ends in")
	c.WaitClosed()
	if strings.Contains(c.Text(), "name:") {
		t.Error("a banned site got a name prompt")
	}
	// It expires by itself.
	time.Sleep(1100 * time.Millisecond)
	ts.dial().Expect("name: ")
	sue.Send("ban")
	sue.Expect("site 10.0.0.0/8, by Sue, for good (a range)")
	if got := sue.Quiet(100 * time.Millisecond); strings.Contains(got, "127.0.0.0") {
		t.Errorf("an expired ban is still listed: %q", got)
	}

	sue.Send("ban site 127.0.0.1")
	sue.Expect("Banned the site 127.0.0.1")
	ts.dial().Expect("banned from Talker")
	sue.Send("unban 127.0.0.1")
	sue.Expect("The ban on site 127.0.0.1 is lifted.")
	ts.dial().Expect("name: ")

	// Bans are stored: a restarted talker still refuses the range.
	sue.Send("ban site 127.0.0.0/24 1h")
	sue.Expect("Banned the site 127.0.0.0/24 for 1 hour")
	dir := ts.cfg.DataDir
	ts.stop()
	ts2 := startServerIn(t, dir)
	ts2.dial().Expect("connections from your address are banned")
}

func TestNewbieLock(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.newPlayer("Alice").Send("quit")
	sue.Send("newbies")
	sue.Expect("The talker is open to new players.")
	sue.Send("newbies close")
	sue.Expect("The talker is now closed to new players.")

	c := ts.dial()
	c.Expect("name: ")
	c.Send("Fresh")
	c.Expect("Sorry, Talker is not accepting new players right now.")
	c.Expect("name: ")
	c.Send("alice") // existing players still get in
	c.Expect("Password: ")
	c.Send("secret-Alice")
	c.Expect("Welcome back, Alice!")

	// Kept across a restart.
	dir := ts.cfg.DataDir
	ts.stop()
	ts = startServerIn(t, dir)
	c = ts.dial()
	c.Expect("name: ")
	c.Send("Fresh")
	c.Expect("not accepting new players right now")
	sue = ts.login("Sue")
	sue.Send("newbies open")
	sue.Expect("The talker is open to new players again.")
	c.Send("Fresh")
	c.Expect("Create a new account called Fresh? (yes/no): ")
	sue.Send("stafflog")
	sue.Expect("Sue newbies: closed")
	sue.Expect("Sue newbies: opened")
}

func TestWallReachesEveryone(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	bob.Send("go garden")
	bob.Expect("The Garden")
	bob.Send("earmuffs on")
	bob.Expect("earmuffs are on")
	sue.Send("wall Tea in the lounge at five")
	for _, c := range []interface{ Expect(string) string }{sue, alice, bob} {
		c.Expect("*** Announcement from Sue: Tea in the lounge at five ***")
	}
	sue.Send("stafflog 1")
	sue.Expect("Sue wall: Tea in the lounge at five")
}

func TestShutdownCountdown(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	alice := ts.newPlayer("Alice")

	boss.Send("shutdown cancel")
	boss.Expect("There is no shutdown countdown to cancel.")
	boss.Send("shutdown 600 maintenance")
	alice.Expect("*** The talker will shut down in 10 minutes; you will be disconnected. (maintenance)")
	boss.Send("shutdown 5")
	boss.Expect("A shutdown countdown is already running")
	boss.Send("shutdown cancel")
	alice.Expect("*** The shutdown countdown has been cancelled by Boss.")
	select {
	case <-ts.srv.ShutdownRequested():
		t.Fatal("shutdown requested although cancelled")
	default:
	}

	boss.Send("shutdown 2 going down")
	alice.Expect("*** The talker will shut down in 2 seconds; you will be disconnected. (going down)")
	alice.Expect("*** The talker is shutting down now, by Boss (going down).")
	select {
	case <-ts.srv.ShutdownRequested():
	case <-time.After(5 * time.Second):
		t.Fatal("the countdown ended without asking the program to stop")
	}
	boss.Send("stafflog")
	boss.Expect("Boss shutdown: in 600 seconds maintenance")
	boss.Expect("Boss shutdown: cancelled")
	boss.Expect("Boss shutdown: in 2 seconds going down")
}

func TestShutdownNow(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	boss.Send("shutdown now")
	boss.Expect("The angel stops too: the talker stays down until someone runs 'talker start'")
	boss.Expect("*** The talker is shutting down now, by Boss.")
	select {
	case <-ts.srv.ShutdownRequested():
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown not requested")
	}
}

func TestEnableDisableAreLogged(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	alice := ts.newPlayer("Alice")
	boss.Send("disable fwho")
	boss.Expect("'fwho' is disabled.")
	alice.Send("fwho")
	alice.Expect("The 'fwho' command has been disabled")
	boss.Send("enable fwho")
	boss.Expect("'fwho' is enabled again.")
	boss.Send("stafflog 2")
	boss.Expect("Boss disable fwho")
	boss.Expect("Boss enable fwho")
}

func TestBanWhileAtThePasswordPrompt(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.newPlayer("Troll").Send("quit")
	c := ts.dial()
	c.Expect("name: ")
	c.Send("troll")
	c.Expect("Password: ")
	sue.Send("ban name troll")
	sue.Expect("Banned the name troll")
	c.Send("secret-Troll")
	c.Expect("Sorry, the name Troll is banned from Talker.")
	c.WaitClosed()
}
