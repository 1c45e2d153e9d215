package server

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/store"
	"talker/server/telnet"
	"talker/state"
)

// takeSnapshot quiesces an in-process server and snapshots it, then resumes.
func takeSnapshot(t *testing.T, ts *testServer) []byte {
	t.Helper()
	return takeStagedSnapshot(t, ts, nil, 0)
}

// takeStagedSnapshot is takeSnapshot after a staging (st, n sockets).
func takeStagedSnapshot(t testing.TB, ts *testServer, st *staged, n int) []byte {
	t.Helper()
	s := ts.srv
	s.pauseAccept()
	done := make(chan struct{})
	s.world.doFirst(func(w *World) { w.startQuiesce(done, true) })
	<-done
	var state []byte
	var err error
	s.world.do(func(w *World) {
		state, _, err = w.snapshot(reboot.ModeReboot, &RebootTimings{Mode: reboot.ModeReboot}, st, n)
	})
	s.resume()
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// TestQuiesceResumeInProcess pauses and resumes a live world: clients lose
// nothing, including a line typed while paused.
func TestQuiesceResumeInProcess(t *testing.T) {
	ts := startServer(t)
	a, b := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	s := ts.srv
	s.pauseAccept()
	done := make(chan struct{})
	s.world.do(func(w *World) { w.startQuiesce(done, true) })
	<-done
	a.Send("say typed while paused")
	s.world.do(func(w *World) { _, _, _ = w.snapshot(reboot.ModeReboot, &RebootTimings{}, nil, 0) })
	if got := b.Quiet(200 * 1e6); strings.Contains(got, "typed while paused") {
		t.Fatal("a line was handled while the world was frozen")
	}
	s.resume()
	b.Expect("Alice says 'typed while paused'")
	late := ts.dial()
	late.Expect("enter your name: ")
}

// TestRecordsRoundTrip: a session's record survives the conversion to the
// state format, its codec (every version's) and back, with everything a
// reboot needs, times to the microsecond included.
func TestRecordsRoundTrip(t *testing.T) {
	now := time.Now()
	ts := telnet.NewState()
	ts.Open()
	ts.Width, ts.ClientName, ts.MTTS = 132, "MUDLET", 137
	dec := telnet.NewDecoder(1000, 512)
	dec.Feed([]byte("half a li\xff\xff"), nil)
	carried := conn.Carried{Decoder: dec, Unsent: []byte("not yet sent\r\n")}
	in := &Session{ID: 42, Addr: "127.0.0.1", ConnectedAt: now, LastInput: now.Add(time.Millisecond), Telnet: ts,
		Login:  LoginState{Stage: StageConfirmPassword, Name: "Newbie", Salt: "ab", Digest: "cd"},
		Player: &player.Player{Name: "Newbie", Title: "the New", CreatedAt: now}, room: &Room{Room: store.Room{ID: "lounge"}},
		held: fixtureHeld()}
	for _, v := range []int{state.VersionJSONRecords, state.VersionCBOR, state.Version} {
		r := in.checkpointRecord()
		r.FD, r.Conn, r.Held = 7, carriedToWire(carried), eventsToWire(in.held)
		b, err := state.EncodeSession(v, &r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := state.DecodeSession(v, b)
		if err != nil {
			t.Fatal(err)
		}
		out := restoredSession(&back)
		outConn := carriedFromWire(&back.Conn)
		if back.ID != 42 || back.FD != 7 || back.Room != "lounge" || out.Login != in.Login || out.Player.Title != "the New" ||
			string(outConn.Unsent) != "not yet sent\r\n" || string(outConn.Decoder.Line) != string(dec.Line) ||
			out.Telnet.Width != 132 || out.Telnet.ClientName != "MUDLET" || out.Telnet.MTTS != 137 ||
			out.Telnet.Options.Get(telnet.SideUs, telnet.OptEOR) != ts.Options.Get(telnet.SideUs, telnet.OptEOR) ||
			len(out.held) != 3 || string(out.held[0].Line) != "say held across" {
			t.Errorf("version %d: record changed in the round trip:\n in %+v\nout %+v", v, in, out)
		}
		if d := out.LastInput.Sub(in.LastInput); d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("version %d: time lost precision: %v", v, d)
		}
	}
}

// TestStateFormatUnchangedByTheConversion: the wire fixture (every field
// set) converted to the state format encodes to exactly the bytes the
// build before package state wrote for it (state/testdata/wire): the
// conversion misses no field and maps none to another key.
func TestStateFormatUnchangedByTheConversion(t *testing.T) {
	wire := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "state", "testdata", "wire", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sess := &Session{ID: 42, Addr: "127.0.0.9", ConnectedAt: fixtureTime.Add(-time.Hour), LastInput: fixtureTime,
		Telnet: fixtureTelnet(), Login: fixtureLogin(), Player: fixturePlayer(),
		LoggedInAt: fixtureTime.Add(-30 * time.Minute), AFK: true, AFKMessage: "lunch", ReplyTo: "bob",
		room: &Room{Room: store.Room{ID: "lounge"}}, TellReview: fixtureReview(), held: fixtureHeld()}
	full := sess.checkpointRecord()
	full.FD, full.Conn, full.Held = 7, carriedToWire(fixtureCarried()), eventsToWire(sess.held)
	check := func(name string, v int, r *state.Session) {
		t.Helper()
		b, err := state.EncodeSession(v, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := wire(name); !bytes.Equal(b, want) {
			t.Errorf("%s: the conversion encodes to other bytes\n got %q\nwant %q", name, b, want)
		}
	}
	check("session-full.cbor", state.Version, &full)
	check("session-full.json", state.VersionJSONRecords, &full)
	cp := sess.checkpointRecord()
	check("session-checkpoint.cbor", checkpointVersion, &cp)
	check("session-checkpoint.json", state.VersionJSONRecords, &cp)
	staged := state.Session{ID: 42, FD: 3, Conn: carriedToWire(fixtureCarried()), Held: eventsToWire(fixtureHeld()), Staged: true}
	check("session-staged.cbor", state.Version, &staged)
	// The pager, the editor and the page length (version 6).
	texts := fixtureTextsSession()
	texts.room = sess.room
	withTexts := texts.checkpointRecord()
	withTexts.FD, withTexts.Conn, withTexts.Held = 7, carriedToWire(fixtureCarried()), eventsToWire(texts.held)
	check("session-texts.cbor", state.Version, &withTexts)
	check("session-texts.json", state.VersionJSONRecords, &withTexts)
	if back, err := state.DecodeSession(state.Version, wire("session-texts.cbor")); err != nil {
		t.Fatal(err)
	} else if out := restoredSession(&back); !reflect.DeepEqual(out.Pager, texts.Pager) ||
		!reflect.DeepEqual(out.Editor, texts.Editor) || out.Player.Pager != 30 {
		t.Errorf("pager, editor or player changed in the round trip:\n in %+v %+v\nout %+v %+v", texts.Pager, texts.Editor, out.Pager, out.Editor)
	}

	var ids atomic.Uint64
	ids.Store(1 << 40)
	w := &World{connIDs: &ids, guard: fixtureGuard(), countdown: fixtureCountdown(reboot.ModeReset),
		shutdownCountdown: fixtureCountdown(reboot.ModeShutdown), review: map[string][]ReviewLine{"main": fixtureReview()},
		system: SystemState{Generation: 5, ColdStartedAt: fixtureTime.Add(-time.Hour), StartedAt: fixtureTime, Reboots: 4,
			LastReboot: fixtureTimings()}}
	if got, want := w.encodeSystem(), wire("system.json"); !bytes.Equal(got, want) {
		t.Errorf("system state: the conversion encodes to other bytes\n got %s\nwant %s", got, want)
	}
	// And back: the restored world has what the fixture had.
	sys, err := state.DecodeSystem(wire("system.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ids2 atomic.Uint64
	w2 := &World{connIDs: &ids2}
	w2.restoreSystem(&sys)
	if !reflect.DeepEqual(w2.system, w.system) || !reflect.DeepEqual(w2.guard, w.guard) ||
		!reflect.DeepEqual(w2.countdown, w.countdown) || !reflect.DeepEqual(w2.shutdownCountdown, w.shutdownCountdown) ||
		!reflect.DeepEqual(w2.review, w.review) || ids2.Load() != 1<<40 {
		t.Errorf("system state changed in the round trip:\n in %+v\nout %+v", w, w2)
	}
	back, err := state.DecodeSession(state.VersionJSONRecords, wire("session-full.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := restoredSession(&back)
	if !reflect.DeepEqual(out.Player, sess.Player) || !reflect.DeepEqual(out.Telnet, sess.Telnet) ||
		!reflect.DeepEqual(carriedFromWire(&back.Conn), fixtureCarried()) || !reflect.DeepEqual(out.held, sess.held) ||
		!reflect.DeepEqual(out.TellReview, sess.TellReview) || out.Login != sess.Login || out.AFKMessage != "lunch" {
		t.Errorf("session changed in the round trip:\n in %+v\nout %+v", sess, out)
	}
}

// TestRecordScratchLeavesNothingBehind: records are built in reused
// scratch space (recordScratch); one session's maps, lists, review or
// carried state must never show in the next one's record.
func TestRecordScratchLeavesNothingBehind(t *testing.T) {
	full := &Session{ID: 1, Addr: "127.0.0.9", Telnet: fixtureTelnet(), Login: fixtureLogin(), Player: fixturePlayer(),
		TellReview: fixtureReview(), room: &Room{Room: store.Room{ID: "lounge"}}}
	bare := &Session{ID: 2, Addr: "127.0.0.1", Telnet: telnet.NewState(), Login: LoginState{Stage: StageName}}
	other := benchSession() // a player with no lists, other options
	w := &World{}
	fresh := func(s *Session) []byte {
		r := s.checkpointRecord()
		b, err := state.EncodeSession(checkpointVersion, &r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sc := &recordScratch{} // the same scratch every time, as the pool gives it back
	for round := 0; round < 3; round++ {
		for _, s := range []*Session{full, bare, other, full, other, bare} {
			s.fillCheckpoint(&sc.rec, &sc.player)
			if err := state.EncodeSessionTo(&sc.buf, checkpointVersion, &sc.rec); err != nil {
				t.Fatal(err)
			}
			if want := fresh(s); !bytes.Equal(sc.buf.Bytes(), want) {
				t.Fatalf("session %d's record built in used scratch space differs from a fresh one", s.ID)
			}
			got, err := w.encodeCheckpoint(s)
			if err != nil {
				t.Fatal(err)
			}
			if want := fresh(s); !bytes.Equal(got, want) {
				t.Fatalf("session %d's record built in used scratch space differs from a fresh one", s.ID)
			}
			if !w.checkpointUnchanged(s, got) {
				t.Fatalf("session %d's record compared as changed", s.ID)
			}
		}
	}
	if w.checkpointUnchanged(bare, fresh(full)) {
		t.Error("two different sessions compared as unchanged")
	}
}
