package server

import (
	"strings"
	"testing"
	"time"
)

func TestSayEmoteThinkInOneRoomOnly(t *testing.T) {
	ts := startServer(t)
	alice, bob, carol := ts.newPlayer("Alice"), ts.newPlayer("Bob"), ts.newPlayer("Carol")
	carol.Send("go garden")
	carol.Expect("The Garden")

	alice.Send("say hello there")
	alice.Expect("You say 'hello there'")
	bob.Expect("Alice says 'hello there'")
	alice.Send("'how are you?")
	bob.Expect("Alice asks 'how are you?'")
	alice.Send(`"great!`)
	bob.Expect("Alice exclaims 'great!'")
	alice.Send(":waves.")
	bob.Expect("Alice waves.")
	alice.Expect("Alice waves.")
	alice.Send(";'s tea is cold.")
	bob.Expect("Alice's tea is cold.")
	alice.Send("emote smiles")
	bob.Expect("Alice smiles")
	alice.Send("think cake")
	bob.Expect("Alice thinks . o O ( cake )")
	alice.Expect("Alice thinks . o O ( cake )")

	if got := carol.Quiet(300 * time.Millisecond); strings.Contains(got, "Alice") {
		t.Errorf("someone in another room saw room talk: %q", got)
	}
}

func TestTellRemoteReplyAcrossRooms(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	bob.Send("go lounge")
	bob.Expect("The Lounge")
	alice.Send("tell bob psst")
	alice.Expect("You tell Bob 'psst'")
	bob.Expect("Alice tells you 'psst'")
	bob.Send("reply what?")
	alice.Expect("Bob asks you 'what?'")
	alice.Send(">bo nothing")
	bob.Expect("Alice tells you 'nothing'")
	alice.Send("<bob pokes you")
	bob.Expect("Alice pokes you")
	alice.Expect("You emote to Bob: Alice pokes you")
	bob.Send("re ok")
	alice.Expect("Bob tells you 'ok'")
	alice.Send("tell nobody hi")
	alice.Expect("Nobody called 'nobody' is logged in.")
	alice.Send("tell alice hi")
	alice.Expect("first sign of madness")
	carol := ts.newPlayer("Carol")
	carol.Send("reply hi")
	carol.Expect("Nobody has told you anything yet.")
	alice.Send(">bob,carol group hug")
	bob.Expect("Alice tells you (and Carol) 'group hug'")
	carol.Expect("Alice tells you (and Bob) 'group hug'")
	alice.Expect("You tell Bob and Carol 'group hug'")
}

func TestShoutReachesEveryRoom(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	bob.Send("go garden")
	bob.Expect("The Garden")
	alice.Send("!fire drill")
	alice.Expect("You shout 'fire drill'")
	bob.Expect("Alice shouts 'fire drill'")
	alice.Send("shout really!")
	bob.Expect("Alice shouts 'really!'")
}

func TestRoomsAndMoving(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("look")
	alice.Expect("The Main Room (main)")
	alice.Expect("Exits: garden, lounge.")
	alice.Expect("Bob is here.")
	alice.Send("exits")
	alice.Expect("Exits: garden, lounge.")
	alice.Send("rooms")
	alice.Expect("garden")
	alice.Expect("main          The Main Room               2 people")
	alice.Send("go lou")
	alice.Expect("The Lounge (lounge)")
	bob.Expect("Alice goes to The Lounge.")
	alice.Send("go garden")
	alice.Expect("There is no room called 'garden' that way.")
	alice.Send("go")
	alice.Expect("Exits: main.")
	alice.Send("home")
	alice.Expect("The Main Room")
	bob.Expect("Alice arrives home.")
	alice.Send("home")
	alice.Expect("You are already home.")
}

func TestWhoExamineIdleAFKTitleDescription(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("title the Great")
	alice.Expect("Your title is now: the Great")
	alice.Send("title")
	alice.Expect("Your title: the Great")
	alice.Send("desc A tall person with a teapot.")
	alice.Expect("Your description is now: A tall person with a teapot.")
	bob.Send("who")
	bob.Expect("There are 2 people on Talker:")
	bob.Expect("_ Alice the Great  [main]")
	bob.Send("x alice")
	bob.Expect("Alice the Great")
	bob.Expect("A tall person with a teapot.")
	bob.Expect("Rank: newbie.")
	bob.Expect("Logged in for")

	alice.Send("afk making tea")
	alice.Expect("You are now AFK.")
	bob.Expect("Alice is now AFK: making tea.")
	bob.Send("tell alice you there?")
	bob.Expect("(Alice is AFK: making tea)")
	bob.Send("idle")
	bob.Expect("(AFK)")
	bob.Send("idle alice")
	bob.Expect("Alice has been idle for")
	alice.Send("look")
	alice.Expect("You are no longer AFK.")

	alice.Send("title -")
	alice.Expect("Your title has been removed.")
	alice.Send("quit")
	alice.WaitClosed()
	bob.Expect("Alice has disconnected")
	// examine works for players who are not logged in.
	bob.Send("examine alice")
	bob.Expect("A tall person with a teapot.")
	bob.Expect("Last seen")
	bob.Send("examine zed")
	bob.Expect("There is nobody called 'zed'")
}

func TestHelpCoversEveryCommand(t *testing.T) {
	for _, c := range allCommands() {
		if strings.TrimSpace(c.help) == "" || c.summary == "" || c.usage == "" || c.category == "" {
			t.Errorf("command %q lacks help, summary, usage or category", c.name)
		}
		found := false
		for _, cat := range categoryOrder {
			found = found || cat == c.category
		}
		if !found {
			t.Errorf("command %q has unknown category %q (it would not be listed by help)", c.name, c.category)
		}
	}
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.newPlayer("Alice")
	alice.Send("pager off") // the index is longer than a window
	alice.Quiet(200 * time.Millisecond)
	alice.Send("help")
	index := alice.Expect("quit")
	index += alice.Quiet(300 * time.Millisecond)
	for _, c := range allCommands() {
		if c.minRank > 0 {
			continue
		}
		if !strings.Contains(index, c.name) {
			t.Errorf("help index lacks %q", c.name)
		}
		alice.Send("help " + c.name)
		alice.Expect("Usage: " + c.usage)
	}
	alice.Send("help '")
	alice.Expect("Usage: say <message>")
	alice.Send("help frobnicate")
	alice.Expect("There is no help on 'frobnicate'")
	alice.Send("frobnicate")
	alice.Expect("Unknown command 'frobnicate'")
}

func TestEscapeSequencesNeutralised(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("say \x1b[2J\x1b]0;owned\x07hi\x9b31m")
	bob.Expect("Alice says '")
	bob.Expect("hi")
	raw := bob.Raw()
	for _, b := range []byte{0x1b, 0x07} {
		if strings.IndexByte(string(raw), b) >= 0 {
			t.Errorf("control byte %#x reached another player", b)
		}
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startServerIn(t, dir)
	a := ts.newPlayer("Alice")
	a.Send("title the Persistent")
	a.Expect("Your title is now")
	a.Send("go garden")
	a.Expect("The Garden")
	ts.stop()
	a.Expect("shutting down")
	a.WaitClosed()

	ts2 := startServerIn(t, dir)
	b := ts2.dial()
	got := b.Login("alice", "secret-Alice")
	if !strings.Contains(got, "The Garden") {
		t.Errorf("not back in the garden after a restart:\n%s", got)
	}
	b.Send("who")
	b.Expect("Alice the Persistent")
}
