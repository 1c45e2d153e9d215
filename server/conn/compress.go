package conn

// MCCP2: compression of a connection's output (telnet option 86).
//
// The world decides when compression starts and ends (StartCompression,
// EndCompression put a switch at an exact byte position of the outbox,
// right after the IAC SB COMPRESS2 IAC SE marker); the connection's own
// writer goroutine compresses, so that a line fanned out to 1,000 listeners
// is deflated on 1,000 writers, not 1,000 times on the world's goroutine.
//
// The path of output is: telnet bytes -> [MCCP2, here] -> [framing] ->
// socket. Every write the writer makes while compressing is one unit: the
// compressed bytes of at most unitInput bytes of output, ending on a sync
// flush (an empty stored block, 00 00 FF FF), so that
//
//   - the client always has every line complete;
//   - the stream is at a byte and block boundary after every unit, so any
//     deflater, in this process or the next, can continue it: the client's
//     inflater resolves back-references against its own window and needs
//     nothing from ours;
//   - what a unit leaves behind is tiny: the running Adler-32 of the
//     uncompressed bytes (for the trailer if compression ever ends) and
//     the last historySize bytes of uncompressed output (only to compress
//     better; a new process starts with none and is still correct).
//
// A seamless reboot carries the Adler-32, the switches still queued and the
// compressed bytes of a unit a freeze interrupted; the new process goes on
// with a fresh raw deflater and no new header: the client never notices.
//
// Memory: Go's flate.Writer is about 800 KiB-1.1 MiB (its hash tables are
// arrays inside it). One per compressed connection would be 1 GiB for
// 1,000 players, so the writers are pooled and borrowed for one unit; the
// connection keeps only its last historySize bytes, which prime the
// borrowed writer (compressed into a discarded sink) so that names and
// phrases repeated from recent lines still become back-references.

import (
	"compress/flate"
	"encoding/binary"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"talker/server/tlsrecord"
)

const (
	// unitInput bounds the uncompressed bytes in one unit: a write of at
	// most about 4 KiB on the wire, which fits the free send space we wait
	// for (see waitRoom), so that a unit is never half written.
	unitInput = 4 << 10
	// historySize is how much recent output primes the deflater of each
	// unit, and deflateLevel its level. Measured on a sample of talker
	// output, one line per unit (TestCompressionRatio's sample; times on
	// this 2-core machine under load, so rough): level 4 with no history
	// gave a ratio of 1.38 at 11 us a line, 512 B 2.0 at 29 us, 1 KiB 2.3
	// at 36 us, 2 KiB 2.8 at 45 us, 8 KiB 3.3 at 88 us; level 6 was 3%
	// better and 50-70% slower; level 1 (BestSpeed) gains almost nothing
	// from history (1.48 at 2 KiB), as its blocks start afresh.
	historySize  = 2 << 10
	deflateLevel = 4
	// adlerMod is Adler-32's modulus (RFC 1950).
	adlerMod = 65521
)

// The zlib header that starts the stream: CMF 0x78 (deflate, 32 KiB
// window), FLG 0x5e (FLEVEL 1, "fast", which is informative only; no preset
// dictionary; 0x785e is a multiple of 31 as RFC 1950 requires).
const zlibCMF, zlibFLG = 0x78, 0x5e

// outMark is a compression switch queued in the outbox: at byte at of the
// queued bytes, the compressed stream starts (on) or ends.
type outMark struct {
	at int
	on bool
}

// Mark is an outMark as carried across a reboot: At is an offset into
// Carried.Unsent.
type Mark struct {
	At int
	On bool
}

// Compression is a connection's MCCP2 state as carried across a reboot
// (Carried.Compress). The zero value is "not compressing".
type Compression struct {
	On bool // the output is inside a compressed stream
	// Adler is the running Adler-32 of the uncompressed bytes since the
	// stream started; AdlerUnknown is set after a crash recovery that could
	// not know it (see recovery.go's rule), in which case the stream is
	// never ended with a trailer.
	Adler        uint32
	AdlerUnknown bool
	// Wire is compressed bytes of a unit that a freeze interrupted
	// half-written: they go to the socket first.
	Wire []byte
	// Marks are the switches still queued, at offsets into Unsent.
	Marks []Mark
}

// Active reports whether the state is anything but "plain, nothing
// queued": whether a reboot must carry it.
func (z *Compression) Active() bool {
	return z.On || len(z.Wire) > 0 || len(z.Marks) > 0
}

// CompressCheckpoint is what a checkpoint (the angel's) records of a
// connection's compression, read without stopping the writer: the state
// after the last whole write, and the socket's absolute count of bytes
// written at that point (Offset; 0 = not known yet). After a crash the
// socket's own count says whether anything was written since (see
// RecoverCompression).
type CompressCheckpoint struct {
	On           bool
	Adler        uint32
	AdlerUnknown bool
	Offset       uint64
	OffsetKnown  bool
}

// compressor is the writer goroutine's compression state.
type compressor struct {
	on           bool
	adler        uint32
	adlerUnknown bool
	wire         []byte // the unwritten rest of a unit a freeze interrupted
	history      []byte // the last historySize bytes of compressed output, uncompressed
	unit         []byte // the unit being built (reused)

	// base is the socket's absolute count of bytes written when this
	// process's writer first wrote (0: not read yet), written what it has
	// written since: the socket's offset is base + written.
	base     uint64
	baseRead bool // base is known (a fresh socket's count is 0)
	// baseFailed: the socket would not tell (not TCP): offsets unknown.
	baseFailed bool
	written    uint64
	// What a checkpoint reads: the offset after the last write plus one
	// (0: not known; stored after every write), and the compression state after the last
	// compressed write, with its own offset (nil until compression was
	// first involved on this connection). The writer stores published
	// before offset, a checkpoint loads offset first (see
	// CompressCheckpoint).
	offset    atomic.Uint64
	published atomic.Pointer[CompressCheckpoint]
}

// deflaters are flate writers borrowed for one unit. A pool rather than a
// writer per connection: see the memory note at the top of this file. It
// is a cache of scratch space, not state: no behaviour depends on which
// writer a unit gets.
var deflaters = sync.Pool{New: func() any {
	d := &deflater{}
	d.fw, _ = flate.NewWriter(&d.sink, deflateLevel)
	return d
}}

type deflater struct {
	fw   *flate.Writer
	sink switchSink
}

// switchSink lets a borrowed writer's output go to a discard sink while it
// is primed with history, then to the unit.
type switchSink struct{ dst *[]byte }

func (s *switchSink) Write(p []byte) (int, error) {
	if s.dst != nil {
		*s.dst = append(*s.dst, p...)
	}
	return len(p), nil
}

// adlerUpdate continues the Adler-32 a over p (RFC 1950, as hash/adler32).
func adlerUpdate(a uint32, p []byte) uint32 {
	s1, s2 := a&0xffff, a>>16
	for len(p) > 0 {
		// 5552 bytes is the most that cannot overflow the 32-bit sums.
		chunk := p[:min(len(p), 5552)]
		p = p[len(chunk):]
		for _, b := range chunk {
			s1 += uint32(b)
			s2 += s1
		}
		s1 %= adlerMod
		s2 %= adlerMod
	}
	return s2<<16 | s1
}

// compressUnit returns the unit for p: its deflate blocks, primed with the
// history, ending on a sync flush. The returned slice is reused by the
// next call.
func (z *compressor) compressUnit(p []byte) []byte {
	d := deflaters.Get().(*deflater)
	d.sink.dst = nil
	d.fw.Reset(&d.sink)
	if len(z.history) > 0 {
		_, _ = d.fw.Write(z.history)
		_ = d.fw.Flush()
	}
	z.unit = z.unit[:0]
	d.sink.dst = &z.unit
	_, _ = d.fw.Write(p)
	_ = d.fw.Flush()
	d.sink.dst = nil
	deflaters.Put(d)
	z.adler = adlerUpdate(z.adler, p)
	z.remember(p)
	return z.unit
}

// remember keeps the last historySize bytes of output.
func (z *compressor) remember(p []byte) {
	if len(p) >= historySize {
		z.history = append(z.history[:0], p[len(p)-historySize:]...)
		return
	}
	if over := len(z.history) + len(p) - historySize; over > 0 {
		z.history = append(z.history[:0], z.history[over:]...)
	}
	z.history = append(z.history, p...)
}

// startUnit starts the stream: the zlib header, as a unit of its own.
func (z *compressor) startUnit() []byte {
	z.on, z.adler, z.adlerUnknown, z.history = true, 1, false, z.history[:0]
	z.unit = append(z.unit[:0], zlibCMF, zlibFLG)
	return z.unit
}

// endUnit ends the stream: a final empty block and the Adler-32 trailer.
// With the Adler-32 unknown (after a crash recovery) there is no correct
// trailer; then the stream is left open instead (ok false): see
// EndCompression.
func (z *compressor) endUnit() (unit []byte, ok bool) {
	if z.adlerUnknown {
		return nil, false
	}
	d := deflaters.Get().(*deflater)
	z.unit = z.unit[:0]
	d.sink.dst = &z.unit
	d.fw.Reset(&d.sink)
	_ = d.fw.Close()
	d.sink.dst = nil
	deflaters.Put(d)
	z.unit = binary.BigEndian.AppendUint32(z.unit, z.adler)
	z.on, z.history = false, z.history[:0]
	return z.unit, true
}

// StartCompression queues the MCCP2 start (IAC SB COMPRESS2 IAC SE):
// everything queued after it is compressed. The world calls it when the
// client agrees (IAC DO COMPRESS2).
func (c *Conn) StartCompression() bool {
	return c.out.addMarked([]byte{255, 250, 86, 255, 240}, true)
}

// EndCompression queues the end of the compressed stream: output queued
// after it is plain again. (If the stream's Adler-32 was lost to a crash,
// the writer cannot end it correctly and keeps compressing: a wrong trailer
// would be an inflate error at the client.)
func (c *Conn) EndCompression() bool {
	return c.out.addMarked(nil, false)
}

// addMarked queues b and then a switch.
func (o *outbox) addMarked(b []byte, on bool) bool {
	o.sends.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.closing {
		return true
	}
	if o.max > 0 && len(o.buf)+o.inFlight+len(b) > o.max {
		return false
	}
	if o.owner != nil {
		o.owner.tlsUnseal() // tlsseal.go: TLS with MCCP2 keeps the older rule
	}
	o.buf = append(o.buf, b...)
	o.marks = append(o.marks, outMark{at: len(o.buf), on: on})
	o.compressOn = on
	if o.gate != nil {
		o.holdForCommit() // gate.go
		return true
	}
	if !o.paused {
		o.signal()
	}
	return true
}

// CompressionWanted reports whether output queued now would be compressed:
// the last switch queued (or carried) turned compression on. The world
// compares it with the negotiated option.
func (c *Conn) CompressionWanted() bool {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return c.out.compressOn
}

// Compressing reports the writer's state after its last whole write: the
// stream is on. (Read by tests and the world; exact once the writer is
// frozen.)
func (c *Conn) Compressing() bool {
	p := c.z.published.Load()
	return p != nil && p.On
}

// CompressCheckpoint returns what a checkpoint records of the connection's
// output: the compression state after the writer's last whole write and
// the socket offset there. Safe on any goroutine while the writer runs.
// The offset is loaded first: if the compression state published after it
// is newer, it is used with its own offset, else the state (off, or on
// with plain writes impossible) holds at the offset loaded.
func (c *Conn) CompressCheckpoint() CompressCheckpoint {
	off := c.z.offset.Load() // + 1; 0: not known
	p := c.z.published.Load()
	switch {
	case p == nil:
		return CompressCheckpoint{Offset: max(off, 1) - 1, OffsetKnown: off > 0}
	case p.Offset+1 >= off || p.On:
		return *p
	}
	cp := *p
	cp.Offset, cp.OffsetKnown = off-1, true
	return cp
}

// emit writes data, switching compression at marks (offsets into data), in
// units. On an error it returns what it did not write (and the marks in
// it), for the outbox to keep: rest is uncompressed output; the compressed
// rest of an interrupted unit stays in z.wire.
func (c *Conn) emit(data []byte, marks []outMark) (rest []byte, restMarks []outMark, err error) {
	z := &c.z
	if len(z.wire) > 0 {
		n, err := c.writeUnit(z.wire, true)
		z.wire = z.wire[n:]
		if err != nil {
			return data, marks, err
		}
		z.wire = nil
		c.publish()
	}
	pos := 0
	fail := func(err error) ([]byte, []outMark, error) {
		out := make([]outMark, len(marks))
		for i, m := range marks {
			out[i] = outMark{at: m.at - pos, on: m.on}
		}
		return data[pos:], out, err
	}
	for {
		end := len(data)
		if len(marks) > 0 {
			end = marks[0].at
		}
		for pos < end {
			if !z.on && c.ws != nil {
				// A WebSocket frame at a time, whole (websocket.go): a
				// kill -9 never leaves half a frame on the wire.
				n := wsFrameLen(data[pos:end])
				frame := data[pos : pos+n]
				pos += n // from here on it is the frame's to write
				if err := c.writeWhole(frame); err != nil {
					return fail(err)
				}
				continue
			}
			if !z.on {
				n, err := c.writeUnit(data[pos:end], false)
				pos += n
				if err != nil {
					return fail(err)
				}
				continue
			}
			n := min(end-pos, unitInput)
			unit := z.compressUnit(data[pos : pos+n])
			pos += n // compressed: from here on it is the unit's to write
			if err := c.writeWhole(unit); err != nil {
				return fail(err)
			}
		}
		if len(marks) == 0 {
			return nil, nil, nil
		}
		m := marks[0]
		marks = marks[1:]
		var unit []byte
		switch {
		case m.on && !z.on:
			unit = z.startUnit()
		case !m.on && z.on:
			unit, _ = z.endUnit()
		}
		if len(unit) > 0 {
			if err := c.writeWhole(unit); err != nil {
				return fail(err)
			}
		} else {
			c.publish()
		}
	}
}

// writeWhole writes a unit; whatever of it a freeze left unwritten is kept
// in z.wire (the caller must not write anything else before it).
func (c *Conn) writeWhole(unit []byte) error {
	n, err := c.writeUnit(unit, true)
	if err != nil {
		c.z.wire = append([]byte(nil), unit[n:]...)
		return err
	}
	c.publish()
	return nil
}

// publish records the state after a whole write for checkpoints.
func (c *Conn) publish() {
	z := &c.z
	off := z.socketOffset()
	z.published.Store(&CompressCheckpoint{On: z.on, Adler: z.adler, AdlerUnknown: z.adlerUnknown,
		Offset: off, OffsetKnown: z.baseRead})
	z.offset.Store(z.offsetPlusOne())
}

// offsetPlusOne is what the offset atomic holds: socketOffset + 1, or 0
// when unknown.
func (z *compressor) offsetPlusOne() uint64 {
	if !z.baseRead {
		return 0
	}
	return z.socketOffset() + 1
}

// socketOffset is the socket's count of bytes written, as far as this
// writer knows it (0: unknown).
func (z *compressor) socketOffset() uint64 {
	if !z.baseRead {
		return 0
	}
	return z.base + z.written
}

// writeUnit is the one place where the writer's bytes go to the socket:
// a plain run of output, or one compressed unit (whole true). The shared
// output journal hooks in here: before the write, record the unit in
// flight (its bytes and the socket offset it starts at, c.z.base +
// c.z.written) and the compressor's state after it (c.z.adler, c.z.on);
// after it, mark it complete. A unit is never half written by a live
// process (waitRoom), so after a kill -9 the socket's count of bytes
// written is either before or after the unit in flight.
func (c *Conn) writeUnit(b []byte, whole bool) (int, error) {
	z := &c.z
	if !z.baseRead && !z.baseFailed {
		// Once per connection and process: two system calls.
		z.base, z.baseRead = socketWritten(c.nc)
		z.baseFailed = !z.baseRead
	}
	if whole {
		if err := c.waitRoom(len(b)); err != nil {
			return 0, err
		}
	}
	n, err := c.writeSocket(b) // TLS records on a TLS connection (tls.go)
	z.written += uint64(n)
	if !whole {
		z.offset.Store(z.offsetPlusOne())
	}
	return n, err
}

// waitRoom waits until the socket's send buffer has room for a unit of n
// bytes with margin, so that the kernel takes it in one write: a process
// killed in the middle of a blocking write would leave half a unit on the
// wire, which no new deflater can continue. It polls (1 ms doubling to 50
// ms): edge-triggered writability would not wake us for a threshold of our
// own. It gives up, as a timed-out write would, when the writer is frozen,
// the connection is closed, or it is closing (Close) and Limits.FlushWait
// has passed.
func (c *Conn) waitRoom(n int) error {
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return err
	}
	wait := time.Millisecond
	var closingSince time.Time
	for {
		room := true
		_ = raw.Control(func(fd uintptr) {
			var mem [9]uint32 // SK_MEMINFO_VARS
			size := uint32(unsafe.Sizeof(mem))
			_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
				uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&size)), 0)
			if e != 0 {
				return // unknown: write as before
			}
			const sndbuf, queued = 3, 5 // SK_MEMINFO_SNDBUF, SK_MEMINFO_WMEM_QUEUED
			// 2n + 4 KiB: a buffer's true size with its skb overhead.
			room = int64(mem[sndbuf])-int64(mem[queued]) >= int64(2*n+4096)
		})
		if room {
			return nil
		}
		if c.out.isPaused() {
			return os.ErrDeadlineExceeded // as an interrupted write: kept for the next generation
		}
		if c.hungUp.Load() || c.out.isClosed() {
			return net.ErrClosed
		}
		if c.out.isClosing() {
			if closingSince.IsZero() {
				closingSince = time.Now()
			} else if time.Since(closingSince) > c.limits.FlushWait {
				return os.ErrDeadlineExceeded
			}
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// socketWritten is the socket's count of bytes the application has written,
// tcpi_bytes_acked + SIOCOUTQ: exact, and the same in every process holding
// the socket; ok false if unknown. (On a connecting socket bytes_acked
// also counts its SYN, the reference's "- 1"; on an accepted one, which is
// every socket the talker has, it does not: measured, 7 bytes written and
// acknowledged read 7. Only differences of this count are ever used.
// This end's FIN, counted like a byte once queued, is left out:
// tlsrecord.FINs.)
func socketWritten(nc *net.TCPConn) (n uint64, ok bool) {
	raw, err := nc.SyscallConn()
	if err != nil {
		return 0, false
	}
	_ = raw.Control(func(fd uintptr) { n, ok = SocketWrittenFD(int(fd)) })
	return n, ok
}

// SocketWrittenFD is socketWritten for a descriptor.
func SocketWrittenFD(fd int) (uint64, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	queued, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	if err != nil || queued < 0 {
		return 0, false
	}
	_, finOut := tlsrecord.FINs(info.State) // this end's FIN is not output
	return info.Bytes_acked + uint64(queued) - finOut, true
}

// carryCompression returns the compression state to carry, with the
// switches still queued (marks, at offsets into the unsent bytes).
func (c *Conn) carryCompression(marks []outMark) Compression {
	z := &c.z
	out := Compression{On: z.on, Adler: z.adler, AdlerUnknown: z.adlerUnknown,
		Wire: append([]byte(nil), z.wire...)}
	for _, m := range marks {
		out.Marks = append(out.Marks, Mark{At: m.at, On: m.on})
	}
	if len(out.Wire) == 0 {
		out.Wire = nil
	}
	return out
}

// attachCompression takes over a carried state: the same stream goes on
// with a fresh deflater (no header: the client is still inside it). The
// carried unsent output starts at byte prior of the outbox. Call with the
// outbox locked. A switch outside the unsent output (a damaged record) is
// moved to its nearer end: the order of switches and bytes is what
// matters, and it is kept.
func (c *Conn) attachCompression(z Compression, prior, unsentLen int) {
	c.z.on, c.z.adler, c.z.adlerUnknown = z.On, z.Adler, z.AdlerUnknown
	c.z.wire = append([]byte(nil), z.Wire...)
	if len(c.z.wire) == 0 {
		c.z.wire = nil
	}
	c.out.compressOn = z.On
	last := 0
	for _, m := range z.Marks {
		at := min(max(m.At, last), unsentLen)
		last = at
		c.out.marks = append(c.out.marks, outMark{at: prior + at, on: m.On})
		c.out.compressOn = m.On
	}
	if z.Active() {
		c.publish()
	}
}

var _ io.Writer = (*switchSink)(nil)

// Recovery is what a crash recovery found of a connection's output stream
// (RecoverCompression).
type Recovery int

// Recoveries.
const (
	// RecoverExact: nothing was written since the checkpoint; its state
	// holds, Adler-32 included.
	RecoverExact Recovery = iota
	// RecoverContinue: the stream was on at the checkpoint and still is,
	// at a unit boundary (units are written whole), so a fresh deflater
	// continues it; its Adler-32 is no longer known.
	RecoverContinue
	// RecoverPlain: compression was neither on nor agreed: plain output.
	RecoverPlain
	// RecoverUnsure: a switch was agreed and output written since the
	// checkpoint: whether the client is inside a stream cannot be told,
	// and either guess could show it garbage. The connection is closed.
	RecoverUnsure
)

// RecoverCompression sets up the output stream of a connection adopted in a
// crash recovery, before Start, from the angel's checkpoint cp and whether
// compression was agreed then (agreed: the option was YES). It compares
// the socket's own count of bytes written with the checkpoint's:
//
//   - equal: nothing was written since, the checkpoint is exact (a switch
//     it says was agreed but not yet made is the world's to queue again);
//   - different, compression on and still agreed: more units were written,
//     each whole, so the stream is at a unit boundary and continues; the
//     Adler-32 is lost, and the stream is never ended (a wrong trailer
//     would be an inflate error): a client's DONT COMPRESS2 is answered
//     but compression goes on until it reconnects;
//   - different, off and not agreed: plain;
//   - different, with a switch agreed and not yet made at the checkpoint
//     (the world checkpoints at once when one is agreed, and again on its
//     next round, about 200 ms later, after the writer made it): unsure.
func (c *Conn) RecoverCompression(cp CompressCheckpoint, agreed bool) Recovery {
	now, ok := socketWritten(c.nc)
	z := &c.z
	var r Recovery
	switch {
	case ok && cp.OffsetKnown && now == cp.Offset:
		z.on, z.adler, z.adlerUnknown = cp.On, cp.Adler, cp.AdlerUnknown
		r = RecoverExact
	case cp.On && agreed:
		z.on, z.adler, z.adlerUnknown = true, 1, true
		r = RecoverContinue
	case !cp.On && !agreed:
		return RecoverPlain
	default:
		return RecoverUnsure
	}
	c.out.mu.Lock()
	c.out.compressOn = z.on
	c.out.mu.Unlock()
	c.publish()
	return r
}
