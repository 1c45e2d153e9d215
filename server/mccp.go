package server

import (
	"talker/server/conn"
	"talker/server/telnet"
	"talker/state"
)

// MCCP2 (telnet option 86): the talker offers to compress its output, and
// the client's IAC DO COMPRESS2 starts it. The world only decides; the
// connection's writer compresses (package conn's compress.go), so a line
// fanned out to a full room is deflated on each listener's own goroutine.
//
// What survives what:
//   - a seamless reboot (and a rollback): the stream goes on in the new
//     process, no renegotiation, no new header; the connection's carried
//     state has the Adler-32, the switches still queued and the rest of a
//     unit a freeze interrupted (conn.Compression);
//   - the angel's crash recovery: see recoverCompression below.

// offerMCCP offers MCCP2 to a brand-new connection (not to a restored one:
// its offer, and the stream, were carried).
func (w *World) offerMCCP(s *Session) {
	if w.cfg.NoMCCP || s.conn == nil {
		return
	}
	if v := s.Telnet.Options.Request(telnet.SideUs, telnet.OptMCCP2, true); v != 0 {
		s.sendRaw(telnet.AppendNegotiation(nil, v, telnet.OptMCCP2))
	}
	w.offerMCCP3(s) // mccp3.go: and input compression
}

// followMCCP makes the output follow the negotiated option after a
// negotiation: the client's DO COMPRESS2 queues the start (IAC SB
// COMPRESS2 IAC SE, after which everything queued is compressed), its
// DONT the end. The angel is told at once, so that a crash soon after
// finds the switch in its checkpoint (see recoverCompression).
func (w *World) followMCCP(s *Session) {
	w.followMCCP3(s) // mccp3.go
	if s.conn == nil {
		return
	}
	on := s.Telnet.Options.Enabled(telnet.SideUs, telnet.OptMCCP2)
	if on == s.conn.CompressionWanted() {
		return
	}
	ok := false
	if on {
		ok = s.conn.StartCompression()
		w.log.Info().Uint64("conn", s.ID).Msg("MCCP2 compression on")
	} else {
		ok = s.conn.EndCompression()
		w.log.Info().Uint64("conn", s.ID).Msg("MCCP2 compression off")
	}
	if !ok {
		s.conn.AbortBacklog()
		return
	}
	// Now, with the switch agreed and not yet made, and again on the next
	// round (about 200 ms), by when the writer has made it.
	w.touchNow(s)
	w.touch(s)
}

// compressToWire is a connection's compression as a full record carries it
// (a reboot's, with the writer frozen).
func compressToWire(z conn.Compression) *state.Compress {
	if !z.Active() {
		return nil
	}
	out := &state.Compress{On: z.On, Adler: z.Adler, AdlerUnknown: z.AdlerUnknown, Wire: z.Wire}
	for _, m := range z.Marks {
		out.Marks = append(out.Marks, state.CompressMark{At: m.At, On: m.On})
	}
	return out
}

// compressFromWire is the reverse of compressToWire.
func compressFromWire(z *state.Compress) conn.Compression {
	if z == nil {
		return conn.Compression{}
	}
	out := conn.Compression{On: z.On, Adler: z.Adler, AdlerUnknown: z.AdlerUnknown, Wire: z.Wire}
	for _, m := range z.Marks {
		out.Marks = append(out.Marks, conn.Mark{At: m.At, On: m.On})
	}
	return out
}

// compressCheckpoint is what the angel's checkpoint records of a session's
// compression: the writer's state after its last whole write and the
// socket's count of bytes written there, for every connection MCCP2 was
// offered to or used on (nil otherwise).
func compressCheckpoint(s *Session) *state.Compress {
	if s.conn == nil || s.Telnet.Options.Get(telnet.SideUs, telnet.OptMCCP2) == telnet.QNo && !s.conn.CompressionWanted() {
		return nil
	}
	cp := s.conn.CompressCheckpoint()
	return &state.Compress{On: cp.On, Adler: cp.Adler, AdlerUnknown: cp.AdlerUnknown, Offset: cp.Offset, OffsetKnown: cp.OffsetKnown}
}

// compressCheckpointFromWire reads the angel's checkpoint of a session's
// compression (nil: none recorded).
func compressCheckpointFromWire(z *state.Compress) *conn.CompressCheckpoint {
	if z == nil {
		return nil
	}
	return &conn.CompressCheckpoint{On: z.On, Adler: z.Adler, AdlerUnknown: z.AdlerUnknown,
		Offset: z.Offset, OffsetKnown: z.OffsetKnown}
}

// carriesMCCP says whether the session's connection carries compression
// state a build before state version 7 would drop (server/version7.go).
func (s *Session) carriesMCCP() bool {
	return s.conn != nil && (s.conn.CompressionWanted() || s.conn.Compressing())
}

// encodeAngelCheckpoint is encodeCheckpoint with what only the angel's
// checkpoints carry: the compression as the running writer left it. (Not
// in the records a reboot stages: the offset moves with every write, and a
// reboot carries the exact state with the writer frozen.)
func (w *World) encodeAngelCheckpoint(s *Session) (state.Record, error) {
	sc := w.getScratch()
	defer w.scratch.Put(sc)
	s.fillCheckpoint(&sc.rec, &sc.player)
	sc.rec.Compress = compressCheckpoint(s)
	// What waits its turn too: its input is committed as taken (journal.go).
	sc.rec.Held = eventsToWire(s.held)
	sc.rec.Inflate = inflateCheckpoint(s) // mccp3.go
	return state.EncodeSession(checkpointVersion, &sc.rec)
}

// recoverCompression decides, in a crash recovery, how a restored session's
// output goes on (conn.RecoverCompression has the rule), before its
// connection starts. It returns false if the connection must be closed:
// it cannot be told whether the client is inside a compressed stream.
func (w *World) recoverCompression(s *Session) bool {
	cp := s.recoverMCCP
	s.recoverMCCP = nil
	if cp == nil || s.conn == nil {
		return true
	}
	agreed := s.Telnet.Options.Enabled(telnet.SideUs, telnet.OptMCCP2)
	r := s.conn.RecoverCompression(*cp, agreed)
	w.log.Debug().Uint64("conn", s.ID).Int("mccp", int(r)).Msg("compression after the crash")
	if r == conn.RecoverUnsure {
		w.log.Warn().Uint64("conn", s.ID).Str("player", s.name()).
			Msg("closed after the crash: its compression was switching and cannot be told")
		s.conn.Abort()
		return false
	}
	// A switch agreed but not yet made at the checkpoint is queued again.
	w.followMCCP(s)
	return true
}

// mccpTick, once a second, has a session checkpointed again if its
// compressed stream moved since the last time, though nothing else
// changed: so that after a kill -9 a connection that was quiet for a
// second continues exactly, its Adler-32 known (and the stream can still
// be ended properly), rather than only at a unit boundary. It costs an
// atomic load a session, and an encoded record a second for each
// compressed session that got output.
func (w *World) mccpTick(s *Session) {
	w.mccp3Tick(s) // mccp3.go
	if w.holder == nil || s.conn == nil || !(s.conn.Compressing() || s.conn.CompressionWanted()) {
		return
	}
	cp := s.conn.CompressCheckpoint()
	if !cp.OffsetKnown {
		return
	}
	if seen := cp.Offset + 1; seen != s.mccpSeen {
		s.mccpSeen = seen
		w.touch(s)
	}
}
