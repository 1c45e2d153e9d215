package server

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/state"
)

// countingHolder is a Holder that only counts what it is given.
type countingHolder struct{ checkpoints atomic.Int64 }

func (h *countingHolder) Add(id uint64, fd int) {}
func (h *countingHolder) Drop(id uint64)        {}
func (h *countingHolder) Checkpoint(json.RawMessage, map[uint64]state.Record) {
	h.checkpoints.Add(1)
}

// A generation recovered from a crash starts with seconds of queued
// input (every player's lines since the crash). The hold channel's calls
// must not wait behind it: until the angel holds the new generation's
// journal and sockets, a second crash loses what was read meanwhile.
// Under 10 SIGSEGVs at 1,000 clients they waited 1.5-9.5 s, longer than
// a generation lived.
func TestHoldChannelGoesAheadOfQueuedEvents(t *testing.T) {
	ts := startServer(t)
	ts.newPlayer("Alice")
	s := ts.srv
	// 200 queued events of 10 ms each: 2 s of work ahead of anything
	// that queues behind them.
	var ran atomic.Int64
	release := make(chan struct{})
	go func() {
		s.world.do(func(w *World) { <-release }) // holds the world until the queue is full
	}()
	for range 200 {
		s.world.events <- call{fn: func(w *World) { time.Sleep(10 * time.Millisecond); ran.Add(1) }, done: make(chan struct{})}
	}
	close(release)
	h := &countingHolder{}
	s.SetHolder(h)
	_, ids := s.FullCheckpoint()
	open, fds, _ := s.DupConns(ids)
	for _, fd := range fds {
		unix.Close(fd)
	}
	_ = s.CheckpointNumber()
	_ = s.Status()
	if n := ran.Load(); n > 20 {
		t.Fatalf("the hold channel's calls waited behind %d of 200 queued events", n)
	}
	if len(open) != len(ids) || len(ids) == 0 {
		t.Fatalf("full sync saw %d sessions and duplicated %d", len(ids), len(open))
	}
}
