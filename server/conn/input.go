package conn

// Input that is handled exactly once, even through a kill -9.
//
// Bytes a reader has read from the socket and not yet seen handled by the
// world are lost if the process dies: a half-typed line "say ... kil" would
// vanish and the rest, "l -9", arrive alone as a command. So with a crash
// journal (package journal) the reader of a plain telnet connection only
// peeks: it reads with MSG_PEEK at an advancing peek offset (SO_PEEK_OFF),
// decodes as usual, and tells the world, with each batch, the socket's
// absolute input offset after it (Input.RawEnd) and its decoder state there
// (Input.Reader). The world handles the batch, commits the session's
// record with that offset and state to the journal, and only then lets the
// bytes go (CommitInput); the reader drops them from the kernel before its
// next read. After a crash the next generation finds the committed offset
// X and decoder state in the session's record, asks the kernel how far it
// has consumed (tcpi_bytes_received - SIOCINQ, exact), drops what lies
// between, and reads on from X: every byte handled once, whole lines whole.
//
// A TLS connection peeks too: its batches carry the record layer's read
// half (a record half received) with the decoder. A WebSocket connection,
// or one without a journal, reads as before (its framing keeps partial
// frames the offset cannot express yet); its offsets are kept all the
// same, and a recovery that
// finds the kernel past the committed offset knows bytes were lost and
// starts the decoder afresh rather than splice a half line onto a tail.

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"talker/server/telnet"
	"talker/server/tlsrecord"
)

// inputState is the reader's bookkeeping of the socket's input stream, in
// absolute byte offsets since the connection began. Owned by the reader
// goroutine (or whoever froze it).
type inputState struct {
	peek   bool   // reading with MSG_PEEK (see SetJournaled)
	at     uint64 // offset after the last byte the reader took (read or peeked)
	kernel uint64 // offset the kernel has been told to consume up to
	// resume is the committed offset a recovery continues from (0: none),
	// applied once at the reader's start.
	resume uint64
	known  bool // at and kernel are set from the socket
	// countable: the kernel told where the stream was (TCP_INFO): offsets
	// are absolute, and peeking may be used. settling: a fresh socket
	// whose count lagged, checked after each read until it agrees.
	countable bool
	settling  bool
	// sync: the reader has just begun to peek, so the world must commit
	// where it stands now (the batch is delivered even without a line).
	sync bool
}

// SetJournaled makes the connection's reader peek rather than read when it
// can (a plain telnet connection): the world commits each batch to a crash
// journal and then lets its bytes go (CommitInput). Call before Start.
func (c *Conn) SetJournaled(on bool) { c.journaled.Store(on) }

// CommitInput tells the reader that the input up to offset at is handled
// and committed: it drops those bytes from the kernel before its next
// read. Safe on any goroutine.
func (c *Conn) CommitInput(at uint64) {
	for {
		old := c.committedIn.Load()
		if at <= old || c.committedIn.CompareAndSwap(old, at) {
			return
		}
	}
}

// socketConsumed is how far the kernel has consumed the socket's input:
// tcpi_bytes_received less what is still queued (SIOCINQ), plus
// inputBias. The same in every process holding the socket, and it moves
// exactly with what is consumed; but it is not always the true count: on
// this kernel (6.18), bytes that arrive with the handshake's last ACK,
// before accept, are queued without being counted in bytes_received
// (seen: 33 bytes queued, 0 received, on 4 of 200 fresh loopback
// sockets), so the count can start below zero. inputBias keeps every
// offset positive (0 stays "unknown"); offsets are only ever compared
// with each other. The peer's FIN is in bytes_received too, and left out
// (tlsrecord.FINs). A segment or the FIN arriving between the system
// calls would make the answer wrong: it is taken only when TCP_INFO read
// again after SIOCINQ agrees.
func socketConsumed(fd int) (uint64, bool) {
	for try := 0; try < 8; try++ {
		before, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return 0, false
		}
		queued, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
		if err != nil || queued < 0 {
			return 0, false
		}
		after, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return 0, false
		}
		if before.Bytes_received != after.Bytes_received || before.State != after.State {
			continue
		}
		finIn, _ := tlsrecord.FINs(after.State) // the peer's FIN is not input
		return after.Bytes_received - uint64(queued) - finIn + inputBias, true
	}
	return 0, false
}

// inputBias: see socketConsumed.
const inputBias = 1 << 62

// uncountable is the input offset recorded for a connection whose socket's
// count cannot be trusted (see startInput): 0 means not known at all.
const uncountable = 1

// carried is the offset a record carries (Carried.InputAt).
func (in *inputState) carried() uint64 {
	switch {
	case !in.known:
		return in.resume // not started here: what it was given
	case !in.countable:
		return uncountable
	}
	return in.at
}

// startInput sets up the reader's offsets on its socket, once, before its
// first read: where the kernel is, what a recovery said was committed, and
// whether to peek. A recovery whose committed offset is ahead of the
// kernel drops the bytes between (handled by the dead generation); one
// whose kernel is past it (the dead generation read without peeking)
// cannot continue the carried half line, which is then dropped.
func (c *Conn) startInput(fd int) {
	in := &c.input
	if in.known {
		return
	}
	in.known = true
	k, ok := socketConsumed(fd)
	if in.resume == uncountable || c.fresh && k < inputBias {
		// A fresh socket has consumed nothing (or what the door read to
		// tell its kind): a count below that is the kernel's late
		// counting (see socketConsumed), which catches up later and would
		// shift every offset. Such a connection reads as
		// without a journal until the count agrees with what it has read
		// (settle); an adopted one whose records say so, for good.
		in.settling = ok && c.fresh
		ok = false
	}

	switch {
	case in.resume > k && ok:
		dropInput(fd, in.resume-k)
		k = in.resume
	case in.resume > 0 && in.resume < k && ok:
		c.Decoder.Line, c.Decoder.Truncated, c.Decoder.CR = nil, 0, false
		if c.Decoder.Mode != telnet.ModeData {
			c.Decoder.Mode, c.Decoder.SB = telnet.ModeData, nil
		}
	}
	if !ok {
		k = 0
	}
	in.at, in.kernel = k, k
	in.countable = ok
	c.committedIn.Store(k)
	// The peek offset belongs to the socket, not the process: a dead
	// generation may have left it anywhere. Off until readInput turns
	// peeking on.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, -1)
}

// settle makes a fresh socket's offsets absolute once the kernel's count
// has caught up with what the reader has consumed (in.at, counted from 0):
// seen within a few reads on the loopback sockets that lagged.
func (c *Conn) settle(fd int) {
	in := &c.input
	if k, ok := socketConsumed(fd); ok && k == inputBias+in.at {
		in.at, in.kernel = k, k
		in.countable, in.settling = true, false
	}
}

// dropInput consumes n bytes of the socket's input without copying them
// (MSG_TRUNC on TCP discards), returning how many went.
func dropInput(fd int, n uint64) uint64 {
	var done uint64
	var scratch [1]byte
	for done < n {
		chunk := min(n-done, 1<<20)
		r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&scratch[0])), uintptr(chunk),
			unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || r == 0 {
			break
		}
		done += uint64(r)
	}
	return done
}

// readInput is the reader's one read from the socket: a peek at the next
// bytes (after dropping what the world has committed) or a plain read.
func (c *Conn) readInput(fd int, buf []byte) (int, error) {
	in := &c.input
	if c.tls != nil && in.countable && c.journaled.Load() {
		c.tlsCheckCount(fd) // tlsseal.go
	}
	// Peek only where the decoder's state is all the reader's state. The
	// switch is made between reads, at no cost: off, everything taken is
	// dropped from the kernel first (a crash recovery then finds the
	// kernel past the committed offset, and the MCCP3 rules apply); on,
	// nothing is peeked ahead yet.
	want := c.journaled.Load() && in.countable && c.decoderIsReaderState()
	switch {
	case in.peek && !want:
		in.kernel += dropInput(fd, in.at-in.kernel)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, -1)
		in.peek = false
	case !in.peek && want && in.at == in.kernel:
		in.peek = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0) == nil
		// A half line read before now is in the decoder, not the socket:
		// the world commits it before a crash could lose it.
		in.sync = in.peek
	}
	if !in.peek {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			in.at += uint64(n)
			in.kernel = in.at
			if in.settling {
				c.settle(fd)
			}
		}
		return n, err
	}
	if want := min(c.committedIn.Load(), in.at); want > in.kernel {
		in.kernel += dropInput(fd, want-in.kernel)
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return -1, e
	}
	in.at += uint64(r)
	return int(r), nil
}

// settleInput consumes from the kernel everything the reader has taken:
// with the reader frozen, what it took is either in the Decoder or
// delivered (and so handled, held or carried by the world), so a carried
// state must not find it in the socket again. Called by Carry.
func (c *Conn) settleInput() {
	in := &c.input
	if !in.peek || in.at <= in.kernel {
		return
	}
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		in.kernel += dropInput(int(fd), in.at-in.kernel)
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PEEK_OFF, 0)
	})
}

// decoderIsReaderState reports whether the telnet decoder holds all the
// reader's state between the socket and the lines (under TLS, with the
// record layer's read half, which goes with it: Input.TLSRead): not under
// WebSocket framing, not once the client compresses its input (MCCP3: the
// inflater's state is not in the decoder's).
func (c *Conn) decoderIsReaderState() bool {
	return (c.tls == nil || c.tls.s != nil) && c.ws == nil && c.dz.st.Phase == InflatePlain
}

// readerState is what a batch tells the world of the reader: the offset
// after it and, where the decoder is all the reader's state, a copy of the
// decoder there. The copy goes whether or not the reader peeks: a record
// must never pair a new offset with an older decoder. (It did, for a
// generation not yet peeking: a record synced to the angel then carried the
// half line of the previous crash, and the next crash's recovery spliced it
// onto the line that followed: "s" + "say ..." ran as "ssay", 50 of 835
// lines lost over 6 kills at 300 clients.)
func (c *Conn) readerState(in *Input) (sync bool) {
	sync, c.input.sync = c.input.sync, false
	in.RawEnd = c.input.carried()
	if c.decoderIsReaderState() {
		d := c.Decoder
		d.Line = append([]byte(nil), d.Line...)
		d.SB = append([]byte(nil), d.SB...)
		in.Reader = &d
		if c.tls != nil {
			in.TLSRead = c.tls.s.PublishedRead() // as of the last Feed: this batch's end
		}
	}
	return sync
}
