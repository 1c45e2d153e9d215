package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
)

func TestPersonalRooms(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	newt := ts.newPlayer("Newt")

	newt.Send("invite alice")
	newt.Expect("Unknown command 'invite'")
	alice.Send("room name Nope")
	alice.Expect("This is not your room")

	// The first 'home' makes a home room, with an exit to the main room.
	alice.Send("home")
	alice.Expect("You have a home of your own now: alice.home.")
	alice.Expect("Alice's Home (alice.home)")
	alice.Expect("Exits: main.")
	bob.Expect("Alice goes home.")
	alice.Send("room name The Treehouse")
	alice.Expect("This room is now called The Treehouse.")
	alice.Send("room desc Planks, a rope ladder and a view over the garden.")
	alice.Expect("Room description set.")
	alice.Send("room create attic")
	alice.Expect("You have made alice.attic.")
	alice.Expect("Alice's Attic (alice.attic)")
	alice.Send("room create attic")
	alice.Expect("You already have a room called alice.attic.")
	alice.Send("room create no-way")
	alice.Expect("Room ids are 1 to 12 letters.")
	alice.Send("room link alice.home")
	alice.Expect("Linked: there are exits both ways between alice.attic and alice.home.")
	alice.Send("room link garden")
	alice.Expect("Linked: there is an exit from here to garden.")
	alice.Send("room link garden")
	alice.Expect("There is already an exit to garden.")
	alice.Send("exits")
	alice.Expect("Exits: main, alice.home, garden.")
	alice.Send("room unlink garden")
	alice.Expect("The exit to garden is gone.")
	alice.Send("go alice.home")
	alice.Expect("The Treehouse (alice.home)")
	alice.Expect("Planks, a rope ladder")
	alice.Expect("Exits: main, alice.attic.")
	alice.Send("room")
	alice.Expect("The Treehouse (alice.home), owned by Alice, open.")
	alice.Expect("Your rooms: alice.attic, alice.home. Home: alice.home.")

	// Visit goes to someone's home; a locked home keeps out the uninvited.
	bob.Send("visit alice")
	bob.Expect("The Treehouse (alice.home)")
	alice.Expect("Bob arrives.")
	bob.Send("home")
	bob.Expect("bob.home")
	alice.Send("room lock")
	alice.Expect("The Treehouse is now locked.")
	bob.Send("visit alice")
	bob.Expect("The Treehouse is locked.")
	bob.Send("join alice")
	bob.Expect("The Treehouse is locked.")
	newt.Send("visit newt")
	newt.Expect("Newt has no home room.")
	alice.Send("invite bob")
	alice.Expect("Bob may now enter your rooms, locked or not.")
	bob.Expect("Alice has invited you to their rooms")
	alice.Send("invite")
	alice.Expect("People invited to your rooms: Bob (on).")
	bob.Send("join alice")
	bob.Expect("The Treehouse (alice.home) [locked]")
	alice.Send("uninvite bob")
	alice.Expect("Bob is no longer invited to your rooms.")
	bob.Send("go main")
	bob.Expect("The Main Room")
	bob.Send("visit alice")
	bob.Expect("The Treehouse is locked.")
	alice.Send("room unlock")
	alice.Expect("The Treehouse is now unlocked.")
	bob.Send("visit alice")
	bob.Expect("The Treehouse (alice.home)")

	// Rooms and locks are stored: they survive a restart.
	alice.Send("room lock")
	alice.Expect("now locked")
	dir := ts.cfg.DataDir
	ts.stop()
	ts2 := startServerIn(t, dir)
	b2 := ts2.login("Bob")
	b2.Send("visit alice")
	b2.Expect("The Treehouse is locked.")
	a2 := ts2.login("Alice")
	a2.Send("look")
	a2.Expect("The Treehouse (alice.home) [locked]")
}

func TestJoinAndMoveMessages(t *testing.T) {
	ts := startServer(t)
	alice, bob, carol := ts.newPlayer("Alice"), ts.newPlayer("Bob"), ts.newPlayer("Carol")
	alice.Send("entermsg bounces in.")
	alice.Expect("Your entry message is now: Alice bounces in.")
	alice.Send("exitmsg skips away.")
	alice.Expect("Your exit message is now: Alice skips away.")
	alice.Send("exitmsg")
	alice.Expect("Your exit message: Alice skips away.")
	carol.Send("go garden")
	carol.Expect("The Garden")
	alice.Send("join carol")
	alice.Expect("The Garden")
	bob.Expect("Alice skips away.")
	carol.Expect("Alice bounces in.")
	alice.Send("join carol")
	alice.Expect("You are already with Carol.")
	alice.Send("join alice")
	alice.Expect("You are always with yourself.")
	alice.Send("entermsg -")
	alice.Expect("Your entry message is back to the default.")
	alice.Send("go main")
	bob.Expect("Alice arrives.")
	// Stored with the player.
	if p := ts.player(t, "alice"); p.ExitMsg != "skips away." || p.EnterMsg != "" {
		t.Errorf("stored messages: %q %q", p.EnterMsg, p.ExitMsg)
	}
}

func TestTransMovesPeople(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	alice := ts.newPlayer("Alice")
	boss := ts.account("Boss", player.Admin)
	alice.Send("trans sue garden")
	alice.Expect("Unknown command 'trans'")

	sue.Send("trans alice garden")
	alice.Expect("*** Sue has moved you to The Garden.")
	alice.Expect("The Garden (garden)")
	sue.Expect("You have moved Alice to The Garden.")
	sue.Send("trans alice")
	alice.Expect("The Main Room")
	sue.Send("trans sue lounge")
	sue.Expect("The Lounge (lounge)")
	sue.Send("trans boss lounge")
	sue.Expect("You cannot move Boss, who is admin")
	boss.Send("trans sue main")
	sue.Expect("*** Boss has moved you to The Main Room.")

	// Locks do not stop trans.
	res := ts.account("Rita", player.Resident)
	res.Send("home")
	res.Expect("rita.home")
	res.Send("room lock")
	res.Expect("now locked")
	sue.Send("trans alice rita.home")
	alice.Expect("(rita.home) [locked]")
	if got := sue.Quiet(100 * time.Millisecond); strings.Contains(got, "locked.") {
		t.Errorf("trans refused by a lock: %q", got)
	}
}
