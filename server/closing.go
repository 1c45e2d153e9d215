package server

import (
	"sync"
	"time"

	"talker/server/conn"
)

// closingConns are connections the world has closed whose writers may
// still be sending their last output (a goodbye, a refusal). They belong
// to no session, so a reboot does not carry them: a generation that hands
// over waits for them (briefly) before it exits, or their last words would
// be cut off with the process.
type closingConns struct {
	mu      sync.Mutex
	conns   []*conn.Conn
	pruneAt int // prune finished ones when the list reaches this length
}

// add records c. Finished connections are forgotten when the list has
// doubled since the last look, so that closing everyone (a restart, a
// shutdown) costs linear time, not quadratic.
func (cc *closingConns) add(c *conn.Conn) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.conns) >= cc.pruneAt {
		live := cc.conns[:0]
		for _, o := range cc.conns {
			select {
			case <-o.Done():
			default:
				live = append(live, o)
			}
		}
		clear(cc.conns[len(live):])
		cc.conns = live
		cc.pruneAt = 2*len(live) + 64
	}
	cc.conns = append(cc.conns, c)
}

// wait waits at most d for every recorded connection to finish.
func (cc *closingConns) wait(d time.Duration) {
	cc.mu.Lock()
	conns := append([]*conn.Conn(nil), cc.conns...)
	cc.mu.Unlock()
	waitClosed(conns, d)
}

// closeConn closes a connection after its queued output (conn.Close), and
// keeps track of it until it is done. (The world closes nothing while a
// reboot has writers frozen: a closed connection's writer always runs.)
func (w *World) closeConn(c *conn.Conn) {
	if c == nil {
		return // a link-dead session's (linkdead.go)
	}
	c.Close()
	w.closing.add(c)
}

// WaitClosing waits at most d for connections the world closed to finish
// sending their last output: a generation that handed over calls it before
// it exits.
func (s *Server) WaitClosing(d time.Duration) { s.world.closing.wait(d) }

// waitClosed waits (at most d in all) for connections to finish closing.
func waitClosed(conns []*conn.Conn, d time.Duration) {
	deadline := time.After(d)
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-deadline:
			return
		}
	}
}
