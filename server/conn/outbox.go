package conn

import "sync"

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

func (o *outbox) backlog() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.inFlight
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

// take hands the writer everything queued, swapping in its spare buffer.
func (o *outbox) take(spare []byte) (data []byte, closing, closed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) == 0 {
		// Nothing to take: keep both buffers where they are, or the spare
		// would end up shared between writer and producers.
		return nil, o.closing, o.closed
	}
	data, o.buf = o.buf, spare[:0]
	o.inFlight = len(data)
	return data, o.closing, o.closed
}

func (o *outbox) written() {
	o.mu.Lock()
	o.inFlight = 0
	o.mu.Unlock()
}

func (c *Conn) startWriter() {
	go c.writeLoop()
}

func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	var spare []byte
	for {
		data, closing, closed := c.out.take(spare)
		if closed {
			return
		}
		if len(data) > 0 {
			_, err := c.nc.Write(data)
			c.out.written()
			if err != nil {
				// The reader notices the broken connection and reports it;
				// make sure it does even if the peer only stopped reading.
				c.hangup()
				return
			}
			spare = data
			continue // more may have arrived meanwhile
		}
		if closing {
			c.hangup()
			return
		}
		<-c.out.wake
	}
}
