package server

import (
	"bytes"
	"encoding/json"
	"time"

	"talker/server/conn"
	"talker/state"
)

// Holder keeps, outside this process, a duplicate of every connection's
// socket and a recent checkpoint of every session: the angel (package
// angel/link's Holder). If the talker dies however hard, the next
// generation gets them back, so players stay connected and logged in.
type Holder interface {
	Add(id uint64, fd int) // fd is a duplicate the holder takes over
	Drop(id uint64)
	// Checkpoint gives it the latest records of changed sessions
	// (checkpoint records, in the encoding of state.VersionCBOR) and, if
	// it changed, the system state (state.EncodeSystem).
	Checkpoint(system json.RawMessage, records map[uint64]state.Record)
}

// checkpointVersion is the state format version whose encoding the
// checkpoint records are in: what the angel's crash recovery hands over.
const checkpointVersion = state.VersionCBOR

// encodeSystem encodes the talker-wide state for a checkpoint or snapshot.
func (w *World) encodeSystem() json.RawMessage {
	sys := w.systemRecord()
	b, err := state.EncodeSystem(&sys)
	if err != nil {
		w.log.Error().Err(err).Msg("cannot encode the system state")
	}
	return w.withLinkDead(b) // encoded apart, and again only when changed (linkdead.go)
}

// checkpointEvery is how stale the angel's copy of a session may get.
const checkpointEvery = 200 * time.Millisecond

// SetHolder starts keeping h up to date.
//
// It and the full sync's calls (FullCheckpoint, DupConns, and
// CheckpointNumber in journal.go) go ahead of queued events: a generation
// recovered from a crash starts with every player's input since the crash
// queued, and until the angel holds its journal a second crash loses what
// it read meanwhile. Queued, they waited 1.5-9.5 s under 10 SIGSEGVs at
// 1,000 clients, longer than a generation lived (Go's dump of 2,000
// goroutines takes 1.5-2 s of the 4 s between crashes).
func (s *Server) SetHolder(h Holder) {
	s.world.doFirst(func(w *World) {
		w.holder = h
		w.startJournal(h) // journal.go
	})
}

// touch marks a session as changed since the last checkpoint.
func (w *World) touch(s *Session) {
	if w.holder != nil {
		w.dirty[s.ID] = true
		w.journalTouch(s)
	}
}

// touchNow checkpoints a session at once: for changes that must not be
// lost to a crash in the next fraction of a second (logging in).
func (w *World) touchNow(s *Session) {
	if w.holder == nil || w.phase == phasePaused {
		return
	}
	if b, err := w.encodeAngelCheckpoint(s); err == nil {
		w.holder.Checkpoint(nil, map[uint64]state.Record{s.ID: b})
		delete(w.dirty, s.ID)
		w.journalTouch(s) // and in the journal at the end of the event
	}
}

// holdConn gives the holder a duplicate of a new connection's socket.
func (w *World) holdConn(c *conn.Conn) {
	if w.holder == nil {
		return
	}
	fd, err := c.DupFD()
	if err != nil {
		w.log.Error().Err(err).Msg("cannot duplicate a socket for the angel")
		return
	}
	w.holder.Add(c.ID, fd)
}

// checkpoint sends the changed sessions' records and the system state.
func (w *World) checkpoint() {
	if w.holder == nil || w.phase == phasePaused {
		return
	}
	w.journalLive() // journal.go
	w.dirtyTLS()    // tlsstate.go
	var records map[uint64]state.Record
	if len(w.dirty) > 0 {
		records = make(map[uint64]state.Record, len(w.dirty))
		for id := range w.dirty {
			if s := w.sessions[id]; s != nil {
				if b, err := w.encodeAngelCheckpoint(s); err == nil {
					records[id] = b
				}
			}
			delete(w.dirty, id)
		}
	}
	// The system state goes only when it has changed: an idle talker sends
	// the angel nothing (the hold channel has its own keepalive).
	sys := w.encodeSystem()
	if bytes.Equal(sys, w.lastSystem) {
		sys = nil
	} else {
		w.lastSystem = sys
	}
	if sys != nil || len(records) > 0 {
		if n := w.numberCheckpoint(); n > 0 { // journal.go
			w.jr.holder.CheckpointNumbered(sys, records, n)
		} else {
			w.holder.Checkpoint(sys, records)
		}
	}
}

// FullCheckpoint is what the holder needs first after it (re)connects:
// the system state and every session's id. DupConns then gives it the
// sockets and records, a chunk at a time.
func (s *Server) FullCheckpoint() (system json.RawMessage, ids []uint64) {
	s.world.doFirst(func(w *World) {
		ids = make([]uint64, 0, len(w.sessions))
		for id := range w.sessions {
			ids = append(ids, id)
		}
		system = w.encodeSystem()
		w.lastSystem = system
	})
	return system, ids
}

// DupConns duplicates the sockets of those connections still open and
// returns them with their records. The world does this a chunk at a time
// between its other work: encoding 10,000 records at once held it up for
// 80 ms.
func (s *Server) DupConns(ids []uint64) (open []uint64, fds []int, records map[uint64]state.Record) {
	records = make(map[uint64]state.Record, len(ids))
	s.world.doFirst(func(w *World) {
		for _, id := range ids {
			sess := w.sessions[id]
			if sess == nil {
				continue
			}
			b, err := w.encodeAngelCheckpoint(sess)
			if err != nil {
				continue
			}
			fd, err := sess.conn.DupFD()
			if err != nil {
				continue
			}
			open, fds = append(open, id), append(fds, fd)
			records[id] = b
			delete(w.dirty, id)
		}
	})
	return open, fds, records
}
