package conn

import (
	"io"
	"strings"
	"testing"
	"time"
)

// readFor reads what arrives within d.
func readFor(t *testing.T, c io.Reader, d time.Duration) string {
	t.Helper()
	type deadliner interface{ SetReadDeadline(time.Time) error }
	c.(deadliner).SetReadDeadline(time.Now().Add(d))
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestGateHoldsOutputUntilCommitted: output queued under a gate is not
// written until released, is recorded for the journal at the socket's
// offsets, and is then written once.
func TestGateHoldsOutputUntilCommitted(t *testing.T) {
	c, client, _ := pair(t)
	g := &Gate{}
	c.SetGate(g)
	c.Start()
	c.Send([]byte("first "))
	c.Send([]byte("event"))
	if got := readFor(t, client, 150*time.Millisecond); got != "" {
		t.Fatalf("written before the commit: %q", got)
	}
	pending := g.Pending()
	if len(pending) != 1 || pending[0] != c {
		t.Fatalf("pending %v", pending)
	}
	var runs []Output
	upto := c.CollectOutput(func(o Output) { runs = append(runs, Output{From: o.From, Bytes: append([]byte(nil), o.Bytes...)}) })
	if len(runs) != 1 || runs[0].From != 0 || string(runs[0].Bytes) != "first event" {
		t.Fatalf("recorded %+v", runs)
	}
	c.ReleaseOutput(upto)
	if got := readFor(t, client, time.Second); got != "first event" {
		t.Fatalf("after the commit: %q", got)
	}
	c.Send([]byte("second"))
	upto = c.CollectOutput(func(o Output) { runs = append(runs, Output{From: o.From, Bytes: append([]byte(nil), o.Bytes...)}) })
	if runs[1].From != uint64(len("first event")) {
		t.Fatalf("second run at %d", runs[1].From)
	}
	c.ReleaseOutput(upto)
	if got := readFor(t, client, time.Second); got != "second" {
		t.Fatalf("second: %q", got)
	}
}

// TestResumeOutputSendsOnlyWhatTheSocketLacks: a new process adopting a
// socket sends, of the journal's runs, exactly the bytes the socket's own
// count says were never written, and counts a gap.
func TestResumeOutputSendsOnlyWhatTheSocketLacks(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	if _, err := server.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, client, time.Second); got != "0123456789" {
		t.Fatalf("%q", got)
	}
	dead := New(1, server, DefaultLimits(), func(Input) {})
	fd, err := dead.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	dead.Abandon() // the dead process's handle, closed without a shutdown
	c, err := Wrap(fd, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c.Attach(7, func(Input) {}, nil, Carried{})
	defer c.Abort()
	runs := []Output{{From: 0, Bytes: []byte("01234")}, {From: 5, Bytes: []byte("56789abc")}, {From: 13, Bytes: []byte("def")}}
	queued, missing := c.ResumeOutput(runs)
	if queued != 6 || missing != 0 {
		t.Fatalf("queued %d missing %d, want 6 and 0", queued, missing)
	}
	c.Start()
	if got := readFor(t, client, time.Second); got != "abcdef" {
		t.Fatalf("resumed %q, want abcdef", got)
	}
	// A gap: runs that start past the socket's count.
	c2, _, _ := pair(t)
	if q, m := c2.ResumeOutput([]Output{{From: 4, Bytes: []byte("xy")}}); q != 2 || m != 4 {
		t.Fatalf("gap: queued %d missing %d", q, m)
	}
}
