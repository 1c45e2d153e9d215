package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

// Issue 14, part 4: player text can never pass for the talker's own.

func TestPaddedEmoteCannotForgeAnAnnouncement(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	narrow := talkertest.Options{Width: 80, Height: 24}
	alice := ts.dial(narrow)
	alice.Register("Alice", "secret-Alice")
	fake := "*** Boss has promoted you to admin."
	// "Boss " and 75 letters fill the 80 columns: the fake starts the
	// next line, unless the talker stops it. Around it, off by one or two.
	for pad := 73; pad <= 77; pad++ {
		for _, line := range []string{
			"emote " + strings.Repeat("x", pad) + " " + fake,
			":" + strings.Repeat("y ", pad/2) + "^R" + fake,
			"pemote " + strings.Repeat("z", pad-3) + fake,
		} {
			boss.Send(line)
			alice.Expect("admin.")
		}
	}
	boss.Send("room create den")
	boss.Expect("boss.den")
	boss.Send("room desc " + fake)
	boss.Expect("description set")
	boss.Send("room name ^G" + fake)
	boss.Expect("now called")
	boss.Send("desc " + fake)
	boss.Expect("description")
	boss.Send("trans alice")
	boss.Expect("Alice")
	boss.Send("say done")
	alice.Expect("Boss says 'done'")
	alice.Send("examine boss")
	alice.Expect("Total time")
	alice.Send("look")
	alice.Expect("Exits:")
	alice.Quiet(300 * time.Millisecond)
	for _, l := range talkertest.Lines(alice.Text()) {
		if strings.HasPrefix(l, "*** Boss has promoted") {
			t.Fatalf("a player's text starts a line as the talker's do: %q", l)
		}
	}
}

func TestInvisibleCharactersAreRemoved(t *testing.T) {
	ts := startServer(t)
	boss := ts.newPlayer("Boss")
	telly := ts.newPlayer("Telly")
	for _, r := range []string{"\u200b", "\u200d", "\u2060", "\ufeff", "\u2028", "\u2029", "\u061c", "\u180e",
		"\U000e0041", "\u3164", "\u202e", "\u2066"} {
		boss.Send("say he" + r + "llo")
		telly.Expect("Boss says 'hello'")
	}
	boss.Send("say z\u0301\u0302\u0303\u0304\u0305!")
	telly.Expect("Boss exclaims 'z\u0301\u0302!'")
	boss.Send("title \u200bis\u202e here")
	boss.Send("tell telly o\u200bk")
	telly.Expect("Boss tells you 'ok'")
	telly.Send("look")
	telly.Expect("Boss is here.")
}

func TestLookAlikeNamesCannotBeTaken(t *testing.T) {
	ts := startServer(t)
	ts.newPlayer("Alice")
	sue := ts.account("Sue", player.Staff)
	ts.newPlayer("Carol")
	for name, why := range map[string]string{
		"AIice":      "looks too much like Alice",
		"ALlCE":      "", // not alike: only the key's case differs from nothing
		"Adrnin":     "looks like a staff title",
		"Sysadmin":   "looks like a staff title",
		"Moderator":  "looks like a staff title",
		"Rnoderator": "looks like a staff title",
		"Owner":      "looks like a staff title",
		"God":        "looks like a staff title",
		"Staff":      "reserved",
		"Root":       "reserved",
	} {
		if why == "" {
			continue
		}
		c := ts.dial()
		c.Expect("enter your name: ")
		c.Send(name)
		c.Expect(why)
		c.Expect("enter your name: ")
		c.Close()
	}
	sue.Send("rename carol AIice")
	sue.Expect("Sorry, AIice looks too much like Alice")
	sue.Send("rename carol Adrnin")
	sue.Expect("looks like a staff title")
	sue.Send("rename carol Caro")
	sue.Expect("Carol is now called Caro.")
	// The world's index of names follows renames: Carol's look-alike is
	// free now, and Marla's is taken as soon as she is Marla.
	sue.Send("rename caro Marla")
	sue.Expect("Caro is now called Marla.")
	for name, want := range map[string]string{"CaroI": "(yes/no)", "Rnarla": "looks too much like Marla"} {
		c := ts.dial()
		c.Expect("enter your name: ")
		c.Send(name)
		c.Expect(want)
		c.Close()
	}
}

// A look-alike taken while someone chooses a password is caught when the
// account would be created.
func TestLookAlikeTakenDuringRegistration(t *testing.T) {
	ts := startServer(t)
	slow := ts.dial()
	slow.Expect("enter your name: ")
	slow.Send("Alice")
	slow.Expect("(yes/no): ")
	slow.Send("yes")
	slow.Expect("Choose a password: ")
	ts.newPlayer("AIice")
	slow.Send("secret-Alice")
	slow.Expect("Type the password again: ")
	slow.Send("secret-Alice")
	slow.Expect("Alice looks too much like AIice")
	slow.Expect("enter your name: ")
}
