package conn

import (
	"bufio"
	"compress/zlib"
	"io"
	"sync"
	"testing"
	"time"
)

// stageFrozen takes over c's socket the way a reboot's new generation does
// (reboot_child.go): Wrap and StartFrozen first, while the old Conn still
// serves; Attach with the carried state later; then Start. The writer is
// already running while Attach sets the TLS and compression state it will
// own: under -race these tests fail if it touches that state before the
// thaw (they did, before writeLoop waited for it).
func stageFrozen(t *testing.T, c *Conn, carried Carried, deliver Deliver) *Conn {
	t.Helper()
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
	parked.Wait()
	time.Sleep(10 * time.Millisecond) // the writer, too, is up and waiting
	w.Attach(2, deliver, nil, carried)
	c.Abandon()
	w.Start()
	t.Cleanup(w.Abort)
	return w
}

// TestFrozenWriterLeavesTLSStateToAttach: a TLS session carried into a
// connection whose writer was started frozen goes on (the writer reads the
// attached state only after the thaw).
func TestFrozenWriterLeavesTLSStateToAttach(t *testing.T) {
	c, client, in := tlsPairConn(t)
	c.Start()
	c.Send([]byte("before\r\n"))
	readString(t, client, "before\r\n")
	freeze(t, c, in)
	in2 := make(chan Input, 16)
	w := stageFrozen(t, c, c.Carry(), func(i Input) { in2 <- i })
	w.Send([]byte("after\r\n"))
	readString(t, client, "after\r\n")
	if _, err := client.Write([]byte("answer\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, in2, "answer")
}

// TestFrozenWriterLeavesCompressionToAttach: the same for an MCCP2 stream
// carried with a unit's unwritten tail and a queued end.
func TestFrozenWriterLeavesCompressionToAttach(t *testing.T) {
	var z compressor
	start := append([]byte(nil), z.startUnit()...)
	unit := append([]byte(nil), z.compressUnit([]byte("first line\r\n"))...)
	cut := len(unit) - 7
	c, client, _ := pair(t)
	if _, err := c.nc.Write(append(append(append([]byte(nil), mccpStart...), start...), unit[:cut]...)); err != nil {
		t.Fatal(err)
	}
	carried := Carried{Unsent: []byte("second line\r\n"),
		Compress: Compression{On: true, Adler: z.adler, Wire: unit[cut:], Marks: []Mark{{At: 13, On: false}}}}
	stageFrozen(t, c, carried, func(Input) {})
	client.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(client)
	readUntil(t, r, mccpStart)
	zr, err := zlib.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil || string(all) != "first line\r\nsecond line\r\n" {
		t.Fatalf("inflated %q, %v", all, err)
	}
}
