package conn

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"talker/server/telnet"
)

// goldenMCCP3Stream is a client's MCCP3 stream as C zlib (what TinTin++
// links) makes it, level 6, a sync flush after each of three writes, then
// Z_FINISH: "look\r\n", "say hello there\r\n", and IAC WILL TTYPE followed
// by "say again\r\n" (telnet commands travel inside the stream too).
const goldenMCCP3Stream = "789ccac9cfcfe6e502000000ffff2a4eac54c848cdc9c95728c9482d4ae5e502000000fffffaff5b022496989e9899c7cb05000000ffff0300fde30d33"

// pipeline is the reader's path without the socket: the MCCP3 step, then
// the telnet decoder.
type pipeline struct {
	z   decompressor
	d   telnet.Decoder
	evs []telnet.Event
}

func newPipeline() *pipeline {
	p := &pipeline{d: telnet.NewDecoder(1000, 8192)}
	p.z.st.Offered = true
	return p
}

func (p *pipeline) feed(b []byte) error {
	out, err := p.z.run(b, mirrorOf(&p.d))
	p.evs = p.d.Feed(out, p.evs)
	return err
}

// carried is a new pipeline continuing from p's carried state (a reboot):
// a deep copy, as the state format would give it.
func (p *pipeline) carried() *pipeline {
	q := &pipeline{d: p.d, evs: p.evs}
	q.d.Line, q.d.SB = bytes.Clone(p.d.Line), bytes.Clone(p.d.SB)
	q.z.st = p.z.st.Clone()
	return q
}

func eventStrings(evs []telnet.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.String()
	}
	return out
}

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenNegotiation is a whole session's input: plain, the client's
// answer and start, the golden stream, plain again after its end, and a
// second stream (Go's zlib this time) still open.
func goldenNegotiation(t testing.TB) []byte {
	in := []byte("hi\r\n")
	in = append(in, telnet.IAC, telnet.DO, telnet.OptMCCP3, telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE)
	in = append(in, mustHex(t, goldenMCCP3Stream)...)
	in = append(in, "after\r\n"...)
	in = append(in, telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("second stream\r\n"))
	zw.Flush()
	zw.Write([]byte("who\r\n"))
	zw.Flush()
	return append(in, z.Bytes()...)
}

var goldenEvents = []string{
	`line "hi" (+0 truncated)`, "DO 87", `SB 87 ""`,
	`line "look" (+0 truncated)`, `line "say hello there" (+0 truncated)`, "WILL 24", `line "say again" (+0 truncated)`,
	`line "after" (+0 truncated)`, `SB 87 ""`,
	`line "second stream" (+0 truncated)`, `line "who" (+0 truncated)`,
}

// TestMCCP3GoldenWhole: the golden session fed at once gives every line
// and negotiation once, in order, and ends inside the second stream.
func TestMCCP3GoldenWhole(t *testing.T) {
	p := newPipeline()
	if err := p.feed(goldenNegotiation(t)); err != nil {
		t.Fatal(err)
	}
	if got := eventStrings(p.evs); fmt.Sprint(got) != fmt.Sprint(goldenEvents) {
		t.Fatalf("events\n got %q\nwant %q", got, goldenEvents)
	}
	if p.z.st.Phase != InflateData || len(p.z.st.Rest) != 0 {
		t.Fatalf("phase %d, %d bytes waiting: want inside the stream at a flush", p.z.st.Phase, len(p.z.st.Rest))
	}
}

// TestMCCP3GoldenSplitAndCarried: split at every offset, and at every pair
// of offsets, with the state carried to a fresh pipeline (as a reboot
// does) at each split, the events are the same: the start sequence, the
// zlib header, a flush, the final block and the trailer may each be cut
// anywhere.
func TestMCCP3GoldenSplitAndCarried(t *testing.T) {
	in := goldenNegotiation(t)
	want := fmt.Sprint(goldenEvents)
	for i := 0; i <= len(in); i++ {
		p := newPipeline()
		if err := p.feed(in[:i]); err != nil {
			t.Fatalf("split at %d: %v", i, err)
		}
		q := p.carried()
		if err := q.feed(in[i:]); err != nil {
			t.Fatalf("split at %d, after: %v", i, err)
		}
		if got := fmt.Sprint(eventStrings(q.evs)); got != want {
			t.Fatalf("split at %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for i := 0; i <= len(in); i++ {
		for j := i; j <= len(in); j++ {
			p := newPipeline()
			for _, part := range [][]byte{in[:i], in[i:j], in[j:]} {
				if err := p.feed(part); err != nil {
					t.Fatalf("split at %d,%d: %v", i, j, err)
				}
				p = p.carried()
			}
			if got := fmt.Sprint(eventStrings(p.evs)); got != want {
				t.Fatalf("split at %d,%d:\n got %s\nwant %s", i, j, got, want)
			}
		}
	}
}

// TestMCCP3NotOffered: without the offer, IAC SB 87 IAC SE is an
// ordinary subnegotiation and what follows is plain.
func TestMCCP3NotOffered(t *testing.T) {
	p := newPipeline()
	p.z.st.Offered = false
	in := []byte{telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE}
	in = append(in, "plain\r\n"...)
	if err := p.feed(in); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(eventStrings(p.evs)); got != `[SB 87 "" line "plain" (+0 truncated)]` {
		t.Fatalf("got %s", got)
	}
}

// TestMCCP3FalseFlushMarker: 00 00 FF FF inside a stored block's data is
// not a flush boundary; split right after it (and everywhere), the stream
// still inflates exactly.
func TestMCCP3FalseFlushMarker(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.NoCompression)
	payload := []byte("x\x00\x00\xff\xff\xff\xffy\r\n") // NUL NUL, two escaped 0xFF bytes
	zw.Write(payload)
	zw.Flush()
	zw.Write([]byte("next\r\n"))
	zw.Flush()
	stream := z.Bytes()
	if bytes.Count(stream, syncFlushTail[:]) < 3 {
		t.Fatalf("the stream has no false marker: %x", stream)
	}
	in := append([]byte{telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE}, stream...)
	want := "[SB 87 \"\" line \"x\\x00\\x00\\xff\\xffy\" (+0 truncated) line \"next\" (+0 truncated)]"
	for i := 0; i <= len(in); i++ {
		p := newPipeline()
		if err := p.feed(in[:i]); err != nil {
			t.Fatalf("split at %d: %v", i, err)
		}
		q := p.carried()
		if err := q.feed(in[i:]); err != nil {
			t.Fatalf("split at %d: %v", i, err)
		}
		if got := fmt.Sprint(eventStrings(q.evs)); got != want {
			t.Fatalf("split at %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestMCCP3MirrorFollowsTheDecoder: over random telnet-ish bytes, the
// mirror's state after each byte is the decoder's, and it reports a start
// exactly when the decoder emits an empty SB 87.
func TestMCCP3MirrorFollowsTheDecoder(t *testing.T) {
	alphabet := []byte{telnet.IAC, telnet.SB, telnet.SE, telnet.OptMCCP3, telnet.WILL, telnet.DO, 'a', '\r', '\n', telnet.NOP}
	r := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 2000; run++ {
		d := telnet.NewDecoder(100, 16)
		m := mirrorOf(&d)
		for k := 0; k < 64; k++ {
			b := alphabet[r.IntN(len(alphabet))]
			started := m.step(b)
			evs := d.Feed([]byte{b}, nil)
			emptySB87 := false // ended by IAC SE: a forgotten SE does not start a stream
			for _, e := range evs {
				if e.Kind == telnet.EventSubneg && e.Option == telnet.OptMCCP3 && len(e.Data) == 0 && b == telnet.SE {
					emptySB87 = true
				}
			}
			if started != emptySB87 || m.mode != d.Mode || (d.Mode == telnet.ModeSB || d.Mode == telnet.ModeSBIAC) && (m.opt != d.SBOption || m.empty != (len(d.SB) == 0 && !d.SBOverflow)) {
				t.Fatalf("run %d byte %d (%d): mirror %+v started %v, decoder mode %d opt %d sb %q, events %v",
					run, k, b, m, started, d.Mode, d.SBOption, d.SB, evs)
			}
		}
	}
}

func startedPipeline(t *testing.T) *pipeline {
	p := newPipeline()
	if err := p.feed([]byte{telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMCCP3Bomb: 8 MiB of spaces compress to about 8 KiB; fed 4 KiB at a
// time (a socket read), the first read is refused before it inflates past
// the 256 KiB bound, and the whole attempt allocates under 4 MiB.
func TestMCCP3Bomb(t *testing.T) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(bytes.Repeat([]byte{' '}, 8<<20))
	zw.Flush()
	bomb := z.Bytes()
	p := startedPipeline(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var err error
	for off := 0; off < len(bomb) && err == nil; off += 4096 {
		err = p.feed(bomb[off:min(off+4096, len(bomb))])
	}
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "inflated to more than 256 KiB") {
		t.Fatalf("bomb of %d bytes: err %v", len(bomb), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("the bomb cost %d bytes of allocation", alloc)
	}
	t.Logf("%d compressed bytes for 8 MiB refused: %v; allocated %d KiB", len(bomb), err, (after.TotalAlloc-before.TotalAlloc)>>10)
}

// TestMCCP3LongLineIsCut: under the bound, a long compressed line meets
// the decoder's own line limit like a typed one.
func TestMCCP3LongLineIsCut(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(append(bytes.Repeat([]byte{'a'}, 100_000), "\r\nok\r\n"...))
	zw.Flush()
	p := startedPipeline(t)
	if err := p.feed(z.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := p.evs[1:]
	if len(got) != 2 || len(got[0].Line) != 1000 || got[0].Truncated != 99_000 || string(got[1].Line) != "ok" {
		t.Fatalf("got %v", eventStrings(got))
	}
}

// TestMCCP3Corrupt: a bad header, corrupt blocks, a wrong checksum and a
// stream that never flushes each end with an error, and nothing after the
// fault reaches the decoder.
func TestMCCP3Corrupt(t *testing.T) {
	golden := mustHex(t, goldenMCCP3Stream)
	badSum := bytes.Clone(golden)
	badSum[len(badSum)-1] ^= 1
	noFlush := make([]byte, 200<<10)
	rand.NewChaCha8([32]byte{3, 4}).Read(noFlush)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(noFlush)
	for name, c := range map[string]struct {
		in   []byte
		want string
	}{
		"not deflate":    {[]byte{0x79, 0x9c}, "not a DEFLATE stream"},
		"header check":   {[]byte{0x78, 0x9d}, "bad header check"},
		"dictionary":     {[]byte{0x78, 0xbb}, "preset dictionary"},
		"reserved block": {[]byte{0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}, "corrupt data"},
		"checksum":       {append(badSum, "plain\r\n"...), "checksum"},
		"no flush":       {z.Bytes(), "without a flush"},
	} {
		p := startedPipeline(t)
		err := p.feed(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
		for _, e := range p.evs {
			if e.Kind == telnet.EventLine && string(e.Line) == "plain" {
				t.Errorf("%s: input after the fault was decoded", name)
			}
		}
	}
}

// TestMCCP3OverTheSocket: a Conn offered MCCP3 inflates a client's stream
// (Go's zlib, a flush after each line) at any read size; then the client
// sends garbage inside the stream, is told (IAC WONT 87 and a line), and
// the connection closes with an MCCP3 reason.
func TestMCCP3OverTheSocket(t *testing.T) {
	c, client, in := pair(t)
	c.OfferInflate()
	c.Start()
	client.Write([]byte{telnet.IAC, telnet.DO, telnet.OptMCCP3, telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE})
	zw := zlib.NewWriter(client)
	var got []string
	for i := range 20 {
		fmt.Fprintf(zw, "line %d\r\n", i)
		zw.Flush()
	}
	deadline := time.After(5 * time.Second)
	for len(got) < 20 {
		select {
		case i := <-in:
			got = append(got, lines(i)...)
		case <-deadline:
			t.Fatalf("lines: %q", got)
		}
	}
	for i, l := range got {
		if l != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
	if cp := c.InflateCheckpoint(); cp == nil || cp.Phase != InflateData || cp.ReadOffset == 0 {
		t.Fatalf("published %+v", cp)
	}
	client.Write([]byte{0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff}) // a reserved block type
	var closed error
	for closed == nil {
		select {
		case i := <-in:
			closed = i.Closed
		case <-deadline:
			t.Fatal("the connection did not close")
		}
	}
	if !errors.Is(closed, ErrInflate) {
		t.Fatalf("closed with %v", closed)
	}
	told, _ := io.ReadAll(client)
	if !bytes.HasPrefix(told, []byte{telnet.IAC, telnet.WONT, telnet.OptMCCP3}) || !bytes.Contains(told, []byte("MCCP3")) {
		t.Fatalf("the client was told %q", told)
	}
	t.Logf("closed: %v", closed)
}

// TestMCCP3CheckpointTrustedOnlyUnread: a checkpoint's state is taken as
// exact when the socket has read nothing since it was published, and
// marked lost (input discarded, stream on) when it has.
func TestMCCP3CheckpointTrustedOnlyUnread(t *testing.T) {
	c, client, in := pair(t)
	c.OfferInflate()
	c.Start()
	client.Write([]byte{telnet.IAC, telnet.DO, telnet.OptMCCP3, telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE})
	zw := zlib.NewWriter(client)
	zw.Write([]byte("one\r\n"))
	zw.Flush()
	waitLine(t, in, "one")
	time.Sleep(20 * time.Millisecond)
	if !c.FreezeReading() {
		t.Fatal("not frozen")
	}
	cp := c.InflateCheckpoint().Clone()
	cp.Checkpoint = true
	fd, _ := c.DupFD()
	c2, err := Wrap(fd, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c2.Attach(2, func(Input) {}, nil, Carried{Decoder: telnet.NewDecoder(1000, 8192), Decompress: &cp})
	if lost, _ := c2.InflateLost(); lost {
		t.Fatal("an unread checkpoint was not trusted")
	}
	c2.Abandon()
	zw.Write([]byte("two\r\n"))
	zw.Flush()
	c.ThawReading()
	waitLine(t, in, "two")
	fd, _ = c.DupFD()
	c3, err := Wrap(fd, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c3.Attach(3, func(Input) {}, nil, Carried{Decoder: telnet.NewDecoder(1000, 8192), Decompress: &cp})
	if lost, phase := c3.InflateLost(); !lost || phase != InflateData {
		t.Fatalf("a checkpoint the socket moved past: lost %v phase %d", lost, phase)
	}
	if data, _ := c3.inflate([]byte("garbage\r\n"), nil); len(data) != 0 {
		t.Fatalf("a lost stream's input reached the decoder: %q", data)
	}
	c3.Abandon()
}

// waitLine waits for an Input with the line want, skipping others.
func waitLine(t *testing.T, in chan Input, want string) {
	t.Helper()
	for {
		for _, l := range lines(expectInput(t, in, want)) {
			if l == want {
				return
			}
		}
	}
}
