package conn

// TLS: a connection whose client connected to a TLS port. The handshake is
// done before the connection is made (package server's tls.go, with
// package tlsrecord); from then on the connection's own record layer sits
// between the socket and the telnet stream:
//
//	socket -> TLS records (tlsDecode, on the reader) -> telnet bytes
//	telnet bytes -> [MCCP2] -> TLS records (writeSocket, on the writer) -> socket
//
// Its state (tlsrecord.State: the suite, the traffic secret and sequence
// number each way, a record half received, the tail of a record half
// written, and the socket offsets where that is true) is plain data: a
// reboot carries it exactly (Carried.TLS, read with both goroutines
// frozen), and the angel's checkpoints carry what the reader and the
// writer last published (TLSCheckpoint).
//
// A state is only continued on a socket whose counters (bytes taken from
// it, bytes handed to it) are exactly the state's (attachTLS), or, after
// a crash, where the crash journal makes them good: input the world
// committed and the kernel still holds (a reader that peeks, input.go) is
// dropped, and records sealed at release that the socket lacks are sent
// (tlsseal.go, ResumeTLS). Otherwise the connection is closed, with the
// reason in the log, rather than sending a record under a sequence number
// already used.

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"talker/server/tlsrecord"
)

// tlsConn is a connection's TLS session.
type tlsConn struct {
	s     *tlsrecord.Session
	plain []byte // the reader's buffer of decrypted bytes
	// broken is why the carried state cannot go on on this socket: the
	// connection ends as soon as it starts (not before: until the commit,
	// the socket may still be the previous generation's). writeErr is the
	// same for the socket's count of bytes written, which the crash
	// journal's records may still make good (ResumeTLS).
	broken   error
	writeErr error
	// sealing: the world seals the output at each commit (tlsseal.go),
	// set under the outbox's lock; scratch is its buffer. flushing: the
	// writer is writing a tail or KeyUpdate of its own (o.mu).
	sealing  atomic.Bool
	scratch  []byte
	flushing bool
	// sealedEnd is the socket offset where the records at the outbox's
	// front end (while sealing; the plaintext queued since follows);
	// rawInFlight: the write half was given back while the writer held
	// records, which it writes as they are.
	sealedEnd   uint64
	rawInFlight atomic.Bool
	// startRead is the read half this process began with: where the
	// input stands until the world takes a batch (TLSStartRead).
	startRead *tlsrecord.ReadHalf
}

// TLSStartRead is the read half the connection began with in this process
// (nil for a plain connection): what its records carry with the input
// offset it was given (Carried.InputAt) until the world takes a batch
// (Input.TLSRead). The published one may be ahead: a reader that peeks
// has fed records the world has not taken. Nil where batches carry no
// read half (a browser's WebSocket: its checkpoint is as published).
func (c *Conn) TLSStartRead() *tlsrecord.ReadHalf {
	if c.tls == nil || c.ws != nil {
		return nil
	}
	return c.tls.startRead
}

// SetTLS makes c a TLS connection whose handshake ended in state st. Call
// it before Start.
func (c *Conn) SetTLS(st tlsrecord.State) error {
	s, err := tlsrecord.New(st)
	if err != nil {
		return err
	}
	c.tls = &tlsConn{s: s, startRead: s.PublishedRead()}
	return nil
}

// TLS reports whether c is a TLS connection.
func (c *Conn) TLS() bool { return c.tls != nil }

// TLSChanged reports whether the TLS state changed since the last
// TLSCheckpoint: the world then refreshes the angel's checkpoint of the
// session even if nothing else in it changed. Safe from any goroutine.
func (c *Conn) TLSChanged() bool { return c.tls != nil && c.tls.s.ChangedSinceNoted() }

// TLSCheckpoint returns the TLS state as the reader and writer last
// published it (nil for a plain connection): what the angel's checkpoint
// carries. Safe from any goroutine.
func (c *Conn) TLSCheckpoint() *tlsrecord.State {
	if c.tls == nil {
		return nil
	}
	changes := c.tls.s.Changes()
	st := c.tls.s.Published()
	c.tls.s.NoteCheckpointed(changes)
	return &st
}

// RequestKeyUpdate makes the writer send a KeyUpdate (asking the client
// for one too) before its next record, and wakes it.
func (c *Conn) RequestKeyUpdate() {
	if c.tls != nil {
		c.tls.s.RequestKeyUpdate()
		c.out.signal()
	}
}

// tlsCarry is the exact TLS state, for Carry.
func (c *Conn) tlsCarry() *tlsrecord.State {
	if c.tls == nil {
		return nil
	}
	st := c.tls.s.State()
	return &st
}

// attachTLS takes a carried TLS state, checking it against the socket's
// counters.
func (c *Conn) attachTLS(st *tlsrecord.State) {
	if st == nil {
		return
	}
	if st.KeyUpdatesAnswered > st.KeyUpdatesAsked {
		// A crash record pairs the reader's half as committed with the
		// writer's as sealed: the answer to a request not yet committed
		// (read again, answered again: the protocol allows it).
		cp := *st
		cp.KeyUpdatesAsked = cp.KeyUpdatesAnswered
		st = &cp
	}
	s, err := tlsrecord.New(*st)
	if err != nil {
		// Kept as a TLS connection (so that no plain text goes out), to be
		// ended at Start.
		c.tls = &tlsConn{broken: fmt.Errorf("TLS state unusable: %w", err)}
		return
	}
	c.tls = &tlsConn{s: s, startRead: s.PublishedRead()}
	fd, err := c.RawFD()
	if err != nil {
		c.tls.broken = err
		return
	}
	read, written, err := tlsrecord.Offsets(fd)
	if err != nil {
		c.tls.broken = fmt.Errorf("TLS session cannot continue: %w", err)
		return
	}
	// Input the world committed and the kernel still holds (a reader
	// that peeked, input.go) is dropped by startInput: the record's read
	// half is at the committed offset (InputAt), which the kernel has not
	// passed. (Its ReadOffset may differ from InputAt by a constant: a
	// fresh socket's kernel count can lag at accept, see socketConsumed,
	// and the handshake took its offset before the count settled. Were the
	// two halves not at one point, the next record would fail its MAC and
	// end the connection: nothing is read twice or out of place.)
	if c.input.resume > uncountable && c.input.resume >= read+inputBias {
		read = st.ReadOffset
	}
	if err := st.CheckOffsets(read, st.WriteOffset); err != nil {
		c.tls.broken = fmt.Errorf("TLS session cannot continue: %w", err)
	}
	if err := st.CheckOffsets(st.ReadOffset, written); err != nil {
		c.tls.writeErr = fmt.Errorf("TLS session cannot continue: %w", err)
	}
}

// TLSCannotContinue is why a carried TLS state cannot go on, so that the
// connection will end at Start, or nil. Call it before Start.
func (c *Conn) TLSCannotContinue() error {
	if c.tls == nil {
		return nil
	}
	if c.tls.broken != nil {
		return c.tls.broken
	}
	return c.tls.writeErr
}

// tlsBroken ends, at Start, a connection whose TLS state could not be
// continued; it reports true if it did.
func (c *Conn) tlsBroken() bool {
	if c.tls == nil || c.tls.broken == nil && c.tls.writeErr == nil {
		return false
	}
	if c.tls.broken == nil {
		c.tls.broken = c.tls.writeErr
	}
	c.readMu.Lock()
	c.abortReason = c.tls.broken
	c.readMu.Unlock()
	c.Abort()
	return true
}

// tlsDecode turns bytes read from the socket into the telnet stream
// (unchanged for a plain connection). A TLS error (a bad record, an alert)
// becomes the read's error, close_notify an EOF; the data of the records
// before it is still returned.
func (c *Conn) tlsDecode(raw []byte, readErr error) ([]byte, error) {
	if c.tls == nil || c.tls.s == nil {
		return raw, readErr
	}
	out, err := c.tls.s.Feed(c.tls.plain[:0], raw)
	c.tls.plain = out
	if c.tls.s.WantsWrite() {
		c.out.signal() // a KeyUpdate to answer
	}
	if err != nil && readErr == nil {
		if errors.Is(err, tlsrecord.ErrCloseNotify) {
			err = io.EOF
		}
		readErr = err
	}
	return out, readErr
}

// writeSocket is where the writer's bytes go to the socket: as TLS records
// for a TLS connection. n counts the bytes of b that are done: written, or
// sealed in a record whose unwritten tail the TLS state keeps (written
// first next time, in this process or the next).
func (c *Conn) writeSocket(b []byte) (int, error) {
	if c.tls == nil {
		return c.nc.Write(b)
	}
	if c.tls.s == nil {
		return 0, c.tls.broken
	}
	if c.tls.sealing.Load() || c.tls.rawInFlight.Load() {
		return c.nc.Write(b) // records already (tlsseal.go)
	}
	return c.tls.s.Write(c.nc, b)
}

// tlsWantsWrite says whether the TLS layer has something of its own to
// write (a record's tail, a KeyUpdate) with no output queued.
func (c *Conn) tlsWantsWrite() bool {
	return c.tls != nil && c.tls.s != nil && !c.tls.sealing.Load() && c.tls.s.WantsWrite()
}

// tlsFlush writes what tlsWantsWrite announced.
func (c *Conn) tlsFlush() error {
	if c.tls != nil {
		c.tls.rawInFlight.Store(false) // what the writer took last is written
	}
	if !c.tlsWantsWrite() {
		return nil
	}
	// Not while the world seals (tlsseal.go), which cannot begin meanwhile.
	o := &c.out
	o.mu.Lock()
	if c.tls.sealing.Load() {
		o.mu.Unlock()
		return nil
	}
	c.tls.flushing = true
	o.mu.Unlock()
	err := c.tls.s.Flush(c.nc)
	o.mu.Lock()
	c.tls.flushing = false
	o.mu.Unlock()
	return err
}

// tlsCloseNotify tells a TLS client the session is over (close_notify),
// at a clean close, once everything queued is written.
func (c *Conn) tlsCloseNotify() {
	if c.tls == nil || c.tls.s == nil {
		return
	}
	o := &c.out
	o.mu.Lock()
	if c.tls.sealing.Load() {
		rec, err := c.tls.s.SealClose(nil) // the write half is the outbox's (tlsseal.go)
		o.mu.Unlock()
		if err == nil {
			_, _ = c.nc.Write(rec)
		}
		return
	}
	o.mu.Unlock()
	_ = c.tls.s.Close(c.nc)
}
