package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
	"talker/state"
)

// Tests for the commands of issue 14 in cmd_more_talk.go, cmd_more_info.go,
// profile.go, wrap.go, invis.go, cmd_more_staff.go and room_admin.go.

func TestEchoIsMarkedAndNeverPassesForTheTalker(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	sue := ts.account("Sue", player.Staff)
	newt := ts.newPlayer("Newt")

	alice.Send("+The lights flicker.")
	alice.Expect("You echo: The lights flicker.")
	got := bob.Expect("The lights flicker.")
	if lines := strings.Split(got, "\n"); strings.Contains(lines[len(lines)-1], "Alice") {
		t.Errorf("a resident sees who echoed:\n%s", got)
	}
	sue.Expect("The lights flicker.  [echo by Alice]")

	// A fake announcement: moved over a column, for everyone.
	alice.Send("echo *** Boss has promoted you to admin.")
	got = bob.Expect("promoted you to admin.")
	if strings.Contains(got, "\n*** Boss") || strings.HasPrefix(got, "*** Boss") || !strings.Contains(got, "\n *** Boss has promoted") {
		t.Errorf("an echo passed for the talker's own line:\n%q", got)
	}

	newt.Send("echo hello")
	newt.Expect("Unknown command 'echo'")
	sue.Send("gag alice")
	sue.Expect("Alice is gagged.")
	alice.Send("+hello")
	alice.Expect("You have been gagged")
}

func TestSingRthinkAndFriendTells(t *testing.T) {
	ts := startServer(t)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	carol := ts.newPlayer("Carol")
	dave := ts.newPlayer("Dave")

	alice.Send("sing la la la")
	alice.Expect("You sing o/~ la la la o/~")
	bob.Expect("Alice sings o/~ la la la o/~")

	alice.Send("rthink bob tea?")
	alice.Expect("You think at Bob: . o O ( tea? )")
	bob.Expect("Alice thinks . o O ( tea? )")
	bob.Send("reply yes please")
	alice.Expect("Bob tells you 'yes please'")

	alice.Send("ft anyone there?")
	alice.Expect("None of your friends is on")
	alice.Send("friend bob")
	alice.Expect("Bob")
	alice.Send("friend carol")
	alice.Expect("Carol")
	alice.Send("ft lunch?")
	alice.Expect("You ask your friends (Bob and Carol) 'lunch?'")
	bob.Expect("(to friends) Alice asks you 'lunch?'")
	carol.Expect("(to friends) Alice asks you 'lunch?'")
	alice.Send("tf hello")
	carol.Expect("(to friends) Alice tells you 'hello'")
	alice.Send("fe waves")
	bob.Expect("(to friends) Alice waves")
	carol.Expect("(to friends) Alice waves")
	if got := dave.Quiet(200 * time.Millisecond); strings.Contains(got, "to friends") {
		t.Errorf("a non-friend got a friend tell:\n%s", got)
	}
}

func TestWhereSwhoLsuLastTimeVersion(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Version = "1.2.3-test" })
	alice := ts.account("Alice", player.Resident)
	bob := ts.newPlayer("Bob")
	alice.Send("home")
	alice.Expect("alice.home")

	bob.Send("where")
	bob.Expect("(alice.home): Alice")
	bob.Expect("(main): Bob")
	bob.Send("where alice")
	bob.Expect("Alice is in Alice's Home (alice.home).")
	bob.Send("swho")
	bob.Expect("There are 2 people on")
	bob.Expect(" Alice")
	bob.Expect("_Bob")
	bob.Send("lsu")
	bob.Expect("No member of staff is on just now.")
	sue := ts.account("Sue", player.Staff)
	bob.Send("lsu")
	bob.Expect("^ Sue")
	bob.Expect("staff")
	_ = sue

	bob.Send("last")
	bob.Expect("Recent logins, newest first:")
	bob.Expect("Sue")
	bob.Send("last alice")
	bob.Expect("Alice is on now")
	alice.Send("quit")
	alice.WaitClosed()
	bob.Send("last alice")
	bob.Expect("Alice was last on")
	bob.Send("time")
	bob.Expect("UTC).")
	bob.Expect("You have been on for")
	bob.Send("version")
	bob.Expect("is running talker version 1.2.3-test.")
}

func TestProfileFieldsAndPrivateEmail(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	sue := ts.account("Sue", player.Staff)

	alice.Send("plan conquer the world")
	alice.Expect("Your plan is now: conquer the world")
	alice.Send("gender female")
	alice.Expect("Your gender is now: female")
	alice.Send("email not an address")
	alice.Expect("does not look like an e-mail address")
	alice.Send("email alice@example.org")
	alice.Expect("Your e-mail address is now alice@example.org (private")
	alice.Send("url javascript:alert(1)")
	alice.Expect("does not look like a web address")
	alice.Send("url https://example.org/alice")
	alice.Expect("Your web address is now: https://example.org/alice")

	bob.Send("finger alice")
	got := bob.Expect("Plan: conquer the world")
	if !strings.Contains(got, "Gender: female") || !strings.Contains(got, "Web: https://example.org/alice") {
		t.Errorf("examine lacks the profile:\n%s", got)
	}
	if strings.Contains(got, "alice@example.org") {
		t.Errorf("a private e-mail address was shown to another resident:\n%s", got)
	}
	sue.Send("x alice")
	sue.Expect("E-mail: alice@example.org [private]")
	alice.Send("x alice")
	alice.Expect("E-mail: alice@example.org (private: only you and staff see it)")
	alice.Send("email public")
	alice.Expect("now public")
	bob.Send("x alice")
	bob.Expect("E-mail: alice@example.org")

	// Stored, and shown when the player is not on.
	alice.Send("quit")
	alice.WaitClosed()
	p := ts.player(t, "alice")
	if p.Plan != "conquer the world" || p.Gender != "female" || p.Email != "alice@example.org" || !p.EmailPublic || p.URL != "https://example.org/alice" {
		t.Errorf("stored profile: %+v", p)
	}
	bob.Send("finger alice")
	bob.Expect("Plan: conquer the world")
}

func TestWrapByHand(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	bob.Send("wrap 10")
	bob.Expect("The width is a number from 20 to 500")
	bob.Send("wrap 30")
	bob.Expect("Your text is now wrapped at 30")
	alice.Send("say " + strings.Repeat("word ", 12))
	got := bob.Expect("word'")
	for _, l := range strings.Split(strings.ReplaceAll(got, "\r", ""), "\n") {
		if len(l) > 30 {
			t.Errorf("a line longer than 30 columns: %q", l)
		}
	}
	if p := ts.player(t, "bob"); p.Wrap != 30 {
		t.Errorf("stored wrap %d", p.Wrap)
	}
	bob.Send("wrap auto")
	bob.Expect("Your text is now wrapped to your window: 199 columns.")
	bob.Send("wrap")
	bob.Expect("from your window")
}

func TestInvisibleStaff(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)

	alice.Send("invis on")
	alice.Expect("Unknown command 'invis'")
	sue.Send("invis on")
	alice.Expect("[ Sue has disconnected ]")
	sue.Expect("You are now invisible to everyone below your rank.")
	boss.Expect("[staff] Sue invis")

	alice.Send("who")
	got := alice.Expect("(* admin")
	if strings.Contains(got, "Sue") {
		t.Errorf("who shows an invisible member of staff to a resident:\n%s", got)
	}
	boss.Send("who")
	boss.Expect("Sue (invisible)")
	for _, c := range []string{"look", "where", "swho", "lsu"} {
		alice.Send(c)
		alice.Send("version")
		if got := alice.Expect("running talker version"); strings.Contains(got, "Sue") {
			t.Errorf("%s shows an invisible member of staff to a resident:\n%s", c, got)
		}
	}
	alice.Send("tell sue hello")
	alice.Expect("Nobody called 'sue' is logged in.")
	alice.Send("x sue")
	alice.Expect("Last seen")
	for _, c := range []string{"idle sue", "join sue", "whisper sue hi", "where sue"} {
		alice.Send(c)
		alice.Expect("Nobody called 'sue' is logged in.")
	}
	alice.Send("rooms") // Alice and Boss in the main room; Sue is not counted
	alice.Expect("The Main Room")
	alice.Expect("2 people")
	alice.Send("idle")
	alice.Send("version")
	if got := alice.Expect("running talker version"); strings.Contains(got, "Sue") {
		t.Errorf("idle lists an invisible member of staff to a resident:\n%s", got)
	}

	// Moving and logging out are not announced to lower ranks.
	sue.Send("trans sue lounge")
	sue.Expect("(lounge)")
	boss.Expect("Sue vanishes.")
	sue.Send("quit")
	sue.WaitClosed()
	boss.Expect("[ Sue has disconnected ]")
	if got := alice.Quiet(300 * time.Millisecond); strings.Contains(got, "Sue") {
		t.Errorf("a resident saw an invisible member of staff move or leave:\n%s", got)
	}
	if !ts.player(t, "sue").Invisible {
		t.Error("invisibility was not stored")
	}
	sue = ts.login("Sue")
	if got := alice.Quiet(300 * time.Millisecond); strings.Contains(got, "Sue") {
		t.Errorf("a resident saw an invisible member of staff log in:\n%s", got)
	}
	sue.Send("vis")
	sue.Expect("You are visible again.")
	alice.Expect("[ Sue has connected ]")
}

func TestGrabEjectKnock(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	sue := ts.account("Sue", player.Staff)

	alice.Send("home")
	alice.Expect("alice.home")
	alice.Send("room lock")
	alice.Expect("is now locked")
	bob.Send("knock alice.home")
	bob.Expect("You knock on the door of alice.home.")
	alice.Expect("Bob knocks on the door of alice.home.")
	bob.Send("knock main")
	bob.Expect("You are already in")

	bob.Send("grab alice")
	bob.Expect("Unknown command 'grab'")
	sue.Send("grab alice")
	alice.Expect("*** Sue has grabbed you and brought you to The Main Room.")
	sue.Expect("You have brought Alice here.")
	bob.Expect("Alice is brought in by Sue.")
	sue.Send("bring alice")
	sue.Expect("Alice is already here.")

	// Alice takes Bob home and ejects him; Bob cannot eject her from her
	// own room, nor anyone from the main room.
	alice.Send("invite bob")
	alice.Expect("Bob")
	alice.Send("home")
	alice.Expect("alice.home")
	bob.Send("visit alice")
	bob.Expect("alice.home")
	bob.Send("eject alice")
	bob.Expect("Alice is not in a room of yours.")
	sue.Send("trans sue alice.home")
	sue.Expect("alice.home")
	alice.Send("eject sue")
	alice.Expect("You cannot eject Sue, who is staff")
	alice.Send("eject bob")
	bob.Expect("*** Alice has ejected you from Alice's Home.")
	alice.Expect("You have ejected Bob")
	sue.Send("eject alice")
	alice.Expect("*** Sue has ejected you from Alice's Home.")
	sue.Send("stafflog 1")
	sue.Expect("Sue eject Alice: from alice.home")
	sue.Send("eject bob")
	sue.Expect("Nobody can be ejected from The Main Room.")
}

func TestWarnAndNotes(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)

	alice.Send("notes sue")
	alice.Expect("Unknown command 'notes'")
	sue.Send("warn boss behave")
	sue.Expect("You cannot warn Boss")
	sue.Send("warn alice stop spamming the lounge")
	alice.Expect("*** WARNING from Sue (staff): stop spamming the lounge")
	sue.Expect("You have warned Alice.")
	boss.Expect("*** [staff] Sue warn Alice: stop spamming the lounge")
	sue.Send("note alice seems to have calmed down")
	sue.Expect("Note added to Alice's file.")
	alice.Send("quit")
	alice.WaitClosed()
	sue.Send("note alice logged off after the warning")
	sue.Expect("Note added")
	boss.Send("notes alice")
	got := boss.Expect("logged off after the warning")
	for _, want := range []string{"Sue: WARNED: stop spamming the lounge", "Sue: seems to have calmed down"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
	boss.Send("notes nobody")
	boss.Expect("There is nobody called 'nobody'")
}

func TestRoomDeleteAndAdminsShapePublicRooms(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)

	// Admins name, describe and link the public rooms; others cannot.
	sue.Send("room name The Hall")
	sue.Expect("This is not your room")
	boss.Send("room name The Great Hall")
	boss.Expect("This room is now called The Great Hall.")
	boss.Send("room desc A hall with a very high ceiling.")
	boss.Expect("Room description set.")
	boss.Send("room lock")
	boss.Expect("Public rooms are open to everyone")
	sue.Send("stafflog 2")
	sue.Expect("Boss room name main: The Great Hall")
	sue.Expect("Boss room desc main: A hall with a very high ceiling.")
	alice.Send("look")
	alice.Expect("The Great Hall (main)")
	alice.Expect("A hall with a very high ceiling.")

	// An owner deletes their room; whoever is in it lands in the main room.
	alice.Send("room create den")
	alice.Expect("alice.den")
	bob.Send("join alice")
	bob.Expect("alice.den")
	bob.Send("room delete")
	bob.Expect("You can delete only your own rooms")
	alice.Send("room delete main")
	alice.Expect("main cannot be deleted")
	alice.Send("room delete")
	bob.Expect("*** Alice has deleted alice.den; you find yourself in The Great Hall.")
	alice.Expect("You have deleted alice.den.")
	alice.Send("go den")
	alice.Expect("There is no room called 'den'")
	if p := ts.player(t, "alice"); p.Room != "main" {
		t.Errorf("alice is stored in %q", p.Room)
	}

	// Staff delete other people's rooms; the staff log has it.
	alice.Send("home")
	alice.Expect("alice.home")
	sue.Send("room delete alice.home")
	alice.Expect("*** Sue has deleted alice.home")
	sue.Send("stafflog 1")
	sue.Expect("Sue room delete alice.home: owner: alice")
	if p := ts.player(t, "alice"); p.Home != "" {
		t.Errorf("alice's home is still %q", p.Home)
	}
	// But not the room of someone of their own rank or above.
	boss.Send("home")
	boss.Expect("boss.home")
	sue.Send("room delete boss.home")
	sue.Expect("You cannot delete a room of Boss, who is admin")
	if p := ts.player(t, "boss"); p.Home != "boss.home" {
		t.Errorf("a staff member deleted an admin's home: it is now %q", p.Home)
	}
}

// TestProfileWrapInvisInTheRecord: a session's record carries the wrap
// width, invisibility and the profile, and while anyone has one of them
// the state is version 7 (a build before it would drop them: the profile
// would be saved back empty); version 3 again once nobody has.
func TestProfileWrapInvisInTheRecord(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.account("Alice", player.Resident)
	sue := ts.account("Sue", player.Staff)
	for _, c := range []*talkertest.Client{alice, sue} { // nothing held from the logins
		c.Send("say ready")
		c.Expect("You say 'ready'")
	}
	version := func() int {
		t.Helper()
		snap, err := decodeSnapshot(takeSnapshot(t, ts))
		if err != nil {
			t.Fatal(err)
		}
		return snap.Version
	}
	if v := version(); v != state.VersionCBOR {
		t.Fatalf("nobody with a profile: version %d", v)
	}
	alice.Send("wrap 60")
	alice.Expect("wrapped at 60")
	alice.Send("plan tea at four")
	alice.Expect("Your plan is now")
	alice.Send("email alice@example.org")
	alice.Expect("Your e-mail address is now")
	sue.Send("invis on")
	sue.Expect("You are now invisible")
	var a, s *player.Player
	ts.srv.Do(func(w *World) {
		r := w.online["alice"].checkpointRecord()
		a = restoredSession(&r).Player
		r = w.online["sue"].checkpointRecord()
		s = restoredSession(&r).Player
	})
	if a.Wrap != 60 || a.Plan != "tea at four" || a.Email != "alice@example.org" || a.EmailPublic || !s.Invisible {
		t.Errorf("the records: alice %+v, sue invisible %v", a, s.Invisible)
	}
	if v := version(); v != state.Version {
		t.Errorf("with a profile: version %d, want %d", v, state.Version)
	}
	for _, c := range []string{"wrap auto", "plan -", "email -"} {
		alice.Send(c)
	}
	// Her commands run in order: the echo of this one says they all did.
	// (Any newline, as waited for before, could be an earlier reply's,
	// and the version was then read with "email -" still queued.)
	alice.Send("say all cleared")
	alice.Expect("You say 'all cleared'")
	sue.Send("vis")
	sue.Expect("visible again")
	if v := version(); v != state.VersionCBOR {
		t.Errorf("nobody with a profile any more: version %d", v)
	}
}

// TestNoCommandWordClaimedTwice: the command table lets a later command
// take a name, alias or shortcut silently, so two commands must never
// claim the same one (swho once took fwho's qwho).
func TestNoCommandWordClaimedTwice(t *testing.T) {
	words := map[string]string{}
	shorts := map[byte]string{}
	for _, c := range allCommands() {
		for _, word := range append([]string{c.name}, c.aliases...) {
			if other, ok := words[word]; ok {
				t.Errorf("%q is claimed by both %s and %s", word, other, c.name)
			}
			words[word] = c.name
		}
		for i := 0; i < len(c.shortcuts); i++ {
			if other, ok := shorts[c.shortcuts[i]]; ok {
				t.Errorf("shortcut %q is claimed by both %s and %s", c.shortcuts[i], other, c.name)
			}
			shorts[c.shortcuts[i]] = c.name
		}
	}
}
