package server

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"talker/server/talkertest"
)

// rawSince returns the bytes c received after the first n.
func rawSince(c *talkertest.Client, n int) []byte { return c.Raw()[n:] }

func TestColourOnTheWire(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")

	// Colour is off by default: codes are stripped, no escape is sent.
	n := len(alice.Raw())
	bob.Send("say ^Rhello^N world ^^R")
	alice.Expect("Bob says 'hello world ^R'")
	if got := rawSince(alice, n); bytes.IndexByte(got, 0x1b) >= 0 || bytes.Contains(got, []byte("^R")) && !bytes.Contains(got, []byte("world ^R")) {
		t.Errorf("colour off, yet got %q", got)
	}

	alice.Send("colour on")
	alice.Expect("underline")
	n = len(alice.Raw())
	bob.Send("say ^Rhello^N world")
	alice.Expect("world'")
	if got := rawSince(alice, n); !bytes.Contains(got, []byte("Bob says '\x1b[1;31mhello\x1b[0m world'\r\n")) {
		t.Errorf("colour on: got %q", got)
	}
	// Colour left on is reset at the end of the line.
	n = len(alice.Raw())
	bob.Send("say ^gstill green")
	alice.Expect("still green'")
	if got := rawSince(alice, n); !bytes.Contains(got, []byte("\x1b[0;32mstill green'\x1b[0m\r\n")) {
		t.Errorf("colour not closed at the end of the line: %q", got)
	}
	// A raw escape sequence typed by a player never arrives, colour or not.
	n = len(alice.Raw())
	bob.Send("say \x1b[5mblink\x1b[0m \x9b31m and ^Bok")
	alice.Expect("ok'")
	got := rawSince(alice, n)
	if bytes.Contains(got, []byte("\x1b[5m")) || bytes.Contains(got, []byte("\x1b[31m")) || !bytes.Contains(got, []byte("\x1b[1;34mok")) {
		t.Errorf("raw escapes: %q", got)
	}
	// Bob, with colour off, sees no escapes from Alice's codes.
	n = len(bob.Raw())
	alice.Send("emote waves ^Ycheerfully")
	bob.Expect("Alice waves cheerfully")
	if got := rawSince(bob, n); bytes.IndexByte(got, 0x1b) >= 0 {
		t.Errorf("colour sent to a player with colour off: %q", got)
	}
	alice.Send("colour")
	alice.Expect("Your colour is on.")
	alice.Send("colour off")
	alice.Expect("Colour is off")
	n = len(alice.Raw())
	bob.Send("say ^Rplain again")
	alice.Expect("Bob says 'plain again'")
	if got := rawSince(alice, n); bytes.IndexByte(got, 0x1b) >= 0 {
		t.Errorf("colour after colour off: %q", got)
	}
	alice.Send("colour sometimes")
	alice.Expect("Usage: colour")
}

func TestPrompts(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("prompt")
	alice.Expect("Your prompt is off; its text is '> '.")
	alice.Send("look")
	alice.Expect("Exits:")
	before := alice.Prompts()
	alice.Send("prompt on")
	alice.Expect("Your prompt is on.")
	alice.Expect("> ")
	time.Sleep(100 * time.Millisecond)
	if alice.Prompts() != before+1 {
		t.Errorf("prompt marks after 'prompt on': %d, want %d", alice.Prompts(), before+1)
	}
	// Someone else talking does not produce a prompt.
	bob.Send("say hi")
	alice.Expect("Bob says 'hi'")
	time.Sleep(100 * time.Millisecond)
	if alice.Prompts() != before+1 {
		t.Error("a prompt after someone else's line")
	}
	alice.Send("prompt ^Gchat>")
	alice.Expect("Your prompt is now 'chat>'.")
	alice.Expect("chat> ")
	alice.Send("")
	alice.Expect("chat> ")
	alice.Send("say x")
	alice.Expect("You say 'x'\nchat> ")
	alice.Send("prompt off")
	alice.Expect("Your prompt is off.")
	n := alice.Prompts()
	alice.Send("look")
	alice.Expect("Exits:")
	time.Sleep(100 * time.Millisecond)
	if alice.Prompts() != n {
		t.Error("a prompt with prompts off")
	}
}

func TestTimestamps(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("timestamps on")
	alice.Expect("Timestamps are on.")
	bob.Send("say what time is it?")
	line := alice.Expect("Bob asks 'what time is it?'")
	if !regexp.MustCompile(`\[\d\d:\d\d\] Bob asks`).MatchString(line) {
		t.Errorf("no timestamp: %q", line)
	}
	alice.Send("look")
	got := alice.Expect("Exits:")
	if strings.Contains(got, "] The Main Room") {
		t.Errorf("command output timestamped: %q", got)
	}
	alice.Send("timestamps off")
	alice.Expect("Timestamps are off.")
	bob.Send("say now?")
	if line := alice.Expect("Bob asks 'now?'"); strings.Contains(line, "[") {
		t.Errorf("timestamp after timestamps off: %q", line)
	}
}

func TestSettingsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	ts := startServerIn(t, dir)
	a := ts.newPlayer("Alice")
	ts.newPlayer("Bob").Send("quit")
	for _, c := range []string{"colour on", "prompt hi>", "timestamps on", "earmuffs on", "entermsg strolls in.",
		"exitmsg strolls out.", "friend bob", "ignore bob shouts"} {
		a.Send(c)
		a.Expect("\n")
	}
	a.Send("timestamps")
	a.Expect("Your timestamps are on.")
	ts.stop()
	a.WaitClosed()

	ts2 := startServerIn(t, dir)
	a = ts2.login("Alice")
	for cmd, want := range map[string]string{
		"colour":     "Your colour is on.",
		"prompt":     "Your prompt is on; its text is 'hi> ",
		"timestamps": "Your timestamps are on.",
		"earmuffs":   "Your earmuffs are on.",
		"entermsg":   "Your entry message: Alice strolls in.",
		"exitmsg":    "Your exit message: Alice strolls out.",
		"friend":     "People on your friend list: Bob.",
		"ignore":     "Bob: shouts",
	} {
		a.Send(cmd)
		a.Expect(want)
	}
}

// TestRoomLineRenderedPerListener: one line said in a room is rendered
// once per style of listener (see lineCache), and each listener still
// gets their own: colour or not, timestamped or not, wrapped to their
// window.
func TestRoomLineRenderedPerListener(t *testing.T) {
	ts := startServer(t)
	speaker := ts.newPlayer("Speaker")
	plain, coloured, stamped := ts.newPlayer("Plain"), ts.newPlayer("Coloured"), ts.newPlayer("Stamped")
	narrow := ts.newPlayer("Narrow")
	coloured.Send("colour on")
	coloured.Expect("underline")
	stamped.Send("timestamps on")
	stamped.Expect("Timestamps are on.")
	narrow.Resize(30, 20)
	narrow.Send("look")
	narrow.Expect("Exits:")
	marks := map[*talkertest.Client]int{}
	for _, c := range []*talkertest.Client{plain, coloured, stamped, narrow} {
		marks[c] = len(c.Raw())
	}
	speaker.Send("say ^Rred^N words that go on long enough to need wrapping in a narrow window")
	for _, c := range []*talkertest.Client{plain, coloured, stamped, narrow} {
		c.Expect("narrow window'")
	}
	// The said line alone, from its start to its end.
	got := func(c *talkertest.Client) string {
		g := string(rawSince(c, marks[c]))
		start := strings.LastIndex(g[:strings.Index(g, "Speaker says")+1], "\n") + 1
		end := strings.Index(g, "window'") + len("window'")
		return g[start:end]
	}
	if g := got(plain); strings.Contains(g, "\x1b") || strings.Contains(g, "[") || !strings.Contains(g, "Speaker says 'red words") {
		t.Errorf("plain listener got %q", g)
	}
	if g := got(coloured); !strings.Contains(g, "\x1b[1;31mred\x1b[0m") {
		t.Errorf("colour listener got %q", g)
	}
	if g := got(stamped); !regexp.MustCompile(`\[\d\d:\d\d\] Speaker says`).MatchString(g) || strings.Contains(g, "\x1b") {
		t.Errorf("timestamped listener got %q", g)
	}
	if g := got(narrow); strings.Count(g, "\r\n") < 2 {
		t.Errorf("narrow listener's line not wrapped to 30 columns: %q", g)
	}
	if g := got(plain); strings.Contains(g, "\r\n") {
		t.Errorf("wide listener's line wrapped: %q", g)
	}
}
