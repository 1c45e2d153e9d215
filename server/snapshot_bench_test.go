package server

import (
	"talker/state"
	"testing"

	"talker/server/store"
	"talker/server/telnet"
)

// benchSession is a logged-in session as the load generator's clients are:
// negotiated telnet options, a player with no lists.
func benchSession() *Session {
	ts := telnet.NewState()
	ts.Open()
	for _, o := range []byte{telnet.OptSGA, telnet.OptEOR, telnet.OptCharset, telnet.OptMSSP} {
		ts.Options.Us[o] = telnet.QYes
	}
	ts.Options.Him = map[byte]telnet.Q{telnet.OptNAWS: telnet.QYes, telnet.OptTType: telnet.QYes}
	ts.Width, ts.Height, ts.ClientName, ts.Terminal, ts.MTTS, ts.TTypeDone, ts.Charset = 250, 50, "LOADGEN", "XTERM", 5, true, "UTF-8"
	p := fixturePlayer()
	p.Lists = nil
	return &Session{ID: 1 << 40, Addr: "127.0.0.1", ConnectedAt: fixtureTime, LastInput: fixtureTime, Telnet: ts,
		Login: LoginState{Stage: StagePlaying, Name: "Lgaaaa"}, Player: p, LoggedInAt: fixtureTime,
		room: &Room{Room: store.Room{ID: "main"}}}
}

// BenchmarkCheckpointRecord is the per-session work every reboot's pause
// does to find out whether a session changed since it was staged: build
// its checkpoint record and encode it.
func BenchmarkCheckpointRecord(b *testing.B) {
	s, w := benchSession(), &World{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.encodeCheckpoint(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckpointUnchanged is that work as the pause does it: built,
// encoded and compared with the record staged.
func BenchmarkCheckpointUnchanged(b *testing.B) {
	s, w := benchSession(), &World{}
	staged, _ := w.encodeCheckpoint(s)
	b.ReportAllocs()
	for b.Loop() {
		if !w.checkpointUnchanged(s, staged) {
			b.Fatal("changed")
		}
	}
}

// BenchmarkRestoreStagedRecord is the new generation's work, in the pause,
// for a session staged before it: decode the small pause record, complete
// it from the staged one, and build the session to link into the world.
func BenchmarkRestoreStagedRecord(b *testing.B) {
	s, w := benchSession(), &World{}
	s.conn = nil
	full := s.checkpointRecord()
	stagedRec, _ := state.EncodeSession(state.Version, &full)
	pause := state.Session{ID: s.ID, FD: 3, Conn: carriedToWire(fixtureCarried()), Staged: true}
	pauseRec, _ := state.EncodeSession(state.Version, &pause)
	p := &Prepared{ids: []uint64{s.ID}}
	p.states = make([]state.Session, 1)
	p.stateErrs = make([]error, 1)
	p.states[0], p.stateErrs[0] = state.DecodeSession(state.Version, stagedRec)
	sess := restoredSession(&p.states[0]) // (done before the pause, when staged)
	_ = w
	// Asserted once: the pause record completed from the staged one is
	// the whole session again.
	if st, err := state.DecodeSession(state.Version, pauseRec); err != nil {
		b.Fatal(err)
	} else if st, err = p.stagedState(0, st); err != nil || st.ID != s.ID || st.Player == nil || st.Player.Name != s.Player.Name {
		b.Fatalf("completed record: %+v, %v", st.Player, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := state.DecodeSession(state.Version, pauseRec)
		if err != nil {
			b.Fatal(err)
		}
		if st, err = p.stagedState(0, st); err != nil {
			b.Fatal(err)
		}
		_ = carriedFromWire(&st.Conn)
		sess.held = eventsFromWire(st.Held)
	}
}
