package server

import (
	"talker/server/tlsrecord"
	"talker/state"
)

// A TLS session's record layer in the session's records (see package
// conn's tls.go): exact in Carried at a reboot; in the angel's checkpoint
// record (its Conn, otherwise empty there) as last published, refreshed
// every checkpoint tick in which it changed, even when nothing else about
// the session did.

func tlsToWire(st *tlsrecord.State) *state.TLS {
	if st == nil {
		return nil
	}
	return &state.TLS{Suite: st.Suite, ReadSecret: st.ReadSecret, ReadSeq: st.ReadSeq, ReadPartial: st.ReadPartial,
		ReadOffset: st.ReadOffset, KeyUpdatesAsked: st.KeyUpdatesAsked, KeyUpdatesAnswered: st.KeyUpdatesAnswered,
		WriteSecret: st.WriteSecret, WriteSeq: st.WriteSeq, WritePending: st.WritePending, WriteOffset: st.WriteOffset}
}

func tlsFromWire(st *state.TLS) *tlsrecord.State {
	if st == nil {
		return nil
	}
	return &tlsrecord.State{Suite: st.Suite, ReadSecret: st.ReadSecret, ReadSeq: st.ReadSeq, ReadPartial: st.ReadPartial,
		ReadOffset: st.ReadOffset, KeyUpdatesAsked: st.KeyUpdatesAsked, KeyUpdatesAnswered: st.KeyUpdatesAnswered,
		WriteSecret: st.WriteSecret, WriteSeq: st.WriteSeq, WritePending: st.WritePending, WriteOffset: st.WriteOffset}
}

// tlsCheckpoint is the TLS state for s's checkpoint record (nil for a
// plain connection).
func (s *Session) tlsCheckpoint() *state.TLS {
	if s.conn == nil {
		return nil
	}
	st := s.conn.TLSCheckpoint()
	if st != nil {
		// The read half where the world took the input (inputAt): a
		// reader that peeks has gone further, and those bytes are still
		// the kernel's (conn/input.go). Before the first batch, the read
		// half the connection began with (with the offset it was given).
		r := s.conn.TLSStartRead()
		if s.tlsRead != nil && s.tlsReadConn == s.conn {
			r = s.tlsRead
		}
		if r != nil {
			*st = st.WithRead(r)
		}
	}
	return tlsToWire(st)
}

// dirtyTLS marks for the next checkpoint every TLS session whose record
// layer moved since its last one: a crash recovery continues a TLS session
// only from a checkpoint as recent as its last record (conn's attachTLS),
// so a player who only listens must be checkpointed too. An atomic load
// per session: 10,000 sessions every 200 ms cost well under a millisecond.
func (w *World) dirtyTLS() {
	if w.holder == nil {
		return
	}
	for id, s := range w.sessions {
		if s.conn != nil && s.conn.TLSChanged() {
			w.dirty[id] = true
		}
	}
}
