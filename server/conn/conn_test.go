package conn

import (
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/telnet"
)

// tcpPair returns the two ends of a loopback TCP connection: the one a
// listener accepted, and the client's.
func tcpPair(t testing.TB) (server *net.TCPConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	return nc.(*net.TCPConn), client
}

// pair returns a Conn on one end of a loopback TCP connection and the
// other end, with the Conn's deliveries on a channel.
func pair(t *testing.T) (*Conn, net.Conn, chan Input) {
	t.Helper()
	server, client := tcpPair(t)
	in := make(chan Input, 16)
	c := New(1, server, DefaultLimits(), func(i Input) { in <- i })
	t.Cleanup(func() { client.Close(); c.Abort() })
	return c, client, in
}

func lines(in Input) []string {
	var out []string
	for _, ev := range in.Events {
		if ev.Kind == telnet.EventLine {
			out = append(out, string(ev.Line))
		}
	}
	return out
}

func expectInput(t *testing.T, in chan Input, what string) Input {
	t.Helper()
	select {
	case i := <-in:
		return i
	case <-time.After(2 * time.Second):
		t.Fatalf("no input delivered: expected %s", what)
	}
	return Input{}
}

// TestFrozenReaderLeavesBytesInTheKernel: an idle reader is frozen without
// being woken; what the client sends meanwhile is not read until the thaw,
// then arrives whole and once.
func TestFrozenReaderLeavesBytesInTheKernel(t *testing.T) {
	c, client, in := pair(t)
	c.Start()
	client.Write([]byte("before\r\n"))
	if got := lines(expectInput(t, in, "the line before")); len(got) != 1 || got[0] != "before" {
		t.Fatalf("got %q", got)
	}
	time.Sleep(20 * time.Millisecond) // let the reader go idle
	if !c.FreezeReading() {
		t.Fatal("an idle reader was not frozen at once")
	}
	client.Write([]byte("during the freeze\r\n"))
	select {
	case i := <-in:
		t.Fatalf("a frozen reader delivered %+v", i)
	case <-time.After(150 * time.Millisecond):
	}
	if c.Decoder.Pending() {
		t.Fatal("a frozen reader decoded bytes")
	}
	c.ThawReading()
	if got := lines(expectInput(t, in, "the line sent while frozen")); len(got) != 1 || got[0] != "during the freeze" {
		t.Fatalf("after the thaw got %q", got)
	}
}

// TestClosingWakesAFrozenReader: a reader parked while frozen (it woke to
// data and found itself frozen) reports the connection closed when it is
// aborted, instead of waiting for a thaw that never comes.
func TestClosingWakesAFrozenReader(t *testing.T) {
	c, client, in := pair(t)
	c.Start()
	time.Sleep(20 * time.Millisecond)
	if !c.FreezeReading() {
		t.Fatal("not frozen")
	}
	client.Write([]byte("wakes it\r\n"))
	time.Sleep(50 * time.Millisecond)
	c.Abort()
	i := expectInput(t, in, "Closed after Abort")
	if i.Closed == nil {
		t.Fatalf("got %+v, want Closed", i)
	}
}

// TestStartFrozenThenAbandon: goroutines started frozen park (the caller
// can wait for it), and an abandoned connection's reader ends without
// delivering anything.
func TestStartFrozenThenAbandon(t *testing.T) {
	c, client, in := pair(t)
	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	w, err := Wrap(fd, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var parked sync.WaitGroup
	w.StartFrozen(&parked)
	done := make(chan struct{})
	go func() { parked.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a reader started frozen never reported itself parked")
	}
	client.Write([]byte("for the original\r\n"))
	w.Abandon()
	// The original connection is unaffected by the abandoned copy.
	c.Start()
	if got := lines(expectInput(t, in, "the line, read by the original")); len(got) != 1 || got[0] != "for the original" {
		t.Fatalf("got %q", got)
	}
}

// TestWrapRefusesAListeningSocket: a listening TCP socket handed over as a
// connection is refused with an error, not a crash of the generation
// (wrap asked it for its peer's address, which it has none of).
// A client that resets its connection while the angel holds it leaves a
// socket with no peer: the recovery must refuse it, not crash on it.
func TestWrapRefusesAConnectionItsClientReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	served, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := served.(*net.TCPConn).File()
	served.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = client.(*net.TCPConn).SetLinger(0) // close with RST
	client.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The RST arrives asynchronously; until it has, the socket is
		// still connected and rightly wrapped.
		if _, err := unix.Getpeername(fd); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reset never reached the socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c, err := Wrap(fd, Limits{MaxLine: 100, MaxBacklog: 1000}); err == nil {
		t.Fatalf("a connection reset by its client was wrapped: %v", c)
	}
}

func TestWrapRefusesAListeningSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Wrap(fd, Limits{MaxLine: 100, MaxBacklog: 1000}); err == nil {
		t.Fatalf("a listening socket was wrapped as a connection: %v", c)
	}
}
