package logging

import (
	"sync"
	"testing"
	"time"
)

// The first event of a kind in a window is to be logged; later ones are
// counted and summed up when the window ends: by the clock at the next
// event, or by the window's timer.
func TestSummary(t *testing.T) {
	now := time.Unix(1000, 0)
	var got []Count[string]
	var mu sync.Mutex
	s := NewSummary(time.Hour, func() time.Time { return now }, func(c Count[string]) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})
	defer s.Stop()
	want := []bool{true, false, false, false}
	for i, addr := range []string{"a", "b", "a", "c"} {
		if first := s.Note("banned", addr); first != want[i] {
			t.Fatalf("refusal %d: first=%v", i, first)
		}
	}
	if !s.Note("too many", "a") {
		t.Fatal("another kind is not first in its own window")
	}
	if len(got) != 0 {
		t.Fatalf("summed up before the window ended: %v", got)
	}
	now = now.Add(time.Hour)
	if !s.Note("banned", "d") {
		t.Fatal("first of the next window not logged")
	}
	if len(got) != 1 || got[0] != (Count[string]{Key: "banned", Count: 4, Distinct: 3, Start: time.Unix(1000, 0), Window: time.Hour}) {
		t.Fatalf("summary %+v", got)
	}
	// A window with only its first event needs no summary.
	s.Stop()
	if len(got) != 1 {
		t.Fatalf("summed up a lone event: %+v", got)
	}

	// By the timer, with nothing else happening.
	ch := make(chan Count[string], 1)
	s = NewSummary(20*time.Millisecond, nil, func(c Count[string]) { ch <- c })
	for range 3 {
		s.Note("full", "x")
	}
	select {
	case c := <-ch:
		if c.Count != 3 || c.Distinct != 1 {
			t.Fatalf("timer summary %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the window's timer did not sum it up")
	}
}

// Distinct sources are counted up to MaxDistinct, so a flood from many
// addresses does not grow without bound.
func TestSummaryDistinctCapped(t *testing.T) {
	var got Count[int]
	s := NewSummary(time.Hour, nil, func(c Count[int]) { got = c })
	for i := range 3 * MaxDistinct {
		s.Note(1, string(rune(i)))
	}
	s.Stop()
	if got.Count != 3*MaxDistinct || got.Distinct != MaxDistinct {
		t.Fatalf("%+v", got)
	}
}
