package server

import (
	"fmt"
	"runtime"
	"sync"
	"talker/ipc"

	"talker/server/conn"
	"talker/state"
)

// Prepared holds the sockets a staged reboot sent while the old
// generation was still serving them, wrapped and ready to be attached to
// the sessions the state describes. Nothing is read from or written to
// them here: until the handoff commits, they are still the old
// generation's to serve.
type Prepared struct {
	limits  conn.Limits
	ids     []uint64 // the connection id the old generation staged at each index
	fds     []int    // received, not yet wrapped
	records []state.Record // each one's session record as staged, not yet decoded
	faults  Faults
	conns   []*conn.Conn
	errs    []error // why the socket at an index could not be wrapped
	taken   []bool
	// states are the staged records decoded; stateErrs says why one
	// could not be.
	states    []state.Session
	stateErrs []error
}

// NewPrepared starts an empty set of staged sockets.
func NewPrepared(limits conn.Limits, faults Faults) *Prepared {
	return &Prepared{limits: limits, faults: faults}
}

// Add takes one staged batch: data gives the connection id and session
// record of each descriptor, in order (a state.StageChunk).
func (p *Prepared) Add(data []byte, fds []int) error {
	chunk, err := state.DecodeStageChunk(data, len(fds))
	if err != nil {
		ipc.CloseAll(fds)
		return fmt.Errorf("staged sockets: %w", err)
	}
	for i := range chunk.Records {
		chunk.Records[i] = p.faults.garble(chunk.Records[i])
	}
	p.ids = append(p.ids, chunk.IDs...)
	p.records = append(p.records, chunk.Records...)
	p.fds = append(p.fds, fds...)
	return nil
}

// Wrap wraps every socket added so far, with its reader and writer
// goroutines started but frozen, decodes the staged records, and returns
// how many sockets are ready. It
// leaves one CPU to the old generation, which is still serving everyone
// meanwhile: starved, its world fell behind, and the pause that follows
// began by catching up.
func (p *Prepared) Wrap() int {
	p.conns = make([]*conn.Conn, len(p.fds))
	p.errs = make([]error, len(p.fds))
	p.taken = make([]bool, len(p.fds))
	p.states = make([]state.Session, len(p.fds))
	p.stateErrs = make([]error, len(p.fds))
	var parked sync.WaitGroup
	parallelOn(runtime.GOMAXPROCS(0)-1, len(p.fds), func(i int) {
		if p.conns[i], p.errs[i] = conn.Wrap(p.fds[i], p.limits); p.errs[i] == nil {
			p.conns[i].StartFrozen(&parked)
		}
		p.states[i], p.stateErrs[i] = state.DecodeSession(state.Version, p.records[i])
	})
	parked.Wait()
	p.records = nil
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

// stagedState completes a Staged record from the one staged with its
// socket at index i.
func (p *Prepared) stagedState(i int, pause state.Session) (state.Session, error) {
	if i < 0 || i >= p.Len() {
		return pause, fmt.Errorf("record for connection %d refers to no staged socket", pause.ID)
	}
	if p.stateErrs[i] != nil {
		return pause, fmt.Errorf("staged record: %w", p.stateErrs[i])
	}
	st := p.states[i]
	// The id is the pause record's: if it is not the staged socket's, the
	// whole state is refused (restoreSessions).
	st.ID, st.FD, st.Conn, st.Held = pause.ID, pause.FD, pause.Conn, pause.Held
	return st, nil
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
	ipc.CloseAll(p.fds)
	p.fds = nil
	for i, c := range p.conns {
		if c != nil && !p.taken[i] {
			c.Abandon()
		}
	}
}
