package telnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

var testMSSP = func() []MSSPVar {
	return []MSSPVar{{"NAME", "Talker"}, {"PLAYERS", "3"}}
}

// server is the State side of a wired-up connection.
type server struct {
	st      State
	dec     Decoder
	changed Change
	reboot  bool // serialise State and Decoder mid-input, as a reboot would
}

func (s *server) recv(in []byte) []byte {
	var out []byte
	half := len(in) / 2
	evs := s.dec.Feed(in[:half], nil)
	if s.reboot {
		s.st, s.dec = roundTripState(s.st), roundTripDecoder(s.dec)
	}
	evs = s.dec.Feed(in[half:], evs)
	for _, ev := range evs {
		r, c := s.st.Handle(ev, testMSSP)
		out = append(out, r...)
		s.changed |= c
	}
	return out
}

func roundTripState(s State) State {
	j, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var out State
	if err := json.Unmarshal(j, &out); err != nil {
		panic(err)
	}
	return out
}

func roundTripDecoder(d Decoder) Decoder {
	j, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	var out Decoder
	if err := json.Unmarshal(j, &out); err != nil {
		panic(err)
	}
	return out
}

// fakeClient is a scripted, deliberately naive client: it answers every
// negotiation it receives, including ones that change nothing, which is
// exactly what would loop against a server without the Q method.
type fakeClient struct {
	dec     Decoder
	agree   bool     // answer WILL/DO with DO/WILL (else DONT/WONT)
	names   []string // TTYPE IS replies in order; the last one repeats
	sent    int      // TTYPE replies sent
	charset string   // answer to CHARSET REQUEST: "" rejects
	got     []Event
	negs    int // negotiations received
}

func (c *fakeClient) recv(in []byte) []byte {
	var out []byte
	for _, ev := range c.dec.Feed(in, nil) {
		c.got = append(c.got, ev)
		switch ev.Kind {
		case EventNegotiation:
			c.negs++
			pos := map[byte]byte{WILL: DO, DO: WILL}[ev.Verb]
			refuse := map[byte]byte{WILL: DONT, WONT: DONT, DO: WONT, DONT: WONT}[ev.Verb]
			if c.agree && pos != 0 {
				out = AppendNegotiation(out, pos, ev.Option)
			} else {
				out = AppendNegotiation(out, refuse, ev.Option)
			}
		case EventSubneg:
			switch {
			case ev.Option == OptTType && bytes.Equal(ev.Data, []byte{ttypeSEND}) && len(c.names) > 0:
				name := c.names[min(c.sent, len(c.names)-1)]
				c.sent++
				out = AppendSubneg(out, OptTType, append([]byte{ttypeIS}, name...))
			case ev.Option == OptCharset && len(ev.Data) > 0 && ev.Data[0] == charsetRequest:
				if c.charset == "" {
					out = AppendSubneg(out, OptCharset, []byte{charsetRejected})
				} else {
					out = AppendSubneg(out, OptCharset, append([]byte{charsetAccepted}, c.charset...))
				}
			}
		}
	}
	return out
}

type endpoint interface{ recv([]byte) []byte }

// pump exchanges messages until both sides are quiet and returns the number
// of round trips; it fails the test if the exchange does not settle.
func pump(t *testing.T, a, b endpoint, fromA, fromB []byte) int {
	t.Helper()
	rounds := 0
	for len(fromA) > 0 || len(fromB) > 0 {
		if rounds++; rounds > 20 {
			t.Fatalf("negotiation loop: still exchanging %q / %q", fromA, fromB)
		}
		fromA, fromB = a.recv(fromB), b.recv(fromA)
	}
	return rounds
}

func neg3(verb, opt byte) []byte { return []byte{IAC, verb, opt} }

func TestOpen(t *testing.T) {
	s := NewState()
	want := cat(b(IAC, WILL, OptEOR, IAC, DO, OptNAWS, IAC, DO, OptTType, IAC, WILL, OptCharset, IAC, WILL, OptMSSP, IAC, WILL, OptGMCP))
	if got := s.Open(); !bytes.Equal(got, want) {
		t.Fatalf("Open = %v, want %v", got, want)
	}
	if q := s.Options.Get(SideHim, OptTType); q != QWantYes {
		t.Fatalf("TTYPE state %v", q)
	}
	if got := s.Open(); got != nil {
		t.Fatalf("second Open sent %v", got)
	}
}

// TestFullSession wires a State to a realistic client and checks the
// outcome, then repeats with the server "rebooting" (JSON round trip of
// State and Decoder, mid-input) at every step, which must change nothing.
func TestFullSession(t *testing.T) {
	run := func(reboot bool) (*server, *fakeClient, int) {
		srv := &server{st: NewState(), dec: NewDecoder(0, 0), reboot: reboot}
		cl := &fakeClient{agree: true, names: []string{"Mudlet", "XTERM-256COLOR", "MTTS 2349"}, charset: "UTF-8"}
		hello := cat(b(IAC, SB, OptNAWS, 0, 132, 0, 50, IAC, SE)) // arrives before WILL NAWS: ignored
		rounds := pump(t, srv, cl, srv.st.Open(), hello)
		// Now the client reports its window size for real.
		pump(t, srv, cl, nil, cat(b(IAC, SB, OptNAWS, 0, 120, 0, 40, IAC, SE)))
		return srv, cl, rounds
	}
	srv, cl, rounds := run(false)
	st := &srv.st
	if rounds > 8 { // offers, then three TTYPE round trips
		t.Errorf("took %d rounds", rounds)
	}
	if st.Width != 120 || st.Height != 40 || st.ClientName != "MUDLET" || st.Terminal != "XTERM-256COLOR" ||
		st.MTTS != 2349 || !st.TTypeDone || st.Charset != "UTF-8" || !st.UTF8() || !st.SupportsColour() {
		t.Errorf("state %+v", *st)
	}
	for _, o := range []struct {
		side Side
		opt  byte
	}{{SideUs, OptEOR}, {SideUs, OptCharset}, {SideUs, OptMSSP}, {SideHim, OptNAWS}, {SideHim, OptTType}} {
		if !st.Options.Enabled(o.side, o.opt) {
			t.Errorf("side %d option %d not enabled", o.side, o.opt)
		}
	}
	if q := st.Options.Get(SideUs, OptSGA); q != QNo {
		t.Errorf("SGA %v", q)
	}
	if want := ChangedSize | ChangedTType | ChangedCharset | ChangedPrompt | ChangedGMCP; srv.changed != want {
		t.Errorf("changed %b want %b", srv.changed, want)
	}
	if !bytes.Equal(st.PromptEnd(), []byte{IAC, EOR}) {
		t.Errorf("PromptEnd %v", st.PromptEnd())
	}
	var sawMSSP bool
	for _, ev := range cl.got {
		sawMSSP = sawMSSP || ev.Kind == EventSubneg && ev.Option == OptMSSP
	}
	if !sawMSSP || cl.sent != 3 {
		t.Errorf("mssp %v, ttype replies %d", sawMSSP, cl.sent)
	}

	srv2, cl2, _ := run(true)
	j1, _ := json.Marshal(srv.st)
	j2, _ := json.Marshal(srv2.st)
	if string(j1) != string(j2) || !eventsEqual(cl.got, cl2.got) {
		t.Errorf("rebooting changed the outcome:\n%s\n%s\n%v\n%v", j1, j2, cl.got, cl2.got)
	}
}

// TestNoLoops wires the server to clients that answer everything blindly,
// and to another State, and checks that the exchange settles quickly.
func TestNoLoops(t *testing.T) {
	// The client opens by asking for every option in both directions.
	var flood []byte
	for opt := range 256 {
		flood = append(flood, IAC, WILL, byte(opt), IAC, DO, byte(opt))
	}
	for _, agree := range []bool{true, false} {
		t.Run(fmt.Sprint("agree=", agree), func(t *testing.T) {
			srv := &server{st: NewState()}
			cl := &fakeClient{agree: agree, names: []string{"A", "B", "C", "D"}}
			rounds := pump(t, srv, cl, srv.st.Open(), flood)
			if rounds > 8 {
				t.Errorf("took %d rounds", rounds)
			}
			// Each option costs the server at most one answer to the
			// flood plus its own offer and one follow-up.
			if cl.negs > 2*256+6 {
				t.Errorf("server sent %d negotiations", cl.negs)
			}
			// Password mode costs exactly one WILL and one WONT.
			before := cl.negs
			pump(t, srv, cl, srv.st.SetPasswordMode(true), nil)
			pump(t, srv, cl, srv.st.SetPasswordMode(false), nil)
			if n := cl.negs - before; agree && n != 2 || !agree && n != 1 {
				t.Errorf("password phase sent %d ECHO negotiations", n)
			}
			if srv.st.Options.Get(SideUs, OptEcho) != QNo {
				t.Errorf("echo left %v", srv.st.Options.Get(SideUs, OptEcho))
			}
			for _, opt := range []byte{OptLinemode, OptMCCP2, OptMCCP3, OptNewEnviron, OptEcho, OptSGA} {
				if st := srv.st.Options; st.Get(SideUs, opt) != QNo || st.Get(SideHim, opt) != QNo {
					t.Errorf("option %d accepted", opt)
				}
			}
		})
	}
	t.Run("two servers", func(t *testing.T) {
		a, b := &server{st: NewState()}, &server{st: NewState()}
		if rounds := pump(t, a, b, a.st.Open(), b.st.Open()); rounds > 3 {
			t.Errorf("took %d rounds", rounds)
		}
	})
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		in, want []byte
	}{
		{neg3(DO, OptLinemode), neg3(WONT, OptLinemode)},
		{neg3(WILL, OptLinemode), neg3(DONT, OptLinemode)},
		{neg3(DO, OptMCCP2), neg3(WONT, OptMCCP2)},
		{neg3(DO, OptMCCP3), neg3(WONT, OptMCCP3)},
		{neg3(DO, OptGMCP), neg3(WILL, OptGMCP)}, // offered by Open; a client may also ask first
		{neg3(WILL, OptNewEnviron), neg3(DONT, OptNewEnviron)},
		{neg3(DO, OptEcho), neg3(WONT, OptEcho)}, // unprompted, not in password mode
		{neg3(DONT, OptEcho), nil},
		{neg3(WONT, OptLinemode), nil},
		{neg3(DO, OptSGA), neg3(WONT, OptSGA)}, // would put BSD telnet and PuTTY in character mode
		{neg3(WILL, OptSGA), neg3(DONT, OptSGA)},
		{neg3(WILL, OptNAWS), neg3(DO, OptNAWS)},
	}
	for _, tt := range tests {
		s := NewState()
		d := NewDecoder(0, 0)
		var got []byte
		for _, ev := range d.Feed(tt.in, nil) {
			r, _ := s.Handle(ev, testMSSP)
			got = append(got, r...)
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%v: got %v want %v", tt.in, got, tt.want)
		}
		// A repeat of an accepted request must not be answered.
		if tt.in[1] == WILL || tt.in[1] == DO {
			if r, _ := s.Handle(Event{Kind: EventNegotiation, Verb: tt.in[1], Option: tt.in[2]}, nil); s.accepts(map[byte]Side{WILL: SideHim, DO: SideUs}[tt.in[1]], tt.in[2]) && r != nil {
				t.Errorf("%v repeated: answered %v", tt.in, r)
			}
		}
	}
}

// agreed returns a State that has agreed the given options with the client.
func agreed(t *testing.T, opts ...Event) *State {
	t.Helper()
	s := NewState()
	s.Open()
	for _, ev := range opts {
		s.Handle(ev, nil)
	}
	return &s
}

func naws(w, h int) Event {
	return sub(OptNAWS, b(byte(w>>8), byte(w), byte(h>>8), byte(h)))
}

func TestNAWS(t *testing.T) {
	s := agreed(t, neg(WILL, OptNAWS))
	tests := []struct {
		ev      Event
		w, h    int
		changed Change
	}{
		{naws(80, 24), 80, 24, ChangedSize},
		{naws(80, 24), 80, 24, 0},
		{naws(255, 255), 255, 255, ChangedSize},
		{naws(0, 0), 0, 0, ChangedSize},
		{naws(5000, 65535), MaxSize, MaxSize, ChangedSize},
		{sub(OptNAWS, b(0, 80, 0)), MaxSize, MaxSize, 0},        // malformed
		{sub(OptNAWS, b(0, 80, 0, 24, 0)), MaxSize, MaxSize, 0}, // malformed
	}
	for i, tt := range tests {
		r, c := s.Handle(tt.ev, nil)
		if r != nil || c != tt.changed || s.Width != tt.w || s.Height != tt.h {
			t.Errorf("%d: reply %v changed %b size %dx%d", i, r, c, s.Width, s.Height)
		}
	}
	// Unsolicited NAWS (no WILL NAWS) is ignored.
	s2 := NewState()
	if _, c := s2.Handle(naws(80, 24), nil); c != 0 || s2.Width != 0 {
		t.Errorf("unsolicited NAWS accepted")
	}
}

func TestTTypeCycle(t *testing.T) {
	tests := []struct {
		name             string
		replies          []string
		client, terminal string
		mtts, requests   int
	}{
		{"mtts client", []string{"Mudlet", "xterm-256color", "MTTS 137"}, "MUDLET", "XTERM-256COLOR", 137, 3},
		{"single name repeated", []string{"xterm", "xterm"}, "XTERM", "", 0, 2},
		{"two names then repeat", []string{"TINTIN++", "ANSI", "ANSI"}, "TINTIN++", "ANSI", 0, 3},
		{"mtts first", []string{"MTTS 9"}, "", "", 9, 1},
		{"mtts second", []string{"FOO", "MTTS 5"}, "FOO", "", 5, 2},
		{"three names", []string{"A", "B", "C", "D"}, "A", "B", 0, 3},
		{"bad mtts", []string{"A", "B", "MTTS x"}, "A", "B", 0, 3},
		{"sanitised", []string{"tin\x00tin\xff++  \x1b", strings.Repeat("x", 100)}, "TINTIN++", strings.Repeat("X", MaxTTypeName), 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState()
			s.Open()
			r, _ := s.Handle(neg(WILL, OptTType), nil)
			send := cat(b(IAC, SB, OptTType, ttypeSEND, IAC, SE))
			if !bytes.Equal(r, send) {
				t.Fatalf("WILL TTYPE answered %v", r)
			}
			for i := 0; i < 10 && !s.TTypeDone; i++ {
				reply := tt.replies[min(i, len(tt.replies)-1)]
				r, c := s.Handle(sub(OptTType, "\x00"+reply), nil)
				if c != ChangedTType {
					t.Fatalf("reply %d: changed %b", i, c)
				}
				if s.TTypeDone != (r == nil) || r != nil && !bytes.Equal(r, send) {
					t.Fatalf("reply %d: done=%v answered %v", i, s.TTypeDone, r)
				}
			}
			if !s.TTypeDone || s.ClientName != tt.client || s.Terminal != tt.terminal ||
				s.MTTS != tt.mtts || s.TTypeRequests != tt.requests {
				t.Fatalf("state %+v", s)
			}
			// Further replies are unsolicited and ignored.
			if r, c := s.Handle(sub(OptTType, "\x00OTHER"), nil); r != nil || c != 0 {
				t.Fatalf("late reply handled")
			}
		})
	}
	// A reply we did not ask for is ignored.
	s := NewState()
	s.Options.set(SideHim, OptTType, QYes)
	if _, c := s.Handle(sub(OptTType, "\x00X"), nil); c != 0 || s.ClientName != "" {
		t.Fatalf("unrequested reply accepted")
	}
	// WONT TTYPE mid-cycle ends it.
	s = NewState()
	s.Open()
	s.Handle(neg(WILL, OptTType), nil)
	if r, c := s.Handle(neg(WONT, OptTType), nil); !bytes.Equal(r, neg3(DONT, OptTType)) || c != ChangedTType || !s.TTypeDone {
		t.Fatalf("WONT TTYPE: %v %b %+v", r, c, s)
	}
}

func TestCharset(t *testing.T) {
	request := cat(b(IAC, SB, OptCharset, charsetRequest), ";UTF-8", b(IAC, SE))
	tests := []struct {
		name    string
		ev      Event
		reply   []byte
		charset string
	}{
		{"accepted", sub(OptCharset, "\x02UTF-8"), nil, "UTF-8"},
		{"accepted lower case", sub(OptCharset, "\x02utf-8"), nil, "UTF-8"},
		{"accepted other", sub(OptCharset, "\x02ISO-8859-1"), nil, ""},
		{"rejected", sub(OptCharset, "\x03"), nil, ""},
		{"client request", sub(OptCharset, "\x01 US-ASCII utf-8"), cat(b(IAC, SB, OptCharset, charsetAccepted), "utf-8", b(IAC, SE)), "UTF-8"},
		{"client request ttable", sub(OptCharset, "\x01[TTABLE]\x01;UTF-8"), cat(b(IAC, SB, OptCharset, charsetAccepted), "UTF-8", b(IAC, SE)), "UTF-8"},
		{"client request no utf-8", sub(OptCharset, "\x01;ISO-8859-1;US-ASCII"), cat(b(IAC, SB, OptCharset, charsetRejected, IAC, SE)), ""},
		{"client request empty", sub(OptCharset, "\x01"), cat(b(IAC, SB, OptCharset, charsetRejected, IAC, SE)), ""},
		{"empty", sub(OptCharset, ""), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState()
			s.Open()
			if r, _ := s.Handle(neg(DO, OptCharset), nil); !bytes.Equal(r, request) {
				t.Fatalf("DO CHARSET answered %v", r)
			}
			r, c := s.Handle(tt.ev, nil)
			if !bytes.Equal(r, tt.reply) || s.Charset != tt.charset || (c == ChangedCharset) != (tt.charset != "") {
				t.Fatalf("reply %q changed %b charset %q", r, c, s.Charset)
			}
			if s.UTF8() != (tt.charset != "") {
				t.Fatalf("UTF8() = %v", s.UTF8())
			}
		})
	}
	// Without CHARSET agreed, subnegotiations are ignored.
	s := NewState()
	if r, c := s.Handle(sub(OptCharset, "\x02UTF-8"), nil); r != nil || c != 0 || s.Charset != "" {
		t.Fatalf("unagreed CHARSET handled")
	}
}

func TestMSSP(t *testing.T) {
	s := NewState()
	s.Open()
	vars := func() []MSSPVar {
		return []MSSPVar{{"NAME", "Tälker"}, {"PLAYERS", "12"}, {"\x01\x02", "dropped"}, {"CODE\x00", "a\x01b\x02c\xffd"}}
	}
	r, c := s.Handle(neg(DO, OptMSSP), vars)
	want := cat(b(IAC, SB, OptMSSP, 1), "NAME", b(2), "Tälker", b(1), "PLAYERS", b(2), "12", b(1), "CODE", b(2), "abcd", b(IAC, SE))
	if !bytes.Equal(r, want) || c != 0 {
		t.Fatalf("got %q want %q", r, want)
	}
	if r, _ := s.Handle(neg(DO, OptMSSP), vars); r != nil {
		t.Fatalf("repeated DO MSSP answered %q", r)
	}
	// Client asks first: WILL MSSP and the data go out together.
	s = NewState()
	r, _ = s.Handle(neg(DO, OptMSSP), vars)
	if !bytes.HasPrefix(r, neg3(WILL, OptMSSP)) || !bytes.Equal(r[3:], want) {
		t.Fatalf("got %q", r)
	}
}

func TestPasswordMode(t *testing.T) {
	will, wont := neg3(WILL, OptEcho), neg3(WONT, OptEcho)
	s := agreed(t, neg(DO, OptEOR)) // a telnet client: it answered
	step := func(on bool, want []byte) {
		t.Helper()
		if got := s.SetPasswordMode(on); !bytes.Equal(got, want) {
			t.Fatalf("SetPasswordMode(%v) = %v, want %v (state %v)", on, got, want, s.Options.Get(SideUs, OptEcho))
		}
	}
	handle := func(ev Event, want []byte, changed Change) {
		t.Helper()
		if r, c := s.Handle(ev, nil); !bytes.Equal(r, want) || c != changed {
			t.Fatalf("%v: got %v %b", ev, r, c)
		}
	}
	step(true, will)
	step(true, nil)
	handle(neg(DO, OptEcho), nil, ChangedEcho)
	handle(neg(DO, OptEcho), nil, 0) // redundant: not answered
	step(false, wont)
	step(false, nil)
	handle(neg(DONT, OptEcho), nil, 0) // we stopped at WONT: the ack changes nothing
	step(true, will)                   // second password prompt
	handle(neg(DO, OptEcho), nil, ChangedEcho)
	step(false, wont)
	handle(neg(DONT, OptEcho), nil, 0)

	// Toggled faster than the client answers: still one WILL, one WONT.
	step(true, will)
	step(false, nil) // queued behind the pending WILL
	step(true, nil)  // queue cancelled
	step(false, nil) // queued again
	handle(neg(DO, OptEcho), wont, 0)
	handle(neg(DONT, OptEcho), nil, 0)
	if q := s.Options.Get(SideUs, OptEcho); q != QNo {
		t.Fatalf("echo %v", q)
	}

	// A client refusing ECHO is not asked again in the same phase.
	step(true, will)
	handle(neg(DONT, OptEcho), nil, 0)
	step(false, nil)
	// In password mode an unprompted DO ECHO is fine.
	s.SetPasswordMode(true)
	s.Handle(neg(DONT, OptEcho), nil)
	handle(neg(DO, OptEcho), will, ChangedEcho)
}

func TestPromptEnd(t *testing.T) {
	tests := []struct {
		name string
		evs  []Event
		want []byte
	}{
		{"eor", []Event{neg(DO, OptEOR)}, []byte{IAC, EOR}},
		{"eor asked for by sga", []Event{neg(DO, OptEOR), neg(DO, OptSGA)}, []byte{IAC, EOR}},
		{"eor refused", []Event{neg(DONT, OptEOR)}, []byte{IAC, GA}},
		{"sga asked for, refused", []Event{neg(DONT, OptEOR), neg(DO, OptSGA)}, []byte{IAC, GA}},
		{"nothing answered", nil, nil}, // netcat: GA would show as garbage
	}
	for _, tt := range tests {
		s := agreed(t, tt.evs...)
		if got := s.PromptEnd(); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %v want %v", tt.name, got, tt.want)
		}
	}
	// A session carried from a build that agreed SGA keeps going without GA.
	carried := State{Options: Options{Us: map[byte]Q{OptSGA: QYes}, Him: map[byte]Q{OptNAWS: QYes}}}
	if got := carried.PromptEnd(); got != nil {
		t.Errorf("carried SGA: got %v", got)
	}
	if got := (&State{}).PromptEnd(); !bytes.Equal(got, []byte{IAC, GA}) {
		t.Errorf("never opened: got %v", got)
	}
}

func TestSupportsColourAndUTF8(t *testing.T) {
	tests := []struct {
		s            State
		colour, utf8 bool
	}{
		{State{}, false, false},
		{State{ClientName: "DUMB"}, false, false},
		{State{ClientName: "XTERM"}, true, false},
		{State{ClientName: "FOO", Terminal: "XTERM-256COLOR"}, true, false},
		{State{ClientName: "VT100"}, true, false},
		{State{ClientName: "UNKNOWN", Terminal: "ANSI"}, true, false},
		{State{MTTS: MTTSANSI | MTTSUTF8}, true, true},
		{State{MTTS: MTTSUTF8}, false, true},
		{State{Charset: "UTF-8"}, false, true},
	}
	for i, tt := range tests {
		if tt.s.SupportsColour() != tt.colour || tt.s.UTF8() != tt.utf8 {
			t.Errorf("%d: %+v colour %v utf8 %v", i, tt.s, tt.s.SupportsColour(), tt.s.UTF8())
		}
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	s := agreed(t, neg(WILL, OptNAWS), naws(100, 30), neg(WILL, OptTType), sub(OptTType, "\x00MUDLET"), neg(DO, OptCharset))
	s.SetPasswordMode(true) // leaves ECHO pending in WANTYES
	s.SetPasswordMode(false)
	back := roundTripState(*s)
	j1, _ := json.Marshal(s)
	j2, _ := json.Marshal(back)
	if string(j1) != string(j2) {
		t.Fatalf("round trip changed state:\n%s\n%s", j1, j2)
	}
	// Both continue identically.
	for _, ev := range []Event{neg(DO, OptEcho), sub(OptTType, "\x00XTERM"), sub(OptCharset, "\x02UTF-8"), naws(90, 20)} {
		r1, c1 := s.Handle(ev, nil)
		r2, c2 := back.Handle(ev, nil)
		if !bytes.Equal(r1, r2) || c1 != c2 {
			t.Fatalf("%v: %v/%b vs %v/%b", ev, r1, c1, r2, c2)
		}
	}
	j1, _ = json.Marshal(s)
	j2, _ = json.Marshal(back)
	if string(j1) != string(j2) {
		t.Fatalf("diverged:\n%s\n%s", j1, j2)
	}
	t.Logf("serialised State: %s", j1)
}
