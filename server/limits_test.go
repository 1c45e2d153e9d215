package server

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
	"math/rand"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// otherStillServed checks that a bystander gets prompt answers while an
// abusive client does its worst.
func otherStillServed(t *testing.T, ts *testServer, bystander, speaker interface {
	Send(string)
	Expect(string) string
}, tag string) {
	t.Helper()
	start := time.Now()
	speaker.Send("say still here " + tag)
	bystander.Expect("says 'still here " + tag + "'")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("bystander waited %v for a say during the flood", d)
	}
}

func TestRandomBytesFlood(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	flooder := ts.newPlayer("Mallory")
	garbage := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(garbage)
	done := make(chan error, 1)
	go func() {
		_ = flooder.Conn().SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := flooder.Conn().Write(garbage)
		done <- err
	}()
	for i := 0; i < 5; i++ {
		otherStillServed(t, ts, bob, alice, string(rune('a'+i)))
		time.Sleep(100 * time.Millisecond)
	}
	// Random bytes hold a line end every ~128 bytes, so the flooder runs
	// out of line tokens and is disconnected for flooding.
	flooder.Expect("disconnected for flooding")
	flooder.WaitClosed()
	otherStillServed(t, ts, bob, alice, "after")
	<-done
}

func TestHugeLineIsCut(t *testing.T) {
	ts := startServer(t)
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	alice.Send("say " + strings.Repeat("x", 100<<10))
	alice.Expect("Your line was too long and was cut short.")
	bob.Expect("Alice says")
	time.Sleep(300 * time.Millisecond)
	got := bob.Text()
	if n := strings.Count(got, "x"); n > ts.cfg.Limits.MaxLine || n < ts.cfg.Limits.MaxLine-10 {
		t.Errorf("bob got %d x's, want about MaxLine=%d", n, ts.cfg.Limits.MaxLine)
	}
	otherStillServed(t, ts, alice, bob, "ok")
}

func TestLineFloodIsLimited(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.FloodKick = 0 })
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	var burst strings.Builder
	for i := 0; i < 500; i++ {
		burst.WriteString("say spam\r\n")
	}
	alice.SendRaw([]byte(burst.String()))
	// The burst goes through, the next 200 wait their turn, the rest are
	// refused, and alice is told so.
	alice.Expect("were not taken")
	time.Sleep(500 * time.Millisecond)
	got := bob.Quiet(500 * time.Millisecond)
	if n := strings.Count(got, "Alice says 'spam'"); n > ts.cfg.Limits.LineBurst+2*int(ts.cfg.Limits.LineRate) {
		t.Errorf("bob saw %d of 500 flood lines within a second; the limit is a burst of %d at %g a second",
			n, ts.cfg.Limits.LineBurst, ts.cfg.Limits.LineRate)
	} else if n == 0 {
		t.Errorf("bob saw none of the flood: the burst allowance should let some through")
	}
	otherStillServed(t, ts, alice, bob, "fine")
}

func TestStuckReaderIsDropped(t *testing.T) {
	var logs lockedBuffer
	ts := startServer(t, func(c *Config) {
		c.Limits.MaxBacklog = 64 << 10
		c.LinkDead = 0 // dropped for good, not kept link-dead (linkdead_test.go)
		c.Limits.LineRate = 0
		c.Limits.ByteRate = 0
		c.Log = zerolog.New(&logs)
	})
	alice := ts.newPlayer("Alice")
	// Stuck registers by typing blindly, then never reads again; its
	// receive buffer is made small before connecting so that the kernel
	// cannot absorb the backlog for it.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	stuck, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	stuck.Write([]byte("stuck\r\nyes\r\nstuckstuck\r\nstuckstuck\r\n"))
	alice.Expect("Stuck has connected")
	big := strings.Repeat("y", 900)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		alice.Send("say " + big)
		alice.Expect("You say")
		var online bool
		ts.srv.Do(func(w *World) { online = w.online["stuck"] != nil })
		if !online {
			// Dropped, and alice never waited on it; the log says why.
			time.Sleep(50 * time.Millisecond)
			if !strings.Contains(logs.String(), "output backlog full") {
				t.Errorf("no log line for the dropped client:\n%s", logs.String())
			}
			return
		}
	}
	t.Fatal("a client that stopped reading was never dropped")
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPasteArrivesWhole: 60 lines pasted at once go through in order, none
// lost, the ones past the burst at the line rate; past the queue's bound,
// lines are refused with a message that says which.
func TestPasteArrivesWhole(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate, c.Limits.LineBurst = 20, 10 })
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	var paste strings.Builder
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&paste, "say line %02d\r\n", i)
	}
	start := time.Now()
	alice.SendRaw([]byte(paste.String()))
	got := bob.Expect("Alice says 'line 60'")
	took := time.Since(start)
	for i := 1; i <= 60; i++ {
		if n := strings.Count(got, fmt.Sprintf("Alice says 'line %02d'", i)); n != 1 {
			t.Fatalf("line %d heard %d times:\n%s", i, n, got)
		}
	}
	if strings.Index(got, "line 59") > strings.Index(got, "line 60") || strings.Index(got, "line 01") > strings.Index(got, "line 02") {
		t.Fatal("lines out of order")
	}
	// 50 lines past a burst of 10 at 20 a second take 2.5 s; released on
	// the world's 1 s tick, at least 2.
	if took < 2*time.Second {
		t.Errorf("the paste went through in %v: the line rate was not applied", took)
	}
	if strings.Contains(alice.Text(), "not taken") {
		t.Fatalf("alice was told lines were not taken:\n%s", alice.Text())
	}
}

func TestPastePastTheBoundIsRefusedPlainly(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate, c.Limits.LineBurst, c.MaxQueuedLines = 20, 5, 10 })
	alice, bob := ts.newPlayer("Alice"), ts.newPlayer("Bob")
	time.Sleep(500 * time.Millisecond) // the login's lines used some of the burst: let it fill again
	var paste strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&paste, "say line %02d\r\n", i)
	}
	alice.SendRaw([]byte(paste.String()))
	alice.Expect("the last 15 lines, from 'say line 16' on, were not taken")
	got := bob.Expect("Alice says 'line 15'")
	if n := strings.Count(got, "Alice says 'line"); n != 15 {
		t.Fatalf("bob heard %d lines, want the 15 taken:\n%s", n, got)
	}
	if more := bob.Quiet(1500 * time.Millisecond); strings.Contains(more, "line 16") {
		t.Fatalf("a refused line was handled:\n%s", more)
	}
}
