package server

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"talker/player"
	"talker/server/conn"
	"talker/server/telnet"
	"testing"
	"time"

	"talker/reboot"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden snapshot files")

// takeSnapshot quiesces an in-process server and snapshots it, then resumes.
func takeSnapshot(t *testing.T, ts *testServer) []byte {
	t.Helper()
	return takeStagedSnapshot(t, ts, nil, 0)
}

// takeStagedSnapshot is takeSnapshot after a staging (st, n sockets).
func takeStagedSnapshot(t *testing.T, ts *testServer, st *staged, n int) []byte {
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

// TestSnapshotFormatV1StillReads keeps a snapshot of format version 1 in
// testdata: every later binary must still read it (a reboot from an older
// build must work).
func TestSnapshotFormatV1StillReads(t *testing.T) {
	const golden = "testdata/snapshot-v1.json"
	if *updateGolden && SnapshotVersion == 1 {
		ts := startServer(t)
		a := ts.newPlayer("Alice")
		a.Send("title the Golden")
		a.Expect("Your title is now")
		c := ts.dial()
		c.Expect("name: ")
		c.Send("alice")
		c.Expect("Password: ")
		state := takeSnapshot(t, ts)
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, state, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := decodeSnapshot(b)
	if err != nil {
		t.Fatalf("a version 1 snapshot no longer reads: %v", err)
	}
	if snap.Mode != reboot.ModeReboot || len(snap.Sessions) != 2 {
		t.Fatalf("snapshot: mode %s, %d sessions", snap.Mode, len(snap.Sessions))
	}
	var stages []Stage
	var titles []string
	for _, raw := range snap.Sessions {
		var st SessionState
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatalf("session record: %v", err)
		}
		stages = append(stages, st.Login.Stage)
		if st.Player != nil {
			titles = append(titles, st.Player.Title)
		}
	}
	if len(titles) != 1 || titles[0] != "the Golden" {
		t.Errorf("player records: %v", titles)
	}
	if !(stages[0] == StagePlaying && stages[1] == StagePassword || stages[1] == StagePlaying && stages[0] == StagePassword) {
		t.Errorf("login stages: %v", stages)
	}
}

func TestSnapshotFromTheFutureIsRefused(t *testing.T) {
	future := &Snapshot{Mode: reboot.ModeReboot}
	b, _ := encodeSnapshot(future)
	b = []byte(strings.Replace(string(b), fmt.Sprintf(`"Version":%d`, SnapshotVersion), `"Version":99`, 1))
	if _, err := decodeSnapshot(b); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("newer snapshot accepted: %v", err)
	}
	if _, err := decodeSnapshot([]byte("not json")); err == nil {
		t.Error("garbage accepted")
	}
}

// TestSnapshotContainerRoundTripAndDamage: records come back byte for byte;
// a truncated container is refused, not half read.
func TestSnapshotContainerRoundTripAndDamage(t *testing.T) {
	snap := &Snapshot{Mode: reboot.ModeReset, System: SystemState{Generation: 7},
		Sessions: []json.RawMessage{json.RawMessage(`{"ID":1}`), json.RawMessage(`{"ID":2,"Addr":"x"}`)}}
	b, err := encodeSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != SnapshotVersion || got.Mode != reboot.ModeReset || got.System.Generation != 7 ||
		len(got.Sessions) != 2 || string(got.Sessions[1]) != `{"ID":2,"Addr":"x"}` {
		t.Errorf("round trip: %+v", got)
	}
	for cut := len(snapshotMagic); cut < len(b); cut += 3 {
		if _, err := decodeSnapshot(b[:cut]); err == nil {
			t.Fatalf("a container cut at %d of %d bytes was accepted", cut, len(b))
		}
	}
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

// TestCBORRecordsRoundTrip: a session record survives the version 3 codec
// with everything a reboot needs, times to the microsecond included.
func TestCBORRecordsRoundTrip(t *testing.T) {
	now := time.Now()
	ts := telnet.NewState()
	ts.Open()
	ts.Width, ts.ClientName, ts.MTTS = 132, "MUDLET", 137
	dec := telnet.NewDecoder(1000, 512)
	dec.Feed([]byte("half a li\xff\xff"), nil)
	in := SessionState{ID: 42, FD: 7, Addr: "127.0.0.1", ConnectedAt: now, LastInput: now.Add(time.Millisecond),
		Telnet: ts, Conn: conn.Carried{Decoder: dec, Unsent: []byte("not yet sent\r\n")},
		Login:  LoginState{Stage: StageConfirmPassword, Name: "Newbie", Salt: "ab", Digest: "cd"},
		Player: &player.Player{Name: "Newbie", Title: "the New", CreatedAt: now}, Room: "lounge"}
	b, err := codecFor(3).marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out SessionState
	if err := codecFor(3).unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != 42 || out.FD != 7 || out.Room != "lounge" || out.Login != in.Login || out.Player.Title != "the New" ||
		string(out.Conn.Unsent) != "not yet sent\r\n" || string(out.Conn.Decoder.Line) != string(dec.Line) ||
		out.Telnet.Width != 132 || out.Telnet.ClientName != "MUDLET" || out.Telnet.MTTS != 137 ||
		out.Telnet.Options.Get(telnet.SideUs, telnet.OptEOR) != ts.Options.Get(telnet.SideUs, telnet.OptEOR) {
		t.Errorf("record changed in the round trip:\n in %+v\nout %+v", in, out)
	}
	if d := out.LastInput.Sub(in.LastInput); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("time lost precision: %v", d)
	}
	jb, _ := json.Marshal(in)
	t.Logf("record: %d bytes CBOR, %d bytes JSON", len(b), len(jb))
}

// TestSnapshotFormatsStillRead keeps a snapshot written by the build that
// introduced each later format (2: a container of JSON records, 3: CBOR
// records, 4: records carrying held input) in testdata, made from the same
// scene as version 1's: every later binary must still read each one.
func TestSnapshotFormatsStillRead(t *testing.T) {
	for v := 2; v <= SnapshotVersion; v++ {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			b, err := os.ReadFile(fmt.Sprintf("testdata/snapshot-v%d.bin", v))
			if err != nil {
				t.Fatal(err)
			}
			snap, err := decodeSnapshot(b)
			if err != nil {
				t.Fatalf("a version %d snapshot no longer reads: %v", v, err)
			}
			if snap.Version != v || snap.Mode != reboot.ModeReboot || len(snap.Sessions) != 2 || snap.System.Generation != 1 {
				t.Fatalf("snapshot: version %d mode %s, %d sessions, generation %d", snap.Version, snap.Mode, len(snap.Sessions), snap.System.Generation)
			}
			var stages []Stage
			var titles, held []string
			for _, st := range sessionStates(t, snap) {
				stages = append(stages, st.Login.Stage)
				if st.Player != nil {
					titles = append(titles, st.Player.Title)
				}
				for _, ev := range st.Held {
					held = append(held, string(ev.Line))
				}
			}
			if len(titles) != 1 || titles[0] != "the Golden" {
				t.Errorf("player records: %v", titles)
			}
			if !(stages[0] == StagePlaying && stages[1] == StagePassword || stages[1] == StagePlaying && stages[0] == StagePassword) {
				t.Errorf("login stages: %v", stages)
			}
			if wantHeld := v >= 4; wantHeld != (len(held) == 1 && held[0] == "say held across") {
				t.Errorf("held input: %q", held)
			}
		})
	}
}
