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
// it, bytes handed to it) are exactly the state's (attachTLS): after a
// crash, a connection that read or wrote anything after its last
// checkpoint is closed, with the reason in the log, rather than sending a
// record under a sequence number already used.

import (
	"errors"
	"fmt"
	"io"

	"talker/server/tlsrecord"
)

// tlsConn is a connection's TLS session.
type tlsConn struct {
	s     *tlsrecord.Session
	plain []byte // the reader's buffer of decrypted bytes
	// broken is why the carried state cannot go on on this socket: the
	// connection ends as soon as it starts (not before: until the commit,
	// the socket may still be the previous generation's).
	broken error
}

// SetTLS makes c a TLS connection whose handshake ended in state st. Call
// it before Start.
func (c *Conn) SetTLS(st tlsrecord.State) error {
	s, err := tlsrecord.New(st)
	if err != nil {
		return err
	}
	c.tls = &tlsConn{s: s}
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
	s, err := tlsrecord.New(*st)
	if err != nil {
		// Kept as a TLS connection (so that no plain text goes out), to be
		// ended at Start.
		c.tls = &tlsConn{broken: fmt.Errorf("TLS state unusable: %w", err)}
		return
	}
	c.tls = &tlsConn{s: s}
	fd, err := c.RawFD()
	if err != nil {
		c.tls.broken = err
		return
	}
	read, written, err := tlsrecord.Offsets(fd)
	if err == nil {
		err = st.CheckOffsets(read, written)
	}
	if err != nil {
		c.tls.broken = fmt.Errorf("TLS session cannot continue: %w", err)
	}
}

// tlsBroken ends, at Start, a connection whose TLS state could not be
// continued; it reports true if it did.
func (c *Conn) tlsBroken() bool {
	if c.tls == nil || c.tls.broken == nil {
		return false
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
	return c.tls.s.Write(c.nc, b)
}

// tlsWantsWrite says whether the TLS layer has something of its own to
// write (a record's tail, a KeyUpdate) with no output queued.
func (c *Conn) tlsWantsWrite() bool { return c.tls != nil && c.tls.s != nil && c.tls.s.WantsWrite() }

// tlsFlush writes what tlsWantsWrite announced.
func (c *Conn) tlsFlush() error {
	if !c.tlsWantsWrite() {
		return nil
	}
	return c.tls.s.Flush(c.nc)
}

// tlsCloseNotify tells a TLS client the session is over (close_notify),
// at a clean close, once everything queued is written.
func (c *Conn) tlsCloseNotify() {
	if c.tls != nil && c.tls.s != nil {
		_ = c.tls.s.Close(c.nc)
	}
}
