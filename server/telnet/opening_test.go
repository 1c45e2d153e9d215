package telnet

import (
	"bytes"
	"strings"
	"testing"
)

// negs lists the negotiations among evs, e.g. "WILL 25 DO 31".
func negs(evs []Event) string {
	var out []string
	for _, ev := range evs {
		if ev.Kind == EventNegotiation {
			out = append(out, ev.String())
		}
	}
	return strings.Join(out, ", ")
}

// TestOpeningByClient plays a whole login's telnet exchange (the opening,
// a password prompt, a prompt) against three clients and checks every
// negotiation each one is sent.
func TestOpeningByClient(t *testing.T) {
	const opening = "WILL 25, DO 31, DO 24, WILL 42, WILL 70, WILL 201"
	t.Run("answers nothing", func(t *testing.T) {
		// netcat, PuTTY raw: after the opening, not one telnet byte.
		s := NewState()
		var sent []byte
		sent = append(sent, s.Open()...)
		sent = append(sent, s.SetPasswordMode(true)...)
		sent = append(sent, s.PromptEnd()...)
		sent = append(sent, s.SetPasswordMode(false)...)
		sent = append(sent, s.PromptEnd()...)
		if got := negs(new(Decoder).Feed(sent, nil)); got != opening {
			t.Errorf("sent %s", got)
		}
		fresh := NewState()
		if want := fresh.Open(); !bytes.Equal(sent, want) {
			t.Errorf("sent %v, want only the opening %v", sent, want)
		}
		if !s.Silent() {
			t.Error("not silent")
		}
		// A telnet client after all whose answers come after its first
		// line (typed ahead): the password prompt it is at is hidden then.
		s.SetPasswordMode(true)
		r, _ := s.Handle(neg(DONT, OptEOR), nil)
		if !bytes.Equal(r, neg3(WILL, OptEcho)) || s.Silent() {
			t.Errorf("late answer in password mode: got %v", r)
		}
		if r, _ := s.Handle(neg(WONT, OptNAWS), nil); r != nil {
			t.Errorf("second late answer: got %v", r)
		}
	})
	t.Run("refuses everything", func(t *testing.T) {
		srv := &server{st: NewState()}
		cl := &fakeClient{agree: false}
		pump(t, srv, cl, srv.st.Open(), nil)
		pump(t, srv, cl, srv.st.SetPasswordMode(true), nil)
		pump(t, srv, cl, srv.st.SetPasswordMode(false), nil)
		if got, want := negs(cl.got), opening+", WILL 1"; got != want {
			t.Errorf("sent %s\nwant %s", got, want)
		}
		if len(srv.st.Options.Us)+len(srv.st.Options.Him) != 0 || srv.st.Silent() {
			t.Errorf("options %+v", srv.st.Options)
		}
		// A telnet client swallows GA, and needs it to see a prompt.
		if pe := srv.st.PromptEnd(); !bytes.Equal(pe, []byte{IAC, GA}) {
			t.Errorf("PromptEnd %v", pe)
		}
	})
	t.Run("accepts everything", func(t *testing.T) {
		srv := &server{st: NewState()}
		cl := &fakeClient{agree: true, names: []string{"TINTIN++", "XTERM", "MTTS 137"}, charset: "UTF-8"}
		pump(t, srv, cl, srv.st.Open(), nil)
		pump(t, srv, cl, srv.st.SetPasswordMode(true), nil)
		pump(t, srv, cl, srv.st.SetPasswordMode(false), nil)
		if got, want := negs(cl.got), opening+", WILL 1, WONT 1"; got != want {
			t.Errorf("sent %s\nwant %s", got, want)
		}
		st := &srv.st
		if st.ClientName != "TINTIN++" || st.MTTS != 137 || st.Charset != "UTF-8" ||
			!st.Options.Enabled(SideUs, OptEOR) || !st.Options.Enabled(SideUs, OptMSSP) || !st.Options.Enabled(SideHim, OptNAWS) {
			t.Errorf("state %+v", *st)
		}
		if pe := st.PromptEnd(); !bytes.Equal(pe, []byte{IAC, EOR}) {
			t.Errorf("PromptEnd %v", pe)
		}
	})
}

// TestInetutilsOnTelnetPort answers what inetutils telnet sends first on
// port 23 (or a port written "-4000"), bytes as captured: its DO SGA is
// refused, so it stays in line mode.
func TestInetutilsOnTelnetPort(t *testing.T) {
	hello := []byte{255, 253, 38, 255, 251, 38, 255, 253, 3, 255, 251, 24, 255, 251, 31, 255, 251, 32,
		255, 251, 33, 255, 251, 34, 255, 251, 39, 255, 253, 5}
	s := NewState()
	s.Open()
	var reply []byte
	for _, ev := range new(Decoder).Feed(hello, nil) {
		r, _ := s.Handle(ev, nil)
		reply = append(reply, r...)
	}
	// DO and WILL ENCRYPT, DO SGA, TSPEED, LFLOW, LINEMODE, NEW-ENVIRON,
	// DO STATUS refused; TTYPE and NAWS were asked for: TTYPE SEND.
	want := "WONT 38, DONT 38, WONT 3, DONT 32, DONT 33, DONT 34, DONT 39, WONT 5"
	evs := new(Decoder).Feed(reply, nil)
	if got := negs(evs); got != want {
		t.Errorf("replied %s\nwant    %s", got, want)
	}
	if !bytes.Contains(reply, AppendSubneg(nil, OptTType, []byte{ttypeSEND})) {
		t.Errorf("no TTYPE SEND in %v", evs)
	}
}
