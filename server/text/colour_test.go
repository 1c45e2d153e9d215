package text

import (
	"strings"
	"testing"
)

func TestColourizeAndStrip(t *testing.T) {
	for _, c := range []struct{ in, ansi, plain string }{
		{"plain", "plain", "plain"},
		{"^Rred^N ok", "\x1b[1;31mred\x1b[0m ok", "red ok"},
		{"^rdark ^ggreen", "\x1b[0;31mdark \x1b[0;32mgreen", "dark green"},
		{"^Hbold^U under", "\x1b[1mbold\x1b[4m under", "bold under"},
		{"^y^Y^b^B^p^P^c^C^w^W", "\x1b[0;33m\x1b[1;33m\x1b[0;34m\x1b[1;34m\x1b[0;35m\x1b[1;35m\x1b[0;36m\x1b[1;36m\x1b[0;37m\x1b[1;37m", ""},
		{"a ^^ caret, ^^R not red", "a ^ caret, ^R not red", "a ^ caret, ^R not red"},
		{"^_^ and ^x and a trailing ^", "^_^ and ^x and a trailing ^", "^_^ and ^x and a trailing ^"},
	} {
		if got := Colourize(c.in); got != c.ansi {
			t.Errorf("Colourize(%q) = %q, want %q", c.in, got, c.ansi)
		}
		if got := StripColour(c.in); got != c.plain {
			t.Errorf("StripColour(%q) = %q, want %q", c.in, got, c.plain)
		}
	}
}

func TestCloseColoursNeverLeaksPastALine(t *testing.T) {
	got := CloseColours(Colourize("^Rred\nstill red^N\nplain\n^Gg^N"))
	want := "\x1b[1;31mred\x1b[0m\n\x1b[1;31mstill red\x1b[0m\nplain\n\x1b[1;32mg\x1b[0m"
	if got != want {
		t.Errorf("CloseColours = %q, want %q", got, want)
	}
	// Attributes add up until a colour code starts afresh.
	got = CloseColours(Colourize("^H^Ubold under"))
	if got != "\x1b[1m\x1b[4mbold under\x1b[0m" {
		t.Errorf("attributes: %q", got)
	}
	// A CR before the LF stays at the very end of the line.
	if got := CloseColours(Colourize("^rx\r\ny")); got != "\x1b[0;31mx\x1b[0m\r\n\x1b[0;31my\x1b[0m" {
		t.Errorf("CR LF: %q", got)
	}
	if got := CloseColours("no colour\nat all"); got != "no colour\nat all" {
		t.Errorf("plain text changed: %q", got)
	}
}

func TestWrapColouredText(t *testing.T) {
	in := Colourize(strings.Repeat("^Rword ", 10))
	out := CloseColours(Wrap(in, 20, 0))
	for _, line := range strings.Split(out, "\n") {
		if n := visibleLen(line); n > 20 {
			t.Errorf("line %q is %d columns", line, n)
		}
		if !strings.HasSuffix(line, Reset) {
			t.Errorf("coloured line %q does not end with a reset", line)
		}
	}
}

func TestStripControls(t *testing.T) {
	in := "ok\x1b[2J\x07 line\r\nnext\x7f \u0085\u009b31m £"
	if got := StripControls(in); got != "ok[2J line\r\nnext 31m £" {
		t.Errorf("StripControls = %q", got)
	}
	for _, s := range []string{"fast path é ü \uFFFD\r\nand a line\n", "slow path (0xc2 in £) \uFFFD"} {
		if StripControls(s) != s {
			t.Errorf("clean text changed: %q -> %q", s, StripControls(s))
		}
	}
	// A raw C1 byte in invalid UTF-8 (0x9b is CSI to a Latin-1 terminal)
	// and a lone CR (which overwrites the line) do not pass either.
	for in, want := range map[string]string{
		"\x9b2Jcleared":       "?2Jcleared",
		"caf\xe9 \x9b31m":     "caf? ?31m",
		"fake\rreal":          "fakereal",
		"ends with CR\r":      "ends with CR",
		"kept\r\nlines\r\r\n": "kept\r\nlines\r\n",
	} {
		if got := StripControls(in); got != want {
			t.Errorf("StripControls(%q) = %q, want %q", in, got, want)
		}
	}
}
