package telnet

import "testing"

// TestMCCP2NegotiationAtEverySplit: the server's offer (WILL COMPRESS2) is
// agreed by the client's DO, refused by its DONT, and a later DONT turns
// an agreed option off with one WONT, whichever way the client's bytes are
// split across reads; an unsolicited DO is refused (the offer is the
// server's, package server's mccp.go). Package conn compresses.
func TestMCCP2NegotiationAtEverySplit(t *testing.T) {
	cases := []struct {
		name    string
		offered bool
		in      []byte
		want    Q      // the option's state after
		reply   string // negotiations sent back
	}{
		{"agreed", true, []byte{IAC, DO, OptMCCP2}, QYes, ""},
		{"refused", true, []byte{IAC, DONT, OptMCCP2}, QNo, ""},
		{"agreed then stopped", true, []byte{IAC, DO, OptMCCP2, 'x', IAC, DONT, OptMCCP2}, QNo, "WONT 86"},
		{"asked for unoffered", false, []byte{IAC, DO, OptMCCP2}, QNo, "WONT 86"},
		{"agreed twice", true, []byte{IAC, DO, OptMCCP2, IAC, DO, OptMCCP2}, QYes, ""},
	}
	for _, tc := range cases {
		for split := 0; split <= len(tc.in); split++ {
			s := NewState()
			if tc.offered {
				if v := s.Options.Request(SideUs, OptMCCP2, true); v != WILL {
					t.Fatalf("offer sent %d", v)
				}
			}
			d := NewDecoder(100, 100)
			var replies []byte
			for _, part := range [][]byte{tc.in[:split], tc.in[split:]} {
				for _, ev := range d.Feed(part, nil) {
					r, _ := s.Handle(ev, nil)
					replies = append(replies, r...)
				}
			}
			if got := s.Options.Get(SideUs, OptMCCP2); got != tc.want {
				t.Errorf("%s, split at %d: %v, want %v", tc.name, split, got, tc.want)
			}
			if got := negs(new(Decoder).Feed(replies, nil)); got != tc.reply {
				t.Errorf("%s, split at %d: replied %q, want %q", tc.name, split, got, tc.reply)
			}
		}
	}
}
