package logging

import (
	"sync"
	"time"
)

// MaxDistinct bounds the sources a Summary tells apart in one window: a
// flood from an IPv6 range can name millions of addresses, and 1,000
// strings (~50 KB) a kind are plenty to tell "one host" from "many".
const MaxDistinct = 1000

// Summary stands in for a flood of log lines of one kind with one line per
// window. Note says whether an event is the first of its kind (its key) in
// the window, to be logged in full; later ones in the window are only
// counted, and when the window ends (at the next Note of that key after it,
// or by a timer, one per open window, not one per event) emit gets the
// count, if there was more than the first. emit runs on whichever
// goroutine ends the window, without the Summary's lock held.
type Summary[K comparable] struct {
	window time.Duration
	now    func() time.Time
	emit   func(Count[K])

	mu   sync.Mutex
	open map[K]*summaryWindow
}

// Count is what a window saw of one key.
type Count[K comparable] struct {
	Key      K
	Count    int       // events in the window, the first (logged in full) included
	Distinct int       // distinct sources among them, at most MaxDistinct
	Start    time.Time // the first event
	Window   time.Duration
}

type summaryWindow struct {
	start   time.Time
	count   int
	sources map[string]struct{}
	timer   *time.Timer
}

// NewSummary returns a Summary with windows of the given length, reading
// the time from now (time.Now if nil).
func NewSummary[K comparable](window time.Duration, now func() time.Time, emit func(Count[K])) *Summary[K] {
	if now == nil {
		now = time.Now
	}
	return &Summary[K]{window: window, now: now, emit: emit, open: map[K]*summaryWindow{}}
}

// Note records an event of kind key from source, and reports whether it is
// the first of its kind in the window (log it in full).
func (s *Summary[K]) Note(key K, source string) (first bool) {
	now := s.now()
	s.mu.Lock()
	var ended *Count[K]
	w := s.open[key]
	if w != nil && now.Sub(w.start) >= s.window {
		// Over by the clock, though its timer has not fired yet.
		w.timer.Stop()
		ended = s.end(key, w)
		w = nil
	}
	if w == nil {
		nw := &summaryWindow{start: now, sources: map[string]struct{}{}}
		nw.timer = time.AfterFunc(s.window, func() { s.expire(key, nw) })
		s.open[key], w = nw, nw
		first = true
	}
	w.count++
	if len(w.sources) < MaxDistinct {
		w.sources[source] = struct{}{}
	}
	s.mu.Unlock()
	if ended != nil {
		s.emit(*ended)
	}
	return first
}

// Stop ends every open window now (emitting their counts) and stops their
// timers: for a clean exit.
func (s *Summary[K]) Stop() {
	s.mu.Lock()
	var ended []Count[K]
	for key, w := range s.open {
		w.timer.Stop()
		if c := s.end(key, w); c != nil {
			ended = append(ended, *c)
		}
	}
	s.mu.Unlock()
	for _, c := range ended {
		s.emit(c)
	}
}

// expire is a window's timer: it ends the window unless a Note already has.
func (s *Summary[K]) expire(key K, w *summaryWindow) {
	s.mu.Lock()
	var ended *Count[K]
	if s.open[key] == w {
		ended = s.end(key, w)
	}
	s.mu.Unlock()
	if ended != nil {
		s.emit(*ended)
	}
}

// end closes a window (s.mu held) and returns its count, or nil if there is
// nothing beyond the first event, which was logged already.
func (s *Summary[K]) end(key K, w *summaryWindow) *Count[K] {
	delete(s.open, key)
	if w.count <= 1 {
		return nil
	}
	return &Count[K]{Key: key, Count: w.count, Distinct: len(w.sources), Start: w.start, Window: s.window}
}
