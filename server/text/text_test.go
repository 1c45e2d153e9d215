package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanNeutralisesEscapes(t *testing.T) {
	cases := map[string]string{
		"hello":                   "hello",
		"  spaced  ":              "spaced",
		"red \x1b[31mtext\x1b[0m": "red [31mtext[0m",
		"bell\x07 and\x00nul":     "bell andnul",
		"tab\there":               "tab here",
		"c1 \xc2\x9b2J":           "c1 2J", // U+009B is a one-byte CSI on some terminals
		"bidi \u202eevil":         "bidi evil",
		"caf\xe9":                 "café", // Latin-1 fallback
		"ok ünïcödé ✓":            "ok ünïcödé ✓",
		"del\x7f":                 "del",
		"osc \x1b]0;title\x07":    "osc ]0;title",
	}
	for in, want := range cases {
		if got := Clean([]byte(in)); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanNeverEmitsControls(t *testing.T) {
	raw := make([]byte, 0, 512)
	for i := 0; i < 256; i++ {
		raw = append(raw, byte(i))
	}
	out := Clean(raw)
	if !utf8.ValidString(out) {
		t.Fatalf("invalid utf-8 out")
	}
	for _, r := range out {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Fatalf("control %U survived", r)
		}
	}
}

func TestWrap(t *testing.T) {
	s := "Alice says 'the quick brown fox jumps over the lazy dog and keeps running far away'"
	got := Wrap(s, 30, 2)
	for _, line := range strings.Split(got, "\n") {
		if visibleLen(line) > 30 {
			t.Errorf("line too long (%d): %q", visibleLen(line), line)
		}
	}
	if strings.ReplaceAll(strings.ReplaceAll(got, "\n  ", " "), "\n", " ") != s {
		t.Errorf("wrap lost words: %q", got)
	}
	long := strings.Repeat("x", 75)
	for _, line := range strings.Split(Wrap(long, 30, 0), "\n") {
		if len(line) > 30 {
			t.Errorf("long word not cut: %q", line)
		}
	}
	if Wrap("short", 80, 0) != "short" {
		t.Error("short line changed")
	}
	colour := "\x1b[31m" + strings.Repeat("ab ", 10) + "\x1b[0m"
	if strings.Contains(Wrap(colour, 40, 0), "\n") {
		t.Error("escape codes counted as visible width")
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("ünïcödé", 3); got != "ünï" {
		t.Errorf("got %q", got)
	}
}

func TestVisibleLenSkipsColourCodes(t *testing.T) {
	cases := map[string]int{"": 0, "abc": 3, "\x1b[31mred\x1b[0m": 3, "\x1b[1m": 0, "é\x1b[0m": 1, "a\x1b[31m\x1b[1mb": 2}
	for in, want := range cases {
		if got := visibleLen(in); got != want {
			t.Errorf("visibleLen(%q) = %d, want %d", in, got, want)
		}
	}
	if got := cutAt("\x1b[31mabc\x1b[0mdef", 4); got != len("\x1b[31mabc\x1b[0md") {
		t.Errorf("cutAt = %d", got)
	}
}

func TestCleanDropsInvisiblesAndMarkPiles(t *testing.T) {
	invisibles := []rune{0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0xfeff, 0x2028, 0x2029, 0x061c, 0x180e,
		0xe0000, 0xe0041, 0xe007f, 0x3164, 0x115f, 0x1160, 0xffa0,
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069}
	for _, r := range invisibles {
		in := "Bo" + string(r) + "ss"
		if got := Clean([]byte(in)); got != "Boss" {
			t.Errorf("Clean(%q) = %q, want %q", in, got, "Boss")
		}
	}
	cases := map[string]string{
		"e\u0301":                          "e\u0301",               // one accent stays
		"Vi\u1ec7t":                        "Vi\u1ec7t",             // precomposed
		"e\u0323\u0302t":                   "e\u0323\u0302t",        // two stay (Vietnamese)
		"z\u0301\u0302\u0303\u0304\u0305a": "z\u0301\u0302a",        // a pile is cut to two
		"a\u0301\u0302\u0303 b\u0301":      "a\u0301\u0302 b\u0301", // counted per base character
		"\u20dd\u20dd\u20dd":               "\u20dd\u20dd",          // enclosing marks too
	}
	for in, want := range cases {
		if got := Clean([]byte(in)); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// No line after a message's first may begin with a star: that is where the
// talker's own announcements stand (Marker).
func TestWrapNeverStartsAContinuationLineWithTheMarker(t *testing.T) {
	fake := Marker + " Boss has promoted you to admin."
	for width := 20; width <= 100; width++ {
		for pad := 0; pad < 100; pad++ {
			msg := "Boss " + strings.Repeat("x", pad%7) + strings.Repeat(" ", pad) + fake
			for _, in := range []string{msg, "Boss " + strings.Repeat("y", pad) + fake, "Boss\n" + fake, "Boss \x1b[31m" + strings.Repeat("z", pad) + " \x1b[1m" + fake} {
				lines := strings.Split(Wrap(in, width, 0), "\n")
				for _, l := range lines[1:] {
					for strings.HasPrefix(l, "\x1b[") {
						l = l[strings.IndexAny(l, "m")+1:]
					}
					if startsStarlike(l) {
						t.Fatalf("width %d: line %q of %q starts with a star", width, l, in)
					}
				}
			}
		}
	}
	for _, in := range []string{"***", "^R*** fake", "\uff0a\uff0a\uff0a fake", "\u2217 fake"} {
		if g := Guard(in); !strings.HasPrefix(g, " ") {
			t.Errorf("Guard(%q) = %q", in, g)
		}
	}
	if g := Guard("A *** room"); g != "A *** room" {
		t.Errorf("Guard changed %q", g)
	}
}
