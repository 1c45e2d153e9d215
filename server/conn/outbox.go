package conn

import (
	"errors"
	"net"
	"sync"
	"time"
)

// outbox is a connection's queue of bytes to send, drained by its writer
// goroutine. Producers (the world) never block on it: a client that stops
// reading only grows its own backlog until it is dropped.
type outbox struct {
	mu       sync.Mutex
	buf      []byte // queued, not yet taken by the writer
	inFlight int    // taken by the writer, not yet written
	max      int
	closing  bool // send what is queued, then close
	closed   bool
	paused   bool // the writer is to stop, keeping what is unsent (reboot)
	wake     chan struct{}
}

func (o *outbox) init(max int) {
	o.max = max
	o.wake = make(chan struct{}, 1)
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) add(b []byte) bool {
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
	if wasEmpty {
		o.signal()
	}
	return true
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
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) setPaused(p bool) {
	o.mu.Lock()
	o.paused = p
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) isPaused() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.paused
}

type outState struct{ closing, closed, paused bool }

// take hands the writer everything queued, swapping in its spare buffer.
// While paused it hands out nothing.
func (o *outbox) take(spare []byte) ([]byte, outState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := outState{o.closing, o.closed, o.paused}
	if len(o.buf) == 0 || o.paused {
		// Nothing to take: keep both buffers where they are, or the spare
		// would end up shared between writer and producers.
		return nil, st
	}
	data := o.buf
	o.buf = spare[:0]
	o.inFlight = len(data)
	return data, st
}

func (o *outbox) written() {
	o.mu.Lock()
	o.inFlight = 0
	o.mu.Unlock()
}

// putBack returns bytes the writer took but could not write to the front of
// the queue, so that nothing is lost or reordered.
func (o *outbox) putBack(rest []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight = 0
	if len(rest) == 0 {
		return
	}
	buf := make([]byte, 0, len(rest)+len(o.buf))
	buf = append(buf, rest...)
	o.buf = append(buf, o.buf...)
}

// pending returns a copy of the unsent bytes.
func (o *outbox) pending() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]byte(nil), o.buf...)
}

func (c *Conn) startWriter() {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writing {
		return
	}
	c.writing = true
	c.writerStopped = make(chan struct{})
	c.out.setPaused(false)
	_ = c.nc.SetWriteDeadline(time.Time{})
	go c.writeLoop(c.writerStopped)
}

func (c *Conn) writeLoop(stopped chan struct{}) {
	finished := false
	defer func() {
		if r := recover(); r != nil {
			c.reportPanic(r)
		}
		c.writeMu.Lock()
		c.writing = false
		c.writeMu.Unlock()
		if finished {
			c.finishOnce.Do(func() { close(c.finished) })
		}
		close(stopped)
	}()
	var spare []byte
	for {
		data, st := c.out.take(spare)
		switch {
		case st.closed:
			finished = true
			return
		case st.paused:
			return
		}
		if len(data) > 0 {
			n, err := c.nc.Write(data)
			if err != nil {
				var ne net.Error
				if c.out.isPaused() && errors.As(err, &ne) && ne.Timeout() {
					// Interrupted by a pause: keep exactly what was not
					// written, so that every byte is sent once.
					c.out.putBack(data[n:])
					return
				}
				c.out.written()
				// The reader notices the broken connection and reports it;
				// make sure it does even if the peer only stopped reading.
				c.hangup()
				finished = true
				return
			}
			c.out.written()
			spare = data
			continue // more may have arrived meanwhile
		}
		if st.closing {
			c.hangup()
			finished = true
			return
		}
		<-c.out.wake
	}
}

// PauseWriting asks the writer to stop at once, without waiting for it: a
// write in progress is interrupted and its unwritten part put back.
// StopWriting then waits.
func (c *Conn) PauseWriting() {
	c.out.setPaused(true)
	_ = c.nc.SetWriteDeadline(time.Unix(1, 0))
}

// StopWriting stops the writer, keeping every unsent byte, and waits until
// it has stopped.
func (c *Conn) StopWriting() {
	c.writeMu.Lock()
	writing, stopped := c.writing, c.writerStopped
	c.writeMu.Unlock()
	c.PauseWriting()
	if !writing {
		return
	}
	<-stopped
}

// ResumeWriting restarts a writer stopped by StopWriting.
func (c *Conn) ResumeWriting() { c.startWriter() }

// Unsent returns a copy of the output queued and not yet written. It is
// exact once the writer is stopped.
func (c *Conn) Unsent() []byte { return c.out.pending() }
