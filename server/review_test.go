package server

import (
	"strings"
	"testing"
)

func TestReviewAndRecap(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("review")
	alice.Expect("Nothing has been said here yet.")
	alice.Send("say first")
	alice.Send(":waves")
	bob.Send("say second?")
	bob.Expect("You ask 'second?'")
	bob.Send("think hmm")
	bob.Expect("Bob thinks")
	for i := 0; i < 25; i++ { // more than the buffer holds
		bob.Send("'line " + itoa(i))
	}
	bob.Expect("You say 'line 24'")

	carol := ts.newPlayer("Carol")
	carol.Send("review")
	got := carol.Expect("Bob says 'line 24'")
	if !strings.Contains(got, "The last 20 lines said in The Main Room:") || strings.Contains(got, "first") ||
		!strings.Contains(got, "Bob says 'line 5'") || strings.Contains(got, "line 4'") {
		t.Errorf("review:\n%s", got)
	}
	carol.Send("go garden")
	carol.Expect("The Garden")
	carol.Send("review")
	carol.Expect("Nothing has been said here yet.")
	carol.Send("go main")
	carol.Expect("Exits:")

	// Lines from people you ignore are left out.
	alice.Send("say before the ignore")
	carol.Expect("Alice says 'before the ignore'")
	carol.Send("ignore alice")
	carol.Expect("ignoring everything from Alice")
	carol.Send("review")
	got = carol.Expect("Bob says 'line 24'")
	if strings.Contains(got+carol.Quiet(100e6), "before the ignore") {
		t.Errorf("review shows an ignored player's line:\n%s", got)
	}

	// Recap: the tells you got and sent.
	alice.Send("recap")
	alice.Expect("Nobody has told you anything yet")
	bob.Send("tell alice psst")
	alice.Expect("Bob tells you 'psst'")
	alice.Send("reply what")
	bob.Expect("Alice tells you 'what'")
	bob.Send("<alice nudges you")
	alice.Expect("Bob nudges you")
	alice.Send("review tells")
	alice.Expect("The last 3 lines of tells:")
	alice.Expect("] Bob tells you 'psst'")
	alice.Expect("] You tell Bob 'what'")
	alice.Expect("] Bob nudges you")
	bob.Send("recap")
	bob.Expect("] You tell Alice 'psst'")
	bob.Expect("] Alice tells you 'what'")
	bob.Expect("] You emote to Alice: Bob nudges you")
}
