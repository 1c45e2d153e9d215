package conn

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

func TestAdlerUpdateMatchesHashAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 20000)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	a := uint32(1)
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+r.IntN(7000))
		a = adlerUpdate(a, data[off:off+n])
		off += n
	}
	if want := adler32.Checksum(data); a != want {
		t.Fatalf("adler %08x, want %08x", a, want)
	}
}

var mccpStart = []byte{255, 250, 86, 255, 240}

// readUntil reads from r until the bytes read end with marker.
func readUntil(t *testing.T, r *bufio.Reader, marker []byte) []byte {
	t.Helper()
	var got []byte
	for !bytes.HasSuffix(got, marker) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("read %q, then %v (waiting for %q)", got, err, marker)
		}
		got = append(got, b)
	}
	return got
}

// inflateLines reads n CR LF lines from a zlib stream.
func inflateLines(t *testing.T, z *bufio.Reader, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for range n {
		line, err := z.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d lines (%q): %v", len(out), line, err)
		}
		out = append(out, line)
	}
	return out
}

// TestCompressionStartsAndEndsAtItsByte: output before the start marker is
// plain, everything after it one zlib stream (header, sync-flushed units,
// a final block and the right Adler-32), and output after the end plain
// again.
func TestCompressionStartsAndEndsAtItsByte(t *testing.T) {
	c, client, _ := pair(t)
	c.Start()
	c.Send([]byte("plain before\r\n"))
	c.StartCompression()
	var want []string
	for i := range 50 {
		l := fmt.Sprintf("Alice says 'line %d of a chat, with some words that repeat'\r\n", i)
		want = append(want, l)
		c.Send([]byte(l))
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1200) // 19 KiB: several units
	c.Send(append(big, '\r', '\n'))
	c.EndCompression()
	c.Send([]byte("plain after\r\n"))
	client.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(client)
	if got := readUntil(t, r, mccpStart); !bytes.Equal(got, append([]byte("plain before\r\n"), mccpStart...)) {
		t.Fatalf("before the stream: %q", got)
	}
	zr, err := zlib.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	zb := bufio.NewReader(zr)
	got := inflateLines(t, zb, len(want)+1)
	for i, l := range want {
		if got[i] != l {
			t.Fatalf("line %d: %q, want %q", i, got[i], l)
		}
	}
	if got[len(want)] != string(big)+"\r\n" {
		t.Fatalf("the long line came out %d bytes long", len(got[len(want)]))
	}
	if rest, err := io.ReadAll(zb); err != nil || len(rest) > 0 {
		t.Fatalf("end of the stream: %q, %v (a wrong Adler-32 is an error here)", rest, err)
	}
	// zlib's reader may have buffered past the trailer: what is left in r
	// is the plain output.
	if got := readUntil(t, r, []byte("\r\n")); string(got) != "plain after\r\n" {
		t.Fatalf("after the stream: %q", got)
	}
	if c.Compressing() {
		t.Fatal("still compressing after the end")
	}
}

// TestCompressedWritesEndOnASyncFlush: each line arrives whole while the
// stream stays open (every write ends on a sync flush), without waiting
// for more output.
func TestCompressedWritesEndOnASyncFlush(t *testing.T) {
	c, client, _ := pair(t)
	c.Start()
	c.StartCompression()
	client.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(client)
	readUntil(t, r, mccpStart)
	zr, err := zlib.NewReader(&flushProbe{r: r, c: c, t: t})
	if err != nil {
		t.Fatal(err)
	}
	zb := bufio.NewReader(zr)
	for i := range 20 {
		l := fmt.Sprintf("line %d\r\n", i)
		c.Send([]byte(l))
		if got, err := zb.ReadString('\n'); err != nil || got != l {
			t.Fatalf("line %d: %q, %v", i, got, err)
		}
	}
}

// flushProbe makes sure the zlib reader's first read is answered (the
// header is sent with the start, before any output).
type flushProbe struct {
	r *bufio.Reader
	c *Conn
	t *testing.T
}

func (p *flushProbe) Read(b []byte) (int, error) { return p.r.Read(b) }

// handOver freezes c's writer and reader, carries its state into a new
// Conn on a duplicate of its socket (as a reboot does), and abandons c.
func handOver(t *testing.T, c *Conn) *Conn {
	t.Helper()
	c.FreezeReading()
	if c.FreezeWriting() {
		c.WaitWriting()
	}
	carried := c.Carry()
	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	c.Abandon()
	n, err := Adopt(c.ID, fd, DefaultLimits(), func(Input) {}, nil, carried)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Abort)
	return n
}

// TestCompressedStreamContinuesAcrossHandOver: a new Conn (a reboot's new
// process) continues the same zlib stream with a fresh deflater and the
// carried Adler-32: the client's one zlib reader inflates everything,
// including queued output and a queued end, and the trailer checks out.
func TestCompressedStreamContinuesAcrossHandOver(t *testing.T) {
	c, client, _ := pair(t)
	c.Start()
	c.StartCompression()
	var want []string
	send := func(c *Conn, n int) {
		for range n {
			l := fmt.Sprintf("Bob says 'line %d'\r\n", len(want))
			want = append(want, l)
			c.Send([]byte(l))
		}
	}
	send(c, 10)
	for range 5 {
		time.Sleep(10 * time.Millisecond)
		// Queued, not yet written when frozen: carried as unsent output.
		c.FreezeWriting()
		c.WaitWriting()
		send(c, 3)
		c = handOver(t, c)
		send(c, 7)
		c.Start()
		send(c, 5)
	}
	c.FreezeWriting()
	c.WaitWriting()
	c.EndCompression()
	c.Send([]byte("plain\r\n"))
	c = handOver(t, c)
	c.Start()

	client.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(client)
	readUntil(t, r, mccpStart)
	zr, err := zlib.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	zb := bufio.NewReader(zr)
	got := inflateLines(t, zb, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
	if rest, err := io.ReadAll(zb); err != nil || len(rest) > 0 {
		t.Fatalf("end of the stream: %q, %v", rest, err)
	}
	if got := readUntil(t, r, []byte("\r\n")); string(got) != "plain\r\n" {
		t.Fatalf("after the stream: %q", got)
	}
}

// TestInterruptedUnitIsWrittenFirst: the compressed rest of a unit that a
// freeze cut short travels as Compress.Wire and goes out before anything
// else.
func TestInterruptedUnitIsWrittenFirst(t *testing.T) {
	// The stream so far, built here: header and one unit, of which the
	// last 7 bytes are "unwritten".
	var z compressor
	start := append([]byte(nil), z.startUnit()...)
	unit := append([]byte(nil), z.compressUnit([]byte("first line\r\n"))...)
	cut := len(unit) - 7
	server, client := tcpPair(t)
	defer client.Close()
	if _, err := server.Write(append(append(append([]byte(nil), mccpStart...), start...), unit[:cut]...)); err != nil {
		t.Fatal(err)
	}
	f, err := server.File()
	if err != nil {
		t.Fatal(err)
	}
	server.Close()
	carried := Carried{Unsent: []byte("second line\r\n"),
		Compress: Compression{On: true, Adler: z.adler, Wire: unit[cut:], Marks: []Mark{{At: 13, On: false}}}}
	c, err := Adopt(2, int(f.Fd()), DefaultLimits(), func(Input) {}, nil, carried)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	c.Start()
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

// TestCheckpointOffsetMatchesTheSocket: the offset a checkpoint records is
// the socket's own count of bytes written, the one a recovery compares.
func TestCheckpointOffsetMatchesTheSocket(t *testing.T) {
	c, client, _ := pair(t)
	c.Start()
	go io.Copy(io.Discard, client)
	c.Send([]byte("hello\r\n"))
	c.StartCompression()
	for i := range 100 {
		c.Send([]byte(fmt.Sprintf("line %d\r\n", i)))
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		cp := c.CompressCheckpoint()
		now, _ := socketWritten(c.nc)
		if cp.On && cp.Offset == now && len(c.Unsent()) == 0 {
			if cp.AdlerUnknown || cp.Adler == 1 {
				t.Fatalf("checkpoint %+v", cp)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint %+v, socket %d", cp, now)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ net.Conn = (*net.TCPConn)(nil)

// FuzzCompressedStream: any output, cut into writes anywhere and with
// compression switched on and off anywhere, reaches the client exactly:
// plain runs as they are, each compressed run as one zlib stream that
// inflates to it and ends with the right Adler-32.
func FuzzCompressedStream(f *testing.F) {
	f.Add([]byte("hello\r\nworld\r\n"), []byte{3, 9, 1, 200, 4})
	f.Add(bytes.Repeat([]byte("Alice says 'hi'\r\n"), 600), []byte{0, 255, 7, 128, 9, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte, ops []byte) {
		server, client := tcpPair(t)
		defer client.Close()
		c := New(1, server, DefaultLimits(), func(Input) {})
		defer c.Abort()
		// Each op: a write of the next (op>>1)*37 bytes, then a switch
		// (on if op is odd, off if even). Runs are recorded for checking.
		type run struct {
			compressed bool
			bytes      []byte
		}
		var runs []run
		on := false
		add := func(p []byte) {
			if len(runs) == 0 || runs[len(runs)-1].compressed != on {
				runs = append(runs, run{compressed: on})
			}
			runs[len(runs)-1].bytes = append(runs[len(runs)-1].bytes, p...)
		}
		var emitted [][]byte
		var marks [][]outMark
		rest := data
		for _, op := range ops {
			n := min(len(rest), int(op>>1)*37)
			chunk := rest[:n]
			rest = rest[n:]
			add(chunk)
			want := op&1 == 1
			var m []outMark
			if want != on {
				m = []outMark{{at: len(chunk), on: want}}
				on = want
				if on {
					runs = append(runs, run{compressed: true})
				} else {
					runs = append(runs, run{})
				}
			}
			emitted = append(emitted, chunk)
			marks = append(marks, m)
		}
		add(rest)
		emitted = append(emitted, rest)
		marks = append(marks, []outMark{{at: len(rest), on: false}})
		done := make(chan error, 1)
		go func() {
			for i := range emitted {
				if _, _, err := c.emit(emitted[i], marks[i]); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		client.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(client)
		for i, ru := range runs {
			if !ru.compressed {
				got := make([]byte, len(ru.bytes))
				if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, ru.bytes) {
					t.Fatalf("run %d (plain): %q, %v; want %q", i, got, err, ru.bytes)
				}
				continue
			}
			zr, err := zlib.NewReader(r)
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, ru.bytes) {
				t.Fatalf("run %d (compressed): %d bytes, %v; want %d", i, len(got), err, len(ru.bytes))
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestClosingCompressedConnGivesUpAfterFlushWait: a compressed connection
// whose client stopped reading, closed, is over within Limits.FlushWait
// (the writer waiting for send-buffer room gives up like a timed-out
// write), not stuck forever.
func TestClosingCompressedConnGivesUpAfterFlushWait(t *testing.T) {
	server, client := tcpPair(t)
	defer client.Close()
	limits := DefaultLimits()
	limits.FlushWait = 300 * time.Millisecond
	limits.MaxBacklog = 16 << 20
	c := New(1, server, limits, func(Input) {})
	defer c.Abort()
	c.Start()
	c.StartCompression()
	r := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 4<<20) // incompressible: fills the socket
	for i := range noise {
		noise[i] = byte(r.IntN(256))
	}
	c.Send(noise)
	time.Sleep(200 * time.Millisecond)
	c.Close()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("a closing connection whose client does not read never finished")
	}
}

// crashAndAdopt stands for a kill -9 and the angel's recovery: c stops
// (no more writes), and a new Conn takes over a duplicate of its socket
// with nothing carried but what recovery decides.
func crashAndAdopt(t *testing.T, c *Conn) *Conn {
	t.Helper()
	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	c.Abandon()
	n, err := Adopt(c.ID+1, fd, DefaultLimits(), func(Input) {}, nil, Carried{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Abort)
	return n
}

// settled waits until c has written everything and returns the checkpoint
// then.
func settled(t *testing.T, c *Conn) CompressCheckpoint {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		cp := c.CompressCheckpoint()
		if now, ok := socketWritten(c.nc); ok && cp.OffsetKnown && cp.Offset == now && len(c.Unsent()) == 0 {
			return cp
		}
		if time.Now().After(deadline) {
			t.Fatalf("never settled: %+v", cp)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settledPast is settled once the socket has written past offset: output
// just sent can be in the writer's hands, in neither Unsent nor the
// socket's count yet, and settled alone then returned the checkpoint from
// before it (under -race, about 1 run in 20).
func settledPast(t *testing.T, c *Conn, offset uint64) CompressCheckpoint {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if now, ok := socketWritten(c.nc); ok && now > offset {
			return settled(t, c)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing written past %d", offset)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRecoverCompressionRule: after a crash, the checkpoint and the
// socket's own count decide. Nothing written since: exact (the stream can
// even be ended, its Adler-32 right). Units written since: the stream
// continues, Adler-32 unknown, and a later end leaves it open rather than
// write a wrong trailer. A start agreed at the checkpoint with bytes
// written since: unsure. Never a byte the client cannot inflate.
func TestRecoverCompressionRule(t *testing.T) {
	startStream := func(t *testing.T) (*Conn, *bufio.Reader, *bufio.Reader) {
		c, client, _ := pair(t)
		c.Start()
		c.StartCompression()
		c.Send([]byte("first\r\n"))
		client.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(client)
		readUntil(t, r, mccpStart)
		zr, err := zlib.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		zb := bufio.NewReader(zr)
		if got := inflateLines(t, zb, 1); got[0] != "first\r\n" {
			t.Fatalf("got %q", got)
		}
		return c, r, zb
	}
	t.Run("nothing written since: exact", func(t *testing.T) {
		c, _, zb := startStream(t)
		cp := settled(t, c)
		n := crashAndAdopt(t, c)
		if got := n.RecoverCompression(cp, true); got != RecoverExact {
			t.Fatalf("got %v", got)
		}
		n.Start()
		n.Send([]byte("after\r\n"))
		n.EndCompression()
		if got := inflateLines(t, zb, 1); got[0] != "after\r\n" {
			t.Fatalf("got %q", got)
		}
		if rest, err := io.ReadAll(zb); err != nil || len(rest) > 0 {
			t.Fatalf("end of the stream: %q, %v", rest, err)
		}
	})
	t.Run("units written since: continue", func(t *testing.T) {
		c, _, zb := startStream(t)
		cp := settled(t, c)
		for i := range 5 {
			c.Send([]byte(fmt.Sprintf("since %d\r\n", i)))
		}
		// Read by the client, so written: the crash comes after them
		// (settled alone can miss output in the writer's hands).
		if got := inflateLines(t, zb, 5); got[4] != "since 4\r\n" {
			t.Fatalf("got %q", got)
		}
		settled(t, c)
		n := crashAndAdopt(t, c)
		if got := n.RecoverCompression(cp, true); got != RecoverContinue {
			t.Fatalf("got %v", got)
		}
		n.Start()
		n.Send([]byte("after\r\n"))
		n.EndCompression() // cannot end it: the Adler-32 is lost
		n.Send([]byte("still compressed\r\n"))
		got := inflateLines(t, zb, 2)
		if got[0] != "after\r\n" || got[1] != "still compressed\r\n" {
			t.Fatalf("got %q", got)
		}
		if !n.Compressing() {
			t.Fatal("the stream was ended without its Adler-32")
		}
	})
	t.Run("start agreed, bytes written since: unsure", func(t *testing.T) {
		c, client, _ := pair(t)
		c.Start()
		go io.Copy(io.Discard, client)
		c.Send([]byte("plain\r\n"))
		cp := settled(t, c)
		c.StartCompression()
		c.Send([]byte("compressed\r\n"))
		settledPast(t, c, cp.Offset)
		n := crashAndAdopt(t, c)
		if got := n.RecoverCompression(cp, true); got != RecoverUnsure {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("start agreed, nothing written since: exact, off", func(t *testing.T) {
		c, client, _ := pair(t)
		c.Start()
		go io.Copy(io.Discard, client)
		c.Send([]byte("plain\r\n"))
		cp := settled(t, c)
		n := crashAndAdopt(t, c)
		if got := n.RecoverCompression(cp, true); got != RecoverExact || n.CompressionWanted() {
			t.Fatalf("got %v, wanted %v", got, n.CompressionWanted())
		}
	})
}
