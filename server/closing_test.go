package server

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/talkertest"
)

// A generation that hands over waits for connections it closed just before
// (a quit, a kick) to finish their last output: WaitClosing waits for a
// writer still sending to a slow reader, and returns once it is done.
func TestWaitClosingWaitsForLastOutput(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Limits.MaxBacklog = 64 << 20
		c.Limits.FlushWait = time.Minute // the slow reader must not be given up on
	})
	alice := ts.dial(talkertest.Options{Width: 80, Height: 24, ReadBuffer: 4096})
	alice.Register("Alice", "secret-Alice")
	alice.Hold() // stops reading: the socket's buffers fill up
	long := strings.Repeat("x", 70)
	// Far more than the kernel takes for the socket (its send buffer is
	// made small below): the writer is still writing when the session is
	// closed.
	const lines = 30_000
	ts.srv.world.do(func(w *World) {
		sess := w.online["alice"]
		fd, err := sess.conn.DupFD()
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<10); err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		for i := 0; i < lines; i++ {
			sess.println(long)
		}
		sess.println("Goodbye, Alice.")
		w.closeSession(sess, closeQuit)
	})
	began := time.Now()
	ts.srv.WaitClosing(300 * time.Millisecond)
	if waited := time.Since(began); waited < 250*time.Millisecond {
		t.Fatalf("WaitClosing returned after %v with output still unsent", waited)
	}
	alice.Release()
	ts.srv.WaitClosing(10 * time.Second)
	alice.Expect("Goodbye, Alice.")
	alice.WaitClosed()
	if n := strings.Count(alice.Text(), long); n != lines {
		t.Errorf("%d of %d lines arrived", n, lines)
	}
}
