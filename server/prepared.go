package server

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"talker/server/conn"
)

// Prepared holds the sockets a staged reboot sent while the old
// generation was still serving them, wrapped and ready to be attached to
// the sessions the state describes. Nothing is read from or written to
// them here: until the handoff commits, they are still the old
// generation's to serve.
type Prepared struct {
	limits conn.Limits
	ids    []uint64 // the connection id the old generation staged at each index
	fds    []int    // received, not yet wrapped
	conns  []*conn.Conn
	errs   []error // why the socket at an index could not be wrapped
	taken  []bool
}

// NewPrepared starts an empty set of staged sockets.
func NewPrepared(limits conn.Limits) *Prepared { return &Prepared{limits: limits} }

// Add takes one staged batch: data lists the connection id of each
// descriptor, in order.
func (p *Prepared) Add(data []byte, fds []int) error {
	var ids []uint64
	if err := json.Unmarshal(data, &ids); err != nil || len(ids) != len(fds) {
		closeFDs(fds)
		if err == nil {
			err = fmt.Errorf("%d ids for %d sockets", len(ids), len(fds))
		}
		return fmt.Errorf("staged sockets: %w", err)
	}
	p.ids = append(p.ids, ids...)
	p.fds = append(p.fds, fds...)
	return nil
}

// Wrap wraps every socket added so far, with its reader and writer
// goroutines started but frozen, and returns how many are ready. It
// leaves one CPU to the old generation, which is still serving everyone
// meanwhile: starved, its world fell behind, and the pause that follows
// began by catching up.
func (p *Prepared) Wrap() int {
	p.conns = make([]*conn.Conn, len(p.fds))
	p.errs = make([]error, len(p.fds))
	p.taken = make([]bool, len(p.fds))
	var parked sync.WaitGroup
	parallelOn(runtime.GOMAXPROCS(0)-1, len(p.fds), func(i int) {
		if p.conns[i], p.errs[i] = conn.Wrap(p.fds[i], p.limits); p.errs[i] == nil {
			p.conns[i].StartFrozen(&parked)
		}
	})
	parked.Wait()
	p.fds = nil // each is now closed: Wrap works on its own duplicate
	n := 0
	for _, c := range p.conns {
		if c != nil {
			n++
		}
	}
	return n
}

// Len is the number of staged sockets: the state's descriptor indexes
// below it are staged ones.
func (p *Prepared) Len() int {
	if p == nil {
		return 0
	}
	return len(p.ids)
}

// take returns the wrapped connection at index i, checking that it is the
// connection the record says it is.
func (p *Prepared) take(i int, id uint64) (*conn.Conn, error) {
	if p.ids[i] != id {
		return nil, fmt.Errorf("socket %d was staged for connection %d, not %d", i, p.ids[i], id)
	}
	if p.conns[i] == nil {
		return nil, p.errs[i]
	}
	p.taken[i] = true
	return p.conns[i], nil
}

// Abandon closes every socket not taken, without shutting any down: the
// connections still belong to the old generation (or, for one that ended
// after it was staged, are already over).
func (p *Prepared) Abandon() {
	if p == nil {
		return
	}
	closeFDs(p.fds)
	p.fds = nil
	for i, c := range p.conns {
		if c != nil && !p.taken[i] {
			c.Abandon()
		}
	}
}

