package conn

import (
	"sync"

	"talker/server/tlsrecord"
)

// Output that waits for the crash journal's commit.
//
// A world event (a line said in a room of 1,000) queues output to many
// connections, and their writers run at once on other goroutines. If the
// talker died before the journal committed the event, the next generation
// would handle the line again (its input was not yet let go), and whoever
// had already been sent it would see it twice. So with a journal every
// connection's output passes a Gate: bytes queued during an event wait
// until the world has committed the event; then they are released, and
// (for a connection whose bytes go to the socket as they are: no MCCP; or
// TLS records sealed at release, tlsseal.go) written to the journal in the
// same commit, so that a
// generation recovering after a crash sends whatever the socket had not
// yet taken (the socket's own count says how much that is), once.

// Gate collects the connections that have output waiting for a commit.
type Gate struct {
	mu   sync.Mutex
	held []*Conn
	// spare is the previous round's slice, reused.
	spare []*Conn
}

// Output is a run of a connection's output as the journal records it:
// the bytes at absolute stream offset From (the socket's count of bytes
// written when the first of them goes).
type Output struct {
	From  uint64
	Bytes []byte
	// Seal, for a TLS connection whose output is sealed at release
	// (tlsseal.go): Bytes are records, and this is the write half after
	// them.
	Seal *tlsrecord.WriteState
}

// hold lists c; its outbox calls it once per round.
func (g *Gate) hold(c *Conn) {
	g.mu.Lock()
	g.held = append(g.held, c)
	g.mu.Unlock()
}

// Pending returns the connections with output waiting, for Collect and
// then Release. Call it from one goroutine (the world's).
func (g *Gate) Pending() []*Conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	held := g.held
	g.held = g.spare[:0]
	g.spare = held
	return held
}

// SetGate makes the connection's output wait for its gate's commits (nil:
// it is written as soon as queued). What is queued already is released.
func (c *Conn) SetGate(g *Gate) {
	o := &c.out
	o.mu.Lock()
	if g == nil {
		c.tlsUnseal() // tlsseal.go
	}
	o.gate = g
	o.open = len(o.buf)
	o.listed = false
	o.mu.Unlock()
	o.signal()
}

// CollectOutput returns how far the output waiting goes (for
// ReleaseOutput) and, if the connection's bytes go to the socket as they
// are, has the journal record them.
//
// record, if not nil, is called with that run while the outbox is locked
// (its bytes are valid only during the call: the journal copies them).
//
// upto is an absolute position in the output stream, not an index into the
// queue: the writer may take released bytes (shifting the queue) between
// this call and ReleaseOutput.
func (c *Conn) CollectOutput(record func(Output)) (upto uint64) {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	o.listed = false
	end := len(o.buf)
	upto = o.abs + uint64(end)
	if len(o.marks) > 0 || o.compressOn {
		// Compressed, offsets on the wire are not offsets in the output:
		// never recorded again (the MCCP recovery rules apply to such a
		// connection instead).
		o.journalOff = true
	}
	if c.tls != nil {
		return c.tlsCollect(record) // sealed here, recorded as records (tlsseal.go)
	}
	if end > o.open && !o.journalOff && o.absKnown && record != nil {
		record(Output{From: o.abs + uint64(o.open), Bytes: o.buf[o.open:end]})
	}
	return upto
}

// ReleaseOutput lets the writer take the output queued up to upto (from
// CollectOutput), once the journal has committed it.
func (c *Conn) ReleaseOutput(upto uint64) {
	o := &c.out
	o.mu.Lock()
	end := int(upto - o.abs) // where upto is in the queue now
	grew := upto >= o.abs && end > o.open && end <= len(o.buf)
	if grew {
		o.open = end
	}
	paused := o.paused
	o.mu.Unlock()
	if grew && !paused {
		o.signal()
	}
}

// ResumeOutput queues, first, what a dead generation had committed for
// this connection and the socket had not yet taken: runs is the journal's
// record of the output stream; the socket's own count of bytes written
// says where to start. It returns the bytes queued, and how many were
// missing (a gap: runs not kept that long, or never recorded). Call it
// after Attach, before Start.
func (c *Conn) ResumeOutput(runs []Output) (queued, missing int) {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.absKnown || len(runs) == 0 {
		return 0, 0
	}
	at := o.abs
	var add []byte
	for _, r := range runs {
		end := r.From + uint64(len(r.Bytes))
		if end <= at {
			continue
		}
		if r.From > at {
			missing += int(r.From - at)
			at = r.From
		}
		add = append(add, r.Bytes[at-r.From:]...)
		at = end
	}
	if len(add) == 0 {
		return 0, missing
	}
	// Before anything queued since the adoption (abs, the socket's count,
	// is where add starts: this process has written nothing yet).
	for i := range o.marks {
		o.marks[i].at += len(add)
	}
	o.buf = append(add, o.buf...)
	o.open += len(add)
	return len(add), missing
}
