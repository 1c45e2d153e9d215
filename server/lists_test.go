package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
)

func TestFriendsNotifiedAndFwho(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("fwho")
	alice.Expect("None of your friends is logged in.")
	alice.Send("friend bob")
	alice.Expect("Bob is now on your friend list.")
	bob.Expect("Alice has made you a friend.")
	alice.Send("friend bob")
	alice.Expect("Bob is already your friend.")
	alice.Send("friend alice")
	alice.Expect("your own best friend")
	alice.Send("friend zed")
	alice.Expect("There is nobody called 'zed'")
	alice.Send("fwho")
	alice.Expect("Friends logged in:")
	alice.Expect("Bob  [main]")
	alice.Send("friend")
	alice.Expect("People on your friend list: Bob (on).")

	bob.Send("quit")
	alice.Expect("[ Your friend Bob has disconnected ]")
	bob = ts.login("Bob")
	alice.Expect("[ Your friend Bob has connected ]")

	// Friends are kept in the database: after Alice logs out and in again
	// she is still told.
	alice.Send("quit")
	alice.WaitClosed()
	alice = ts.login("Alice")
	alice.Send("fwho")
	alice.Expect("Bob  [main]")
	alice.Send("unfriend bo")
	alice.Expect("Bob is no longer on your friend list.")
	alice.Send("unfriend bob")
	alice.Expect("'bob' is not on your friend list.")
	bob.Send("quit")
	alice.Expect("[ Bob has disconnected ]")
}

func TestIgnoreReallyBlocks(t *testing.T) {
	ts := startServer(t)
	alice, bob, carol := ts.newPlayer("Alice"), ts.newPlayer("Bob"), ts.newPlayer("Carol")

	// Tells only: Bob's tells, remotes, whispers and replies are refused,
	// and he is told; his room talk and shouts still reach Alice.
	alice.Send("ignore bob tells")
	alice.Expect("You are now ignoring tells from Bob.")
	bob.Send("tell alice hello")
	bob.Expect("Alice is ignoring you.")
	bob.Send("<alice waves")
	bob.Expect("Alice is ignoring you.")
	bob.Send("whisper alice psst")
	bob.Expect("Alice is ignoring you.")
	alice.Send("tell bob I can still talk to you")
	bob.Expect("Alice tells you 'I can still talk to you'")
	bob.Send("reply but you cannot hear me")
	bob.Expect("Alice is ignoring you.")
	bob.Send("say in the room")
	alice.Expect("Bob says 'in the room'")
	bob.Send("shout loud")
	alice.Expect("Bob shouts 'loud'")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "hello") || strings.Contains(got, "waves") ||
		strings.Contains(got, "psst") || strings.Contains(got, "cannot hear") {
		t.Errorf("an ignored tell got through: %q", got)
	}

	// Shouts add up with tells.
	alice.Send("ignore bob shouts")
	alice.Expect("You are now ignoring tells and shouts from Bob.")
	bob.Send("shout louder")
	carol.Expect("Bob shouts 'louder'")

	// Everything: room talk too, and log-in notices, and join.
	alice.Send("ignore bob")
	alice.Expect("You are now ignoring everything from Bob.")
	bob.Send("say can you hear me?")
	carol.Expect("Bob asks 'can you hear me?'")
	bob.Send(":dances")
	carol.Expect("Bob dances")
	bob.Send("think hmm")
	carol.Expect("Bob thinks . o O ( hmm )")
	bob.Send("whisper carol secret")
	carol.Expect("Bob whispers 'secret' to you.")
	alice.Send("go lounge")
	alice.Expect("The Lounge")
	bob.Send("join alice")
	bob.Expect("Alice is ignoring you.")
	bob.Send("quit")
	carol.Expect("[ Bob has disconnected ]")
	got := alice.Quiet(300 * time.Millisecond)
	for _, leak := range []string{"louder", "can you hear", "dances", "hmm", "whispers", "Bob has disconnected"} {
		if strings.Contains(got, leak) {
			t.Errorf("Alice, ignoring Bob, saw %q: %q", leak, got)
		}
	}
	alice.Send("ignore")
	alice.Expect("You are ignoring:")
	alice.Expect("Bob: everything")

	// Kept across log-in; unignore ends it.
	alice.Send("quit")
	alice.WaitClosed()
	bob = ts.login("Bob")
	alice = ts.login("Alice")
	bob.Send("tell alice again")
	bob.Expect("Alice is ignoring you.")
	alice.Send("unignore bob")
	alice.Expect("You are no longer ignoring Bob.")
	bob.Send("tell alice again")
	alice.Expect("Bob tells you 'again'")
	alice.Send("unignore bob")
	alice.Expect("You are not ignoring 'bob'.")
}

func TestStaffCannotBeIgnored(t *testing.T) {
	ts := startServer(t)
	alice := ts.newPlayer("Alice")
	ts.account("Sue", player.Staff)
	alice.Send("ignore sue")
	alice.Expect("You cannot ignore staff")
	alice.Send("ignore alice")
	alice.Expect("You cannot get away from yourself.")
	alice.Send("ignore bob sometimes")
	alice.Expect("Usage: ignore")
}

func TestEarmuffsHideShouts(t *testing.T) {
	ts := startServer(t)
	alice, bob, carol := ts.newPlayer("Alice"), ts.newPlayer("Bob"), ts.newPlayer("Carol")
	alice.Send("earmuffs")
	alice.Expect("Your earmuffs are off.")
	alice.Send("earmuffs on")
	alice.Expect("Your earmuffs are on.")
	bob.Send("shout anyone?")
	carol.Expect("Bob shouts 'anyone?'")
	alice.Send("shout me")
	alice.Expect("'earmuffs off' takes them off.)")
	bob.Expect("Alice shouts 'me'")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "anyone") {
		t.Errorf("a shout got through earmuffs: %q", got)
	}
	alice.Send("earmuffs off")
	alice.Expect("Your earmuffs are off.")
	bob.Send("shout now?")
	alice.Expect("Bob shouts 'now?'")
	alice.Send("earmuffs maybe")
	alice.Expect("Usage: earmuffs")
}

func TestWhisperInTheRoom(t *testing.T) {
	ts := startServer(t)
	alice, bob, carol, dave := ts.newPlayer("Alice"), ts.newPlayer("Bob"), ts.newPlayer("Carol"), ts.newPlayer("Dave")
	dave.Send("go garden")
	dave.Expect("The Garden")
	alice.Send("whisper bob the cake is a lie")
	alice.Expect("You whisper 'the cake is a lie' to Bob.")
	bob.Expect("Alice whispers 'the cake is a lie' to you.")
	carol.Expect("Alice whispers something to Bob.")
	bob.Send("=alice really?")
	alice.Expect("Bob whispers 'really?' to you.")
	alice.Send("whisper dave hi")
	alice.Expect("Dave is not here")
	alice.Send("whisper alice hi")
	alice.Expect("sweet nothings")
	alice.Send("whisper bob")
	alice.Expect("Usage: whisper <name> <message>")
	bob.Send("reply told you")
	alice.Expect("Bob tells you 'told you'")
	if got := carol.Quiet(200 * time.Millisecond); strings.Contains(got, "cake") || strings.Contains(got, "really") {
		t.Errorf("a bystander heard a whisper: %q", got)
	}
}
