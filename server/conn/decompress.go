package conn

// MCCP3 (telnet option 87): the client compresses what it sends. The world
// offers it (IAC WILL 87, server/mccp3.go); a client that agrees answers
// IAC DO 87 IAC SB 87 IAC SE and starts a zlib stream (RFC 1950) at the
// very next byte. This file is the reader's step between the socket (or
// TLS) and the telnet decoder: it passes plain bytes through, watches them
// for the start sequence, and from there inflates.
//
// Carried exactly, at any byte. Go's flate reader cannot be marshalled,
// but a client flushes (Z_SYNC_FLUSH) after each line, and at such a
// boundary the stream's only state is the history window: the last 32 KiB
// it inflated. So this reader never keeps a flate reader between reads at
// all: it holds the window as of the last boundary and the compressed
// bytes received since (Rest), and inflates Rest, with a raw inflater
// preset with the window (flate.NewReaderDict), each time a read brings a
// new flush boundary. The same plain data (InflateState) is what a reboot
// carries and the angel's checkpoint records; nothing else is needed to
// continue the stream in another process.
//
// Where a flush boundary is: a sync flush ends with an empty stored block,
// 00 00 FF FF on a byte boundary. Those four bytes can also occur inside
// compressed data, so a candidate is checked: Rest up to it, followed by a
// final empty stored block (01 00 00 FF FF), must inflate to a clean end
// using every byte. Only a true boundary does (a false one leaves the
// inflater mid-block, reading the check bytes as codes); a failed check
// just waits for the next flush.
//
// The client's orderly end (Z_FINISH) is found the same way: Rest inflates
// to io.EOF by itself; the 4-byte Adler-32 follows, then plain telnet again.
//
// Bounded: at most maxInflateRead bytes come out of one read (a few bytes
// of DEFLATE can stand for megabytes: a decompression bomb), at most
// maxInflateRest compressed bytes wait for a boundary, and what does come
// out goes through the decoder's own line and subnegotiation limits. A
// stream that is corrupt, too large or never flushed ends the connection:
// the client is told (IAC WONT 87 and a line), the reason is the
// connection's close reason in the log, and no byte of it reaches the
// decoder.

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"talker/server/telnet"
)

const (
	// inflateWindow is DEFLATE's history: no back-reference reaches
	// further, so it is all a continued stream can need (RFC 1951 3.2.5).
	inflateWindow = 32 << 10
	// maxInflateRest bounds the compressed bytes held waiting for a flush
	// boundary: a client flushes after every line (a line is at most
	// Limits.MaxLine, 1000 bytes by default), so 64 KiB unflushed is not
	// a client following the protocol.
	maxInflateRest = 64 << 10
	// maxInflateRead bounds what one read may inflate to: 256 KiB, against
	// the 4 KiB a read takes from the socket (DEFLATE's best ratio is
	// about 1032:1, so 4 KiB could otherwise become 4 MiB). Typed text
	// compresses 2-5:1; beyond 64:1 it is a bomb.
	maxInflateRead = 256 << 10
)

// Inflate phases, InflateState.Phase. The values are carried: never
// renumber them.
const (
	InflatePlain   uint8 = iota // not compressed: watching for IAC SB 87 IAC SE
	InflateHeader               // after the start: the 2-byte zlib header, so far in Rest
	InflateData                 // DEFLATE blocks: Window and Rest
	InflateTrailer              // after the final block: the Adler-32, so far in Rest
	InflateBroken               // failed (corrupt, bomb, lost in a crash): input is discarded until the connection closes
)

// finalEmptyBlock is a final (BFINAL=1) empty stored block: what a flush
// boundary candidate is checked with.
var finalEmptyBlock = [...]byte{0x01, 0x00, 0x00, 0xff, 0xff}

// syncFlushTail is how every sync flush ends (an empty stored block).
var syncFlushTail = [...]byte{0x00, 0x00, 0xff, 0xff}

// InflateState is a connection's MCCP3 input state: plain data, carried by
// a reboot (exact: the reader is frozen) and recorded by the angel's
// checkpoint (as the reader last published it, with ReadOffset). It is
// also what a shared-memory input journal would record.
type InflateState struct {
	// Offered: the talker offered MCCP3 and the client has not refused,
	// so a start sequence in the plain stream starts inflating.
	Offered bool
	Phase   uint8 // InflatePlain...InflateBroken
	// Window is the last 32 KiB (at most) of inflated input as of the
	// last flush boundary: the history the next block may refer to.
	Window []byte
	// Rest is what was received since: compressed bytes (InflateData),
	// or the header or trailer bytes so far.
	Rest []byte
	// Adler is the running Adler-32 of everything inflated, checked
	// against the stream's trailer when the client ends it.
	Adler uint32
	// ReadOffset is, in a published copy, the socket's count of bytes
	// read when it was published (see readOffset); Checkpoint marks a
	// state taken from a checkpoint record, which Attach trusts only if
	// the socket still says the same.
	ReadOffset uint64
	Checkpoint bool
}

// Clone returns a deep copy.
func (s *InflateState) Clone() InflateState {
	c := *s
	c.Window = bytes.Clone(s.Window)
	c.Rest = bytes.Clone(s.Rest)
	return c
}

// Size is the carried state's size in bytes, roughly (for the logs and
// the README's numbers): the window and the rest dominate.
func (s *InflateState) Size() int { return len(s.Window) + len(s.Rest) + 24 }

// decompressor is a connection's MCCP3 state (Conn.dz).
type decompressor struct {
	st InflateState // owned by the reader, like Conn.Decoder
	// offered mirrors st.Offered for the world, which revokes it when the
	// client refuses (SetInflateOffered).
	offered atomic.Bool
	// published is st as of the end of the reader's last batch, with the
	// socket's read offset then: the angel's checkpoint's copy.
	published atomic.Pointer[InflateState]
	// lost: Attach got a checkpoint's state the socket has moved past
	// (see InflateLost); lostPhase is the phase it recorded.
	lost      bool
	lostPhase uint8

	fr      io.ReadCloser // a flate reader, reset for each attempt (never carried)
	src     bytes.Reader
	joined  []byte // Rest with the check block appended
	scratch []byte // an attempt's output
	out     []byte // the batch's output, handed to the decoder
}

// ErrInflate is wrapped by every reason an MCCP3 stream ends the
// connection.
var ErrInflate = errors.New("MCCP3")

// off reports whether MCCP3 is neither offered nor on: the reader's input
// is the socket's bytes as they are (input.go's peeking reader relies on
// that; with MCCP3 offered or on, a journalled batch would also need this
// state, InflateState, as of the batch's end). Reader-owned.
func (z *decompressor) off() bool {
	return z.st.Phase == InflatePlain && !z.offered.Load()
}

// OfferInflate records that MCCP3 was offered (IAC WILL 87). Call it
// before Start.
func (c *Conn) OfferInflate() {
	c.dz.st.Offered = true
	c.dz.offered.Store(true)
	c.publishInflate()
}

// SetInflateOffered withdraws (false) or renews the offer: a client that
// refuses (IAC DONT 87) is not watched for a start sequence any more.
// Safe from any goroutine.
func (c *Conn) SetInflateOffered(on bool) { c.dz.offered.Store(on) }

// InflateOffered reports whether MCCP3 is offered and not refused.
func (c *Conn) InflateOffered() bool { return c.dz.offered.Load() }

// InflateCheckpoint is the MCCP3 state as the reader last published it
// (nil if MCCP3 was never offered): what the angel's checkpoint records.
// Safe from any goroutine.
func (c *Conn) InflateCheckpoint() *InflateState { return c.dz.published.Load() }

// InflateLost reports whether Attach was given a checkpoint's MCCP3 state
// that the socket has moved past (a crash after input was read), and the
// phase it was in then. The world decides (server/mccp3.go); until
// then the reader treats input as plain, or discards it if the stream was
// on.
func (c *Conn) InflateLost() (lost bool, phase uint8) { return c.dz.lost, c.dz.lostPhase }

// FailInflate ends MCCP3 on a connection for good: input is discarded
// from here, the client is told (IAC WONT 87, then tell, a line of text),
// and the connection closes once that is sent, with reason as its close
// reason. From the reader, or before Start.
func (c *Conn) FailInflate(reason error, tell string) {
	c.dz.st = InflateState{Phase: InflateBroken}
	c.dz.release()
	c.dz.offered.Store(false)
	c.publishInflate()
	c.readMu.Lock()
	if c.abortReason == nil {
		c.abortReason = reason
	}
	c.readMu.Unlock()
	msg := telnet.AppendNegotiation(nil, telnet.WONT, telnet.OptMCCP3)
	msg = append(msg, "\r\n*** "+tell+"\r\n"...)
	c.Send(msg)
	c.Close()
}

// inflate is the reader's MCCP3 step: data (from the socket, after TLS)
// in, telnet bytes for the decoder out. It costs one atomic load on a
// connection MCCP3 was never offered to.
func (c *Conn) inflate(data []byte, readErr error) ([]byte, error) {
	z := &c.dz
	if z.st.Phase == InflatePlain && !z.offered.Load() {
		return data, readErr
	}
	if z.st.Phase == InflateBroken {
		return nil, readErr
	}
	z.st.Offered = z.offered.Load()
	out, err := z.run(data, mirrorOf(&c.Decoder))
	if err != nil {
		c.FailInflate(fmt.Errorf("%w: %v", ErrInflate, err),
			"Your client's compressed input (MCCP3) could not be read ("+err.Error()+"). Closing the connection: please reconnect.")
		return out, readErr
	}
	c.publishInflate()
	return out, readErr
}

// publishInflate stores the checkpoint's copy of the state.
func (c *Conn) publishInflate() {
	st := c.dz.st
	st.Window = c.dz.st.Window // shared: no byte of it is ever written again (see commit)
	st.Rest = bytes.Clone(st.Rest)
	st.ReadOffset = c.readOffset()
	c.dz.published.Store(&st)
}

// carryInflate is the MCCP3 state a reboot carries: nil when MCCP3 is
// neither offered nor on (no cost for the connections that do not use it).
func (c *Conn) carryInflate() *InflateState {
	z := &c.dz
	z.st.Offered = z.offered.Load()
	if !z.st.Offered && z.st.Phase == InflatePlain {
		return nil
	}
	st := z.st.Clone()
	st.ReadOffset, st.Checkpoint = 0, false
	return &st
}

// attachInflate takes a carried MCCP3 state: exact from a reboot; from a
// checkpoint (a crash recovery) only if the socket has not been read since
// it was published. Otherwise the stream moved on by an unknown amount and
// nothing of it can be inflated: the connection is marked lost, input is
// discarded if the stream was on (never garbage to the decoder), and the
// world decides what to do (InflateLost).
func (c *Conn) attachInflate(st *InflateState) {
	z := &c.dz
	z.st, z.lost, z.lostPhase = InflateState{}, false, 0
	if st == nil {
		z.offered.Store(false)
		return
	}
	if st.Checkpoint {
		if read := c.readOffset(); read == 0 || read != st.ReadOffset {
			z.lost, z.lostPhase = true, st.Phase
			z.st.Offered = st.Offered
			if st.Phase != InflatePlain {
				z.st.Phase, z.st.Offered = InflateBroken, false
			}
			z.offered.Store(z.st.Offered)
			c.publishInflate()
			return
		}
	}
	z.st = st.Clone()
	z.st.ReadOffset, z.st.Checkpoint = 0, false
	z.offered.Store(z.st.Offered)
	c.publishInflate()
}

// release drops the inflater and its buffers when no stream is on: a flate
// reader is 40 KB (measured: 40,544 bytes each, 1,000 of them), kept
// between reads while a stream is on so that a line costs no allocation.
func (z *decompressor) release() {
	z.fr, z.joined, z.scratch = nil, nil, nil
}

// run processes one read's bytes from state z.st, the decoder being in
// state m; it returns the bytes for the decoder.
func (z *decompressor) run(in []byte, m telnetMirror) ([]byte, error) {
	out := z.out[:0]
	defer func() {
		if cap(out) <= maxInflateRead { // keep the buffer, unless a bomb grew it
			z.out = out[:0]
		}
	}()
	for len(in) > 0 {
		switch z.st.Phase {
		case InflatePlain:
			n, started := m.scan(in, z.st.Offered)
			out = append(out, in[:n]...)
			in = in[n:]
			if started {
				z.st = InflateState{Offered: z.st.Offered, Phase: InflateHeader}
			}
		case InflateHeader:
			n := min(2-len(z.st.Rest), len(in))
			z.st.Rest = append(z.st.Rest, in[:n]...)
			in = in[n:]
			if len(z.st.Rest) == 2 {
				if err := checkZlibHeader(z.st.Rest[0], z.st.Rest[1]); err != nil {
					return out, err
				}
				z.st.Phase, z.st.Rest, z.st.Window, z.st.Adler = InflateData, nil, nil, 1
			}
		case InflateData:
			z.st.Rest = append(z.st.Rest, in...)
			in = nil
			var err error
			if out, in, err = z.drain(out, &m); err != nil {
				return out, err
			}
		case InflateTrailer:
			n := min(4-len(z.st.Rest), len(in))
			z.st.Rest = append(z.st.Rest, in[:n]...)
			in = in[n:]
			if len(z.st.Rest) == 4 {
				r := z.st.Rest
				if got := uint32(r[0])<<24 | uint32(r[1])<<16 | uint32(r[2])<<8 | uint32(r[3]); got != z.st.Adler {
					return out, fmt.Errorf("the stream's checksum is %08x, its data's %08x", got, z.st.Adler)
				}
				z.st = InflateState{Offered: z.st.Offered, Phase: InflatePlain}
				z.release()
			}
		default: // broken: nothing more
			return out, nil
		}
	}
	if len(z.st.Rest) > maxInflateRest {
		return out, fmt.Errorf("%d compressed bytes without a flush", len(z.st.Rest))
	}
	return out, nil
}

// drain inflates what Rest holds up to its last flush boundary, or to the
// stream's end, appending it to out. tail is what follows the stream's
// final block (the trailer and plain telnet), to be processed next.
func (z *decompressor) drain(out []byte, m *telnetMirror) (_ []byte, tail []byte, err error) {
	for len(z.st.Rest) > 0 {
		rest := z.st.Rest
		budget := maxInflateRead - len(out)
		// The first true boundary, so that a read holding several flushes
		// (a paste) gives the same as the same bytes read one flush at a
		// time; a false candidate costs one attempt, and at most
		// maxCandidates are tried before waiting for more input.
		boundary := false
		for from, tries := 0, 0; tries < maxCandidates; tries++ {
			i := bytes.Index(rest[from:], syncFlushTail[:])
			if i < 0 {
				break
			}
			e := from + i + len(syncFlushTail)
			got, used, err := z.attempt(rest[:e], true, budget)
			if err == errBomb {
				return out, nil, err
			}
			if err == io.EOF && used == e+len(finalEmptyBlock) {
				out = z.commit(out, got, m)
				z.st.Rest = bytes.Clone(rest[e:])
				if len(z.st.Rest) == 0 {
					z.st.Rest = nil
				}
				boundary = true
				break
			}
			from += i + 1
		}
		if boundary {
			continue
		}
		got, used, err := z.attempt(rest, false, budget)
		switch err {
		case io.EOF: // the client ended its stream (Z_FINISH)
			out = z.commit(out, got, m)
			z.st.Phase, z.st.Rest, z.st.Window = InflateTrailer, nil, nil
			return out, rest[used:], nil
		case io.ErrUnexpectedEOF: // mid-block: the rest comes with the next flush
			return out, nil, nil
		case errBomb:
			return out, nil, err
		default:
			return out, nil, fmt.Errorf("corrupt data: %v", err)
		}
	}
	return out, nil, nil
}

// maxCandidates bounds the flush boundary candidates tried in one pass:
// a real client's compressed text holds a false one (00 00 FF FF off a
// block boundary) about once in 4 GiB; 64 keeps a client that sends them
// on purpose to 64 inflations of at most maxInflateRest bytes a read.
const maxCandidates = 64

var errBomb = fmt.Errorf("it inflated to more than %d KiB in one read", maxInflateRead>>10)

// attempt inflates comp (followed by the check block if check) from the
// window, producing at most budget bytes. used is how many input bytes the
// inflater took.
func (z *decompressor) attempt(comp []byte, check bool, budget int) (got []byte, used int, err error) {
	src := comp
	if check {
		z.joined = append(append(z.joined[:0], comp...), finalEmptyBlock[:]...)
		src = z.joined
	}
	z.src.Reset(src)
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, z.st.Window)
	} else if err := z.fr.(flate.Resetter).Reset(&z.src, z.st.Window); err != nil {
		return nil, 0, err
	}
	got = z.scratch[:0]
	for {
		if len(got) == cap(got) {
			if len(got) > budget {
				return nil, 0, errBomb
			}
			got = slices.Grow(got, max(4096, min(len(got), budget+1-len(got))))
		}
		n, rerr := z.fr.Read(got[len(got):cap(got)])
		got = got[:len(got)+n]
		if len(got) > budget {
			return nil, 0, errBomb
		}
		if rerr != nil {
			if cap(got) <= 64<<10 {
				z.scratch = got[:0]
			}
			return got, len(src) - z.src.Len(), rerr
		}
	}
}

// commit hands inflated bytes to the decoder (out), keeps the decoder's
// mirror in step, and moves the window and the checksum on.
//
// The window is a view of an append-only array: new bytes go after its
// end, where no published copy (which shares the array, see
// publishInflate) looks, and the front is cut by re-slicing; only when the
// array is full does a new one (64 KiB) take the last 32 KiB. So a line
// costs no allocation but its share of one 64 KiB array per 32 KiB typed
// (copying the window for each line cost 21.8 KB and 10.7 µs a line; this
// way, 174 B and 1.1 µs, BenchmarkMCCP3Line).
func (z *decompressor) commit(out, got []byte, m *telnetMirror) []byte {
	for _, b := range got {
		m.step(b)
	}
	out = append(out, got...)
	z.st.Adler = adler32Update(z.st.Adler, got)
	w := z.st.Window
	switch {
	case len(got) >= inflateWindow:
		w = bytes.Clone(got[len(got)-inflateWindow:])
	case cap(w)-len(w) >= len(got):
		w = append(w, got...) // into the array's unused tail: no view sees it
	default:
		keep := w[len(w)-min(len(w), inflateWindow-len(got)):]
		w = append(append(make([]byte, 0, 2*inflateWindow), keep...), got...)
	}
	if len(w) > inflateWindow {
		w = w[len(w)-inflateWindow:]
	}
	z.st.Window = w
	return out
}

// checkZlibHeader checks a zlib stream's two header bytes (RFC 1950 2.2):
// DEFLATE, a window of at most 32 KiB, the check bits, and no preset
// dictionary (a client has none to agree on).
func checkZlibHeader(cmf, flg byte) error {
	switch {
	case cmf&0x0f != 8:
		return fmt.Errorf("not a DEFLATE stream (header %02x %02x)", cmf, flg)
	case cmf>>4 > 7:
		return fmt.Errorf("window larger than 32 KiB (header %02x %02x)", cmf, flg)
	case (uint16(cmf)<<8|uint16(flg))%31 != 0:
		return fmt.Errorf("bad header check (header %02x %02x)", cmf, flg)
	case flg&0x20 != 0:
		return fmt.Errorf("preset dictionary asked for (header %02x %02x)", cmf, flg)
	}
	return nil
}

// adler32Update continues an Adler-32 (RFC 1950 8.2) over p. (hash/adler32
// continues one only through its marshalled form.)
func adler32Update(adler uint32, p []byte) uint32 {
	const mod = 65521
	const nmax = 5552 // the most bytes before s2 could overflow 32 bits
	s1, s2 := adler&0xffff, adler>>16
	for len(p) > 0 {
		n := min(len(p), nmax)
		for _, b := range p[:n] {
			s1 += uint32(b)
			s2 += s1
		}
		s1 %= mod
		s2 %= mod
		p = p[n:]
	}
	return s2<<16 | s1
}

// telnetMirror follows the telnet decoder's parser state (telnet.Decoder's
// Mode and subnegotiation) over bytes before the decoder sees them, so
// that the start sequence is found exactly where the decoder will complete
// IAC SB 87 IAC SE with an empty payload, whatever came before it and
// however it was split across reads. It starts from the decoder's state at
// each batch, so it carries nothing of its own.
type telnetMirror struct {
	mode  telnet.Mode
	opt   byte
	empty bool // the subnegotiation's payload is empty so far
}

func mirrorOf(d *telnet.Decoder) telnetMirror {
	return telnetMirror{mode: d.Mode, opt: d.SBOption, empty: len(d.SB) == 0 && !d.SBOverflow}
}

// scan steps over p up to and including a start sequence (started), or
// all of it; n is how many bytes. Without offered a start sequence is an
// ordinary subnegotiation.
func (m *telnetMirror) scan(p []byte, offered bool) (n int, started bool) {
	for i := 0; i < len(p); i++ {
		if m.mode == telnet.ModeData {
			j := bytes.IndexByte(p[i:], telnet.IAC)
			if j < 0 {
				return len(p), false
			}
			i += j
		}
		if m.step(p[i]) && offered {
			return i + 1, true
		}
	}
	return len(p), false
}

// step moves the mirror over one byte, as telnet.Decoder.Feed does, and
// reports whether the byte completed IAC SB 87 IAC SE with nothing between.
func (m *telnetMirror) step(b byte) bool {
	switch m.mode {
	case telnet.ModeData:
		if b == telnet.IAC {
			m.mode = telnet.ModeIAC
		}
	case telnet.ModeIAC:
		m.command(b)
	case telnet.ModeVerb:
		m.mode = telnet.ModeData
	case telnet.ModeSBOption:
		m.opt, m.empty, m.mode = b, true, telnet.ModeSB
	case telnet.ModeSB:
		if b == telnet.IAC {
			m.mode = telnet.ModeSBIAC
		} else {
			m.empty = false
		}
	case telnet.ModeSBIAC:
		switch b {
		case telnet.IAC:
			m.empty, m.mode = false, telnet.ModeSB
		case telnet.SE:
			m.mode = telnet.ModeData
			return m.opt == telnet.OptMCCP3 && m.empty
		default:
			m.command(b)
		}
	default: // the decoder resyncs a corrupt mode to data and reads the byte again
		m.mode = telnet.ModeData
		return m.step(b)
	}
	return false
}

func (m *telnetMirror) command(b byte) {
	m.mode = telnet.ModeData
	switch b {
	case telnet.WILL, telnet.WONT, telnet.DO, telnet.DONT:
		m.mode = telnet.ModeVerb
	case telnet.SB:
		m.mode = telnet.ModeSBOption
	}
}
