package conn

// TLS output under the crash journal: sealed when the world releases it.
//
// A TLS connection's bytes on the wire are records, not the telnet stream,
// so the journal cannot record the stream and let the writer seal it as it
// likes: after a crash nobody would know which record the socket's count
// of bytes written falls in, nor under which sequence number to go on. So,
// once the connection's writer is idle with nothing of its own to send, the
// world takes its write half over: at each commit (CollectOutput) the
// output the event produced is sealed into records under the outbox's lock,
// the outbox holds those records (at its front, up to the socket offset
// sealedEnd; plaintext queued since follows them), and the journal
// records them at their wire offsets with the write half after them
// (tlsrecord.WriteState). The writer
// writes records as they are. A crash recovery then needs no TLS of its
// own: the socket's count says how much of the records it took, the rest is
// sent as it is, and the next record is sealed under the journal's secret
// and sequence number (ResumeTLS); a KeyUpdate is sealed the same way,
// before the data of the commit that answers it.
//
// Not under MCCP2 (the writer compresses before sealing; such a connection
// keeps the older rule), a browser's WebSocket, or without a journal: the
// writer seals as before (tls.go). Starting compression hands the records
// not yet written back to the writer as its tail (tlsUnseal).

import (
	"fmt"

	"talker/server/tlsrecord"
)

// tlsCollect is CollectOutput for a TLS connection (o.mu held).
func (c *Conn) tlsCollect(record func(Output)) (upto uint64) {
	o := &c.out
	t := c.tls
	from := o.open
	if !t.sealing.Load() {
		if !c.tlsMaySeal() {
			return o.abs + uint64(len(o.buf)) // the writer seals (older rule)
		}
		// Take the write half over: the writer has nothing in flight and
		// no record's tail, so the socket's count is the write half's.
		t.sealing.Store(true)
		o.abs, from = t.s.WriteOffset(), 0
		t.sealedEnd = o.abs
	}
	// Released plaintext (a switch from the writer sealing) and the
	// event's output are sealed apart: a record must not carry bytes
	// released before the commit together with bytes released after it.
	if o.open > c.sealedLen() {
		if !c.tlsSealQueued(o.open) {
			return t.sealedEnd
		}
		o.open = c.sealedLen()
	}
	if o.open < c.sealedLen() {
		from = o.open
	}
	if !c.tlsSealQueued(len(o.buf)) {
		return t.sealedEnd
	}
	if sealed := c.sealedLen(); record != nil && sealed > from {
		ws := t.s.TakeWrite()
		record(Output{From: o.abs + uint64(from), Bytes: o.buf[from:sealed], Seal: &ws})
	}
	return t.sealedEnd
}

// sealedLen is how many bytes at the outbox's front are records (o.mu
// held): 0 unless the world seals.
func (c *Conn) sealedLen() int {
	if c.tls == nil || !c.tls.sealing.Load() {
		return 0
	}
	return int(c.tls.sealedEnd - c.out.abs)
}

// tlsMaySeal says whether the world may take the write half over now
// (o.mu held): a whole TLS session, not a browser's, output neither
// compressed nor ever recorded as such, the socket's count known, and a
// writer with nothing in flight, no record's tail or KeyUpdate of its own
// to write.
func (c *Conn) tlsMaySeal() bool {
	o := &c.out
	t := c.tls
	return t.s != nil && t.broken == nil && t.writeErr == nil && c.ws == nil && !o.journalOff && o.absKnown &&
		o.gate != nil && len(o.marks) == 0 && !o.compressOn && o.inFlight == 0 && !o.paused && !t.flushing && t.s.Idle()
}

// tlsSealQueued seals the plaintext queued after the records, up to end, into
// records in its place (o.mu held). On an error (a sequence number
// exhausted) the connection ends.
func (c *Conn) tlsSealQueued(end int) bool {
	o := &c.out
	t := c.tls
	sealed := c.sealedLen()
	if end <= sealed {
		return true
	}
	recs, err := t.s.SealTo(t.scratch[:0], o.buf[sealed:end])
	t.scratch = recs[:0]
	if err != nil {
		c.readMu.Lock()
		c.abortReason = fmt.Errorf("TLS: %w", err)
		c.readMu.Unlock()
		o.closed = true
		o.signal()
		return false
	}
	rest := len(o.buf) - end
	grow := len(recs) - (end - sealed)
	o.buf = append(o.buf, make([]byte, grow)...)
	copy(o.buf[end+grow:], o.buf[end:end+rest])
	copy(o.buf[sealed:], recs)
	t.sealedEnd += uint64(len(recs))
	t.s.PublishSealed(t.sealedEnd)
	return true
}

// tlsUnseal gives the write half back to the writer (o.mu held): the
// records not yet taken become its tail, written before anything it seals.
// For a switch of MCCP2, the end of the journal, or a closing connection.
func (c *Conn) tlsUnseal() {
	t := c.tls
	if t == nil || !t.sealing.Load() {
		return
	}
	o := &c.out
	sealed := c.sealedLen()
	tail := append([]byte(nil), o.buf[:sealed]...)
	o.buf = o.buf[sealed:]
	if o.gate != nil {
		o.open = max(o.open-sealed, 0)
	}
	o.abs += uint64(sealed)
	if o.inFlight > 0 {
		t.rawInFlight.Store(true) // the writer holds records: written as they are
	}
	t.sealing.Store(false)
	o.journalOff = true // its later records are not the journal's
	_ = t.s.ResumeWrite(t.s.TakeWrite(), tail, o.abs-uint64(len(tail)))
}

// A freeze that interrupts the writer puts what it had not written back
// at the queue's front (putBack): records while the world seals, which
// the sealed region then covers again (sealedEnd is a socket offset, and
// the queue's start moves back with them). The write half is only given
// back by the world (or Close), not while writers are frozen for a reboot
// (the world is paused then), so records do not come back to a queue the
// writer seals.

// tlsCarryOut splits a sealed connection's unsent output for a reboot
// (the writer frozen): the records become the carried state's tail, the
// plaintext after them stays Unsent.
func (c *Conn) tlsCarryOut(cr *Carried) {
	t := c.tls
	if t == nil || cr.TLS == nil || !t.sealing.Load() {
		return
	}
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	sealed := c.sealedLen()
	cr.TLS.WritePending = append([]byte(nil), o.buf[:sealed]...)
	cr.TLS.WriteOffset = o.abs
	cr.Unsent = append([]byte(nil), o.buf[sealed:]...)
}

// ResumeTLS is ResumeOutput for a TLS connection after a crash: ws is the
// write half the journal last recorded (nil: none since the checkpoint),
// runs the records it recorded. The socket's count of bytes written must
// lie in what the journal (or the checkpoint) knows: the records it lacks
// become the write half's tail, sent first, and the next record is sealed
// under the journal's sequence number. Otherwise the connection ends at
// Start, as before (attachTLS's reason). Call it after Attach, before
// Start.
func (c *Conn) ResumeTLS(ws *tlsrecord.WriteState, runs []Output) (queued, missing int) {
	t := c.tls
	if t == nil || t.s == nil || t.broken != nil {
		return 0, 0
	}
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	written, known := o.abs, o.absKnown
	pub := t.s.Published()
	target := tlsrecord.WriteState{Secret: pub.WriteSecret, Seq: pub.WriteSeq, Answered: pub.KeyUpdatesAnswered,
		Offset: pub.WriteOffset + uint64(len(pub.WritePending))}
	if ws != nil && ws.Offset >= target.Offset {
		target = *ws
	}
	if !known || written > target.Offset || t.writeErr == nil && ws == nil {
		return 0, 0
	}
	var tail []byte
	at := written
	for _, r := range runs {
		end := r.From + uint64(len(r.Bytes))
		if end <= at || r.From > at {
			continue
		}
		tail = append(tail, r.Bytes[at-r.From:]...)
		at = end
	}
	if at < target.Offset {
		if len(pub.WritePending) > 0 && written >= pub.WriteOffset && ws == nil {
			return 0, 0 // the checkpoint's own tail: attachTLS decided
		}
		t.writeErr = fmt.Errorf("TLS session cannot continue: %d bytes of records the journal does not have", target.Offset-at)
		return 0, int(target.Offset - at)
	}
	tail = tail[:len(tail)-int(at-target.Offset)]
	if err := t.s.ResumeWrite(target, tail, written); err != nil {
		t.writeErr = fmt.Errorf("TLS session cannot continue: %w", err)
		return 0, 0
	}
	t.writeErr = nil
	return len(tail), 0
}

// tlsCheckCount is the reader's check, before each read of a TLS
// connection under the journal, that the kernel's count of bytes consumed
// is still what the reader has taken from it. A fresh socket's count can
// lag at accept and catch up later (socketConsumed); a plain connection
// sees that at its first read, but a TLS one has read its handshake by
// then, and the count was seen to move by 52 bytes under a reader already
// peeking, after which a recovery fed the record layer from the wrong
// byte ("record of 33,625 bytes"). Such a connection stops peeking for
// good: the older rule applies to it (its records say uncountable). (The
// "+1" also seen here, on every socket whose client closed, was the
// peer's FIN, which socketConsumed now leaves out.)
func (c *Conn) tlsCheckCount(fd int) {
	in := &c.input
	if k, ok := socketConsumed(fd); ok && k == in.kernel {
		return
	}
	in.countable = false
	in.sync = true // the world records that it is no longer counted
}
