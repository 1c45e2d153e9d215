package telnet

import "testing"

func TestColourLevelAndScreenReader(t *testing.T) {
	for _, c := range []struct {
		client, terminal string
		mtts             int
		want             ColourLevel
		reader           bool
	}{
		{"", "", 0, ColourNone, false},
		{"TINTIN++", "XTERM-256COLOR", 271, ColourTrue, false},
		{"TINTIN++", "", 2825, ColourTrue, false},
		{"MUDLET", "ANSI-TRUECOLOR", 0, ColourTrue, false},
		{"", "XTERM-256COLOR", 0, Colour256, false},
		{"", "", 9, Colour256, false},
		{"", "", 65, Colour16, true},
		{"MUDLET", "", 0, Colour16, false},
		{"", "VT100", 0, Colour16, false},
		{"DUMB", "DUMB", 0, ColourNone, false},
		{"", "", 64, ColourNone, true},
	} {
		s := State{ClientName: c.client, Terminal: c.terminal, MTTS: c.mtts}
		if got := s.ColourLevel(); got != c.want {
			t.Errorf("%q %q MTTS %d: colour level %d, want %d", c.client, c.terminal, c.mtts, got, c.want)
		}
		if got := s.ScreenReader(); got != c.reader {
			t.Errorf("MTTS %d: screen reader %v", c.mtts, got)
		}
	}
}
