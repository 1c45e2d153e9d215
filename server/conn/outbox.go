package conn

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// outbox is a connection's queue of bytes to send, drained by its writer
// goroutine. Producers (the world) never block on it: a client that stops
// reading only grows its own backlog until it is dropped.
type outbox struct {
	mu    sync.Mutex
	buf   []byte    // queued, not yet taken by the writer
	marks []outMark // compression switches at offsets into buf, in order (compress.go)
	// compressOn: after everything queued, the output is compressed (the
	// last switch queued, or carried, turned it on).
	compressOn bool
	inFlight   int // taken by the writer, not yet written
	max        int
	closing    bool // send what is queued, then close
	closed     bool
	paused     bool // the writer is to take nothing, keeping what is unsent (reboot)
	// deadlined: a freeze interrupted a write with a deadline in the past,
	// which a thaw must clear.
	deadlined bool
	idle      *sync.Cond // signalled when inFlight drops to 0
	wake      chan struct{}
	sends     atomic.Uint64 // calls to add (Conn.Sent)

	// With a crash journal (gate.go): the writer takes only buf[:open],
	// the output of events the world has committed; listed says the
	// connection is on the gate's list for the next commit.
	owner  *Conn
	gate   *Gate
	open   int
	listed bool
	// abs is the socket's absolute count of bytes written at buf[0]
	// (absKnown: read from the socket), for the journal's record of the
	// output; journalOff once the output is compressed or encrypted.
	abs        uint64
	absKnown   bool
	journalOff bool
}

func (o *outbox) init(max int) {
	o.max = max
	o.wake = make(chan struct{}, 1)
	o.idle = sync.NewCond(&o.mu)
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) add(b []byte) bool {
	o.sends.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.closing {
		return true // going away anyway; not a backlog problem
	}
	if o.max > 0 && len(o.buf)+o.inFlight+len(b) > o.max {
		return false
	}
	wasEmpty := len(o.buf) == 0
	o.buf = append(o.buf, b...)
	if o.gate != nil {
		o.holdForCommit()
		return true
	}
	if wasEmpty && !o.paused {
		// (A paused writer would only wake to find itself paused: the
		// thaw wakes it.)
		o.signal()
	}
	return true
}

// holdForCommit puts the connection on its gate's list, once a round: its
// output waits for the world's commit (gate.go). Call with o.mu held.
func (o *outbox) holdForCommit() {
	if !o.listed {
		o.listed = true
		o.gate.hold(o.owner)
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) closeAfterFlush() {
	o.mu.Lock()
	o.closing = true
	o.open = len(o.buf) // the last words go without waiting for a commit
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) isClosing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closing
}

func (o *outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

func (o *outbox) isPaused() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.paused
}

type outState struct{ closing, closed, paused bool }

// take hands the writer everything queued, swapping in its spare buffer,
// with the compression switches in it. While paused it hands out nothing.
// held says the writer holds output of its own (the rest of an interrupted
// unit): then it counts as in flight even with nothing queued.
func (o *outbox) take(spare []byte, held bool) ([]byte, []outMark, outState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := outState{o.closing, o.closed, o.paused}
	n := len(o.buf)
	if o.gate != nil {
		n = min(o.open, n) // the rest waits for the world's commit
	}
	k := 0
	for k < len(o.marks) && o.marks[k].at <= n {
		k++
	}
	if (n == 0 && k == 0 && !held) || o.paused {
		// Nothing to take: keep both buffers where they are, or the spare
		// would end up shared between writer and producers.
		return nil, nil, st
	}
	data, marks := o.buf[:n], o.marks[:k]
	rest, restMarks := o.buf[n:], o.marks[k:]
	o.buf, o.marks = append(spare[:0], rest...), nil
	for _, m := range restMarks {
		o.marks = append(o.marks, outMark{at: m.at - n, on: m.on})
	}
	if o.gate != nil {
		o.open -= n
	}
	o.abs += uint64(n)
	o.inFlight = max(len(data), 1) // a switch alone is in flight too
	return data, marks, st
}

func (o *outbox) written() {
	o.mu.Lock()
	o.inFlight = 0
	o.idle.Broadcast()
	o.mu.Unlock()
}

// putBack returns bytes the writer took but could not write to the front of
// the queue, so that nothing is lost or reordered.
func (o *outbox) putBack(rest []byte, marks []outMark) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight = 0
	o.idle.Broadcast()
	if len(rest) == 0 && len(marks) == 0 {
		return
	}
	if len(marks) > 0 || len(o.marks) > 0 {
		all := make([]outMark, 0, len(marks)+len(o.marks))
		all = append(all, marks...)
		for _, m := range o.marks {
			all = append(all, outMark{at: m.at + len(rest), on: m.on})
		}
		o.marks = all
	}
	buf := make([]byte, 0, len(rest)+len(o.buf))
	buf = append(buf, rest...)
	o.buf = append(buf, o.buf...)
	o.abs -= uint64(len(rest))
	if o.gate != nil {
		o.open += len(rest) // taken, so committed
	}
}

// pending returns a copy of the unsent bytes and the switches in them.
func (o *outbox) pending() ([]byte, []outMark) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]byte(nil), o.buf...), append([]outMark(nil), o.marks...)
}

func (c *Conn) startWriter() {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writing {
		return
	}
	c.writing = true
	go c.writeLoop()
}

func (c *Conn) writeLoop() {
	finished := false
	defer func() {
		if r := recover(); r != nil {
			c.reportPanic(r)
			// Whatever was in flight is given up on: nobody must wait for it.
			c.out.written()
		}
		c.writeMu.Lock()
		c.writing = false
		c.writeMu.Unlock()
		if finished {
			c.finishOnce.Do(func() { close(c.finished) })
		}
	}()
	// A writer started frozen (StartFrozen) touches none of the state it
	// owns once running (c.z, c.tls, c.ws) until the thaw: a reboot's new
	// generation starts it before Attach sets that state, with no lock the
	// writer would share. ThawWriting, after Attach, hands the state over
	// (o.mu orders the two); a close while frozen (Abandon) ends the writer.
	if !c.waitFirstThaw() {
		finished = true
		return
	}
	var spare []byte
	for {
		data, marks, st := c.out.take(spare, len(c.z.wire) > 0 || c.tlsWantsWrite())
		if st.closed {
			finished = true
			return
		}
		if len(data) > 0 || len(marks) > 0 || (len(c.z.wire) > 0 || c.tlsWantsWrite()) && !st.paused {
			// A TLS record's tail or a KeyUpdate first (tls.go).
			rest, restMarks, err := data, marks, c.tlsFlush()
			if err == nil {
				rest, restMarks, err = c.emit(data, marks) // compress.go
			}
			if err != nil {
				var ne net.Error
				if c.out.isPaused() && errors.As(err, &ne) && ne.Timeout() {
					// Interrupted by a freeze: keep exactly what was not
					// written, so that every byte is sent once.
					c.out.putBack(rest, restMarks)
					continue
				}
				// The reader notices the broken connection and reports it;
				// make sure it does even if the peer only stopped reading.
				// Hung up before the write counts as over, so that a reboot
				// waiting for it (WaitWriting) then sees the socket closed
				// rather than handing over a descriptor about to close.
				c.hangup()
				c.out.written()
				finished = true
				return
			}
			c.out.written()
			spare = data
			continue // more may have arrived meanwhile
		}
		if st.closing && !st.paused {
			c.tlsCloseNotify() // tls.go
			c.hangup()
			finished = true
			return
		}
		<-c.out.wake
	}
}

// waitFirstThaw waits, at the writer's start, until it is neither paused
// nor closed; false if it was closed.
func (c *Conn) waitFirstThaw() bool {
	o := &c.out
	for {
		o.mu.Lock()
		paused, closed := o.paused, o.closed
		o.mu.Unlock()
		if closed {
			return false
		}
		if !paused {
			return true
		}
		<-o.wake
	}
}

// FreezeWriting stops output at a clean point without waking an idle
// writer (one waiting for output, which a frozen world does not produce):
// only a write in progress is interrupted, its unwritten part put back. It
// returns true if a write was in progress: WaitWriting then waits for it.
// Asking every connection first and waiting after lets the waits overlap.
func (c *Conn) FreezeWriting() (writing bool) {
	o := &c.out
	o.mu.Lock()
	o.paused = true
	writing = o.inFlight > 0
	if writing {
		o.deadlined = true
	}
	o.mu.Unlock()
	if writing {
		_ = c.nc.SetWriteDeadline(time.Unix(1, 0))
	}
	return writing
}

// WaitWriting waits until no write is in progress. After FreezeWriting,
// Unsent is then exact.
func (c *Conn) WaitWriting() {
	o := &c.out
	o.mu.Lock()
	for o.inFlight > 0 {
		o.idle.Wait()
	}
	o.mu.Unlock()
}

// ThawWriting lets the writer carry on after FreezeWriting.
func (c *Conn) ThawWriting() {
	o := &c.out
	o.mu.Lock()
	clear := o.deadlined
	o.paused, o.deadlined = false, false
	o.mu.Unlock()
	if clear {
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
	o.signal()
}

// Unsent returns a copy of the output queued and not yet written. It is
// exact once the writer is frozen and waited for.
func (c *Conn) Unsent() []byte {
	b, _ := c.out.pending()
	return b
}
