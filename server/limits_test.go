package server

import (
	"bytes"
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
	alice.Expect("You are typing too fast")
	time.Sleep(500 * time.Millisecond)
	got := bob.Quiet(500 * time.Millisecond)
	if n := strings.Count(got, "Alice says 'spam'"); n > ts.cfg.Limits.LineBurst+5 {
		t.Errorf("bob saw %d of 500 flood lines; the limit is a burst of %d", n, ts.cfg.Limits.LineBurst)
	} else if n == 0 {
		t.Errorf("bob saw none of the flood: the burst allowance should let some through")
	}
	otherStillServed(t, ts, alice, bob, "fine")
}

func TestStuckReaderIsDropped(t *testing.T) {
	var logs lockedBuffer
	ts := startServer(t, func(c *Config) {
		c.Limits.MaxBacklog = 64 << 10
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
