package server

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"talker/ipc"

	"talker/reboot"
	"talker/server/talkertest"
	"talker/state"
)

// BenchmarkPauseSnapshot is a reboot's pause in the old generation with
// 500 logged-in sessions ($TALKER_BENCH_SESSIONS), all staged and unchanged since: quiesce, the
// snapshot (every record rebuilt and compared with the staged one, then
// the small pause records and the container), resume.
func BenchmarkPauseSnapshot(b *testing.B) {
	ts := startServer(b)
	n := benchSessions()
	clients := make([]*talkertest.Client, 0, n)
	for i := 0; i < n; i++ {
		clients = append(clients, ts.newPlayer("Bench"+string(rune('a'+i/26/26%26))+string(rune('a'+i/26%26))+string(rune('a'+i%26))))
	}
	s := ts.srv
	st := &staged{index: map[uint64]int{}, records: map[uint64]state.Record{}}
	s.world.do(func(w *World) {
		i := 0
		for id, sess := range w.sessions {
			rec, err := w.encodeCheckpoint(sess)
			if err != nil {
				b.Fatal(err)
			}
			st.index[id], st.records[id] = i, rec
			i++
		}
	})
	b.ResetTimer()
	for b.Loop() {
		s.pauseAccept()
		done := make(chan struct{})
		s.world.doFirst(func(w *World) { w.startQuiesce(done, true) })
		<-done
		s.world.do(func(w *World) {
			if _, _, err := w.snapshot(reboot.ModeReboot, &RebootTimings{Mode: reboot.ModeReboot}, st, n); err != nil {
				b.Fatal(err)
			}
		})
		s.resume()
	}
}

// BenchmarkRestoreStaged is the new generation's restore of 500 staged
// sessions, as in a reboot's pause: decode the state, open the database,
// rebuild every session on its wrapped socket, run the start hooks. The
// sockets are staged (duplicated, wrapped and their records decoded)
// before the timer runs, as before a real pause.
func BenchmarkRestoreStaged(b *testing.B) {
	ts := startServer(b)
	n := benchSessions()
	for i := 0; i < n; i++ {
		ts.newPlayer("Bench" + string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)))
	}
	s := ts.srv
	// Stage every session as a reboot does, and take the pause's state.
	st := &staged{index: map[uint64]int{}, records: map[uint64]state.Record{}}
	var ids []uint64
	var recs []state.Record
	s.world.do(func(w *World) {
		for id, sess := range w.sessions {
			rec, err := w.encodeCheckpoint(sess)
			if err != nil {
				b.Fatal(err)
			}
			st.index[id], st.records[id] = len(ids), rec
			ids, recs = append(ids, id), append(recs, rec)
		}
	})
	stateBytes := takeStagedSnapshot(b, ts, st, n)
	stage := func() *Prepared {
		prep := NewPrepared(ts.cfg.Limits, Faults{})
		var fds []int
		s.world.do(func(w *World) {
			for _, id := range ids {
				fd, err := w.sessions[id].conn.DupFD()
				if err != nil {
					b.Fatal(err)
				}
				fds = append(fds, fd)
			}
		})
		for at := 0; at < n; at += ipc.MaxPerMessage {
			end := min(at+ipc.MaxPerMessage, n)
			chunk, _ := state.EncodeStageChunk(&state.StageChunk{IDs: ids[at:end], Records: recs[at:end]})
			if err := prep.Add(chunk, fds[at:end]); err != nil {
				b.Fatal(err)
			}
		}
		prep.Wrap()
		return prep
	}
	hdr := reboot.Header{Mode: reboot.ModeReboot, Started: time.Now()}
	checked := false
	for b.Loop() {
		b.StopTimer()
		prep := stage()
		runtime.GC()
		b.StartTimer()
		r, err := Restore(ts.cfg, hdr, stateBytes, prep, nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if !checked { // once: every session was rebuilt, none dropped
			if got := r.Report(); got.Sessions != n || got.Dropped != 0 {
				b.Fatalf("restored %d sessions (%d dropped) of %d", got.Sessions, got.Dropped, n)
			}
			checked = true
		}
		r.Abandon()
		b.StartTimer()
	}
}

// benchSessions is how many sessions the pause benchmarks use: 500, or
// $TALKER_BENCH_SESSIONS.
func benchSessions() int {
	if n, err := strconv.Atoi(os.Getenv("TALKER_BENCH_SESSIONS")); err == nil && n > 0 {
		return n
	}
	return 500
}
