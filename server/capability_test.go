package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

// tintin is how TinTin++ answers the TTYPE cycle: MTTS 271 is ANSI, VT100,
// UTF-8, 256 colours and true colour.
var tintin = talkertest.Options{Width: 120, Height: 40, TTypes: []string{"TINTIN++", "XTERM-256COLOR", "MTTS 271"}}

// dialAs connects with opts and waits until the TTYPE cycle is over (the
// name prompt comes first: the greeting does not wait for it).
func (ts *testServer) dialAs(opts talkertest.Options) *talkertest.Client {
	c := ts.dial(opts)
	c.Expect("enter your name: ")
	c.Quiet(200 * time.Millisecond)
	return c
}

func hasEscape(b []byte) bool { return bytes.IndexByte(b, 0x1b) >= 0 }

// TestColourByCapability: a client that says it understands colour (MTTS,
// or its terminal type) gets colour without asking; one that says nothing
// does not; a player's own choice wins and is kept.
func TestColourByCapability(t *testing.T) {
	ts := startServer(t)
	bob := ts.newPlayer("Bob")

	tin := ts.dialAs(tintin)
	tin.Send("Tin")
	tin.Expect("(yes/no): ")
	tin.Send("yes")
	tin.Expect("Choose a password: ")
	tin.Send("secret-Tin")
	tin.Expect("again: ")
	tin.Send("secret-Tin")
	tin.Expect("Exits:")
	n := len(tin.Raw())
	bob.Send("say ^Rhello^N world")
	tin.Expect("world'")
	if got := rawSince(tin, n); !bytes.Contains(got, []byte("\x1b[1;31mhello\x1b[0m")) {
		t.Errorf("TinTin++ (MTTS 271) got no colour: %q", got)
	}
	tin.Send("colour")
	tin.Expect("Your colour is on (your client says it understands colour).")

	// A terminal type alone is enough.
	xterm := ts.dialAs(talkertest.Options{Width: 80, Height: 24, TTypes: []string{"XTERM-256COLOR"}})
	xterm.Send("Xterm")
	xterm.Expect("(yes/no): ")
	xterm.Send("yes")
	xterm.Expect("Choose a password: ")
	xterm.Send("secret-Xterm")
	xterm.Expect("again: ")
	xterm.Send("secret-Xterm")
	xterm.Expect("Exits:")
	n = len(xterm.Raw())
	bob.Send("say ^Gxterm")
	xterm.Expect("xterm'")
	if got := rawSince(xterm, n); !hasEscape(got) {
		t.Errorf("XTERM-256COLOR got no colour: %q", got)
	}

	// Bob's client said nothing: no colour.
	n = len(bob.Raw())
	xterm.Send("say ^Rplain")
	bob.Expect("plain'")
	if got := rawSince(bob, n); hasEscape(got) {
		t.Errorf("a client that said nothing got colour: %q", got)
	}

	// Turned off, it stays off, from the same client, at the next login.
	tin.Send("colour off")
	tin.Expect("Colour is off")
	if p := ts.player(t, "Tin"); !p.ColourChosen || p.Colour {
		t.Errorf("stored choice: chosen %v colour %v", p.ColourChosen, p.Colour)
	}
	tin.Send("quit")
	tin.WaitClosed()
	tin = ts.dialAs(tintin)
	tin.Send("Tin")
	tin.Expect("Password: ")
	tin.Send("secret-Tin")
	tin.Expect("Exits:")
	n = len(tin.Raw())
	bob.Send("say ^Ragain")
	tin.Expect("again'")
	if got := rawSince(tin, n); hasEscape(got) {
		t.Errorf("colour off was not kept for a capable client: %q", got)
	}
}

// TestScreenReader: the MTTS screen reader bit, or the player's setting,
// gives output without colour or decoration, and 'who' and 'look' as
// sentences; the setting is kept.
func TestScreenReader(t *testing.T) {
	ts := startServer(t)
	boss := ts.account("Boss", player.Admin)
	boss.Send("colour on")
	boss.Expect("underline")
	newbie := ts.newPlayer("Newb")

	// MTTS 65: ANSI and screen reader.
	reader := ts.dialAs(talkertest.Options{Width: 80, Height: 24, TTypes: []string{"MUDLET", "ANSI", "MTTS 65"}})
	reader.Send("Reader")
	reader.Expect("(yes/no): ")
	reader.Send("yes")
	reader.Expect("Choose a password: ")
	reader.Send("secret-Reader")
	reader.Expect("again: ")
	reader.Send("secret-Reader")
	reader.Expect("Exits:")

	n := len(reader.Raw())
	boss.Send("say ^Rred^N words")
	reader.Expect("words'")
	boss.Send("wall ---------- ^R*** Attention ***")
	reader.Expect("Attention")
	reader.Send("who")
	reader.Expect("Reader, newbie, in main.")
	got := string(rawSince(reader, n))
	if hasEscape([]byte(got)) {
		t.Errorf("colour to a screen reader: %q", got)
	}
	if strings.Contains(got, "***") || strings.Contains(got, "-----") {
		t.Errorf("decoration to a screen reader: %q", got)
	}
	for _, want := range []string{"Boss, admin, in main.", "Newb, newbie, in main.", "Reader, newbie, in main."} {
		if !strings.Contains(got, want) {
			t.Errorf("who read aloud: no %q in %q", want, got)
		}
	}
	if strings.Contains(got, "  [") || strings.Contains(got, "* Boss") || strings.Contains(got, "_ Newb") {
		t.Errorf("who with marks or padding for a screen reader: %q", got)
	}
	n = len(reader.Raw())
	reader.Send("look")
	reader.Expect("Here with you: ")
	reader.Expect(".\n")
	if got := string(rawSince(reader, n)); !strings.Contains(got, "Here with you: Boss and Newb.") {
		t.Errorf("look read aloud: %q", got)
	}

	// The same for someone who asks, on a client that says nothing; kept.
	newbie.Send("screenreader")
	newbie.Expect("Screen reader output is off (as your client says).")
	newbie.Send("screenreader on")
	newbie.Expect("Screen reader output is on")
	newbie.Send("who")
	newbie.Expect("Boss, admin, in main.")
	if p := ts.player(t, "Newb"); p.ScreenReader != player.ScreenReaderOn {
		t.Errorf("stored screen reader setting: %v", p.ScreenReader)
	}
	newbie.Send("quit")
	newbie.WaitClosed()
	newbie = ts.login("Newb")
	newbie.Send("who")
	newbie.Expect("Boss, admin, in main.")

	// And off wins over the client's bit; the others see marks as before.
	reader.Send("screenreader off")
	reader.Expect("Screen reader output is off.")
	n = len(reader.Raw())
	reader.Send("who")
	reader.Expect("Reader")
	reader.Quiet(100 * time.Millisecond)
	if got := string(rawSince(reader, n)); !strings.Contains(got, "* Boss") {
		t.Errorf("who after screenreader off: %q", got)
	}
}
