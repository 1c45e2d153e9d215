package angel

import (
	"testing"
	"time"
)

func TestBackoffDoublesCapsAndResets(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: 800 * time.Millisecond, StableAfter: time.Minute, CrashLimit: 100, CrashWindow: time.Hour}
	var c crashes
	now := time.Unix(1000, 0)
	var got []time.Duration
	for i := 0; i < 6; i++ {
		d, loop := c.crashed(p, now, time.Second)
		if loop {
			t.Fatal("loop too early")
		}
		got = append(got, d)
		now = now.Add(time.Second)
	}
	want := []time.Duration{100, 200, 400, 800, 800, 800}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v", got)
		}
	}
	if d, _ := c.crashed(p, now, 2*time.Minute); d != 100*time.Millisecond {
		t.Errorf("a stable run did not reset the back-off: %v", d)
	}
}

func TestCrashLoopWithinWindowOnly(t *testing.T) {
	p := Policy{Initial: time.Millisecond, Max: time.Second, StableAfter: time.Hour, CrashLimit: 3, CrashWindow: 10 * time.Second}
	var c crashes
	now := time.Unix(1000, 0)
	// Crashes 11 s apart never make a loop.
	for i := 0; i < 10; i++ {
		if _, loop := c.crashed(p, now, time.Second); loop {
			t.Fatalf("loop after spaced crash %d", i)
		}
		now = now.Add(11 * time.Second)
	}
	c.reset()
	c.crashed(p, now, 0)
	c.crashed(p, now.Add(time.Second), 0)
	if _, loop := c.crashed(p, now.Add(2*time.Second), 0); !loop {
		t.Error("3 crashes in 2 s not a loop")
	}
}
