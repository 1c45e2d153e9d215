package server

import (
	"fmt"
	"time"

	"talker/server/conn"
	"talker/server/telnet"
	"talker/state"
)

// MCCP3 (telnet option 87): the client compresses its input. The world
// offers it to plain telnet connections (not over TLS, which already hides
// what is typed, nor to the browser client) with IAC WILL 87 unless MCCP
// is turned off (Config.NoMCCP, which covers MCCP2 and MCCP3 alike); the
// connection's reader finds the client's IAC SB 87 IAC SE and inflates
// from there (package conn's decompress.go).
//
// What survives what:
//   - a seamless reboot (and a rollback): the stream goes on in the new
//     process at the byte it stopped at; the connection's carried state
//     has the last 32 KiB the client's stream inflated to, as of its last
//     flush, and the compressed bytes since (conn.InflateState);
//   - the angel's crash recovery: the checkpoint records the same as the
//     reader published it after its last batch, with the socket's count of
//     bytes read then. If the socket has read nothing since, the stream
//     goes on exactly. Otherwise the client's stream moved on by bytes
//     the dead process took, and nothing after them can be inflated: see
//     recoverInflate.

// inflateYoung is how long after connecting a client may still answer the
// MCCP3 offer (WILL 87): one that has not after 10 s is not going to, so a
// crash recovery need not fear it started compressing unseen.
const inflateYoung = 10 * time.Second

// inflateWatch is the world's bookkeeping of a session's MCCP3 (not
// carried): what it last saw of the reader's published state.
type inflateWatch struct {
	seen uint64 // the published read offset (+1) last checkpointed
	on   bool   // the stream was on at the last look (for the log)
}

// offerMCCP3 offers MCCP3 to a brand-new connection (not to a restored
// one: its offer, and the stream, were carried). Before its Start.
func (w *World) offerMCCP3(s *Session) {
	if w.cfg.NoMCCP || s.conn == nil || s.conn.TLS() || s.conn.WebSocket() {
		return
	}
	if v := s.Telnet.Options.Request(telnet.SideUs, telnet.OptMCCP3, true); v != 0 {
		s.sendRaw(telnet.AppendNegotiation(nil, v, telnet.OptMCCP3))
		s.conn.OfferInflate()
	}
}

// followMCCP3 withdraws the offer from a client that refused it (IAC DONT
// 87), so that its reader stops watching for a start sequence.
func (w *World) followMCCP3(s *Session) {
	if s.conn == nil || !s.conn.InflateOffered() {
		return
	}
	if s.Telnet.Options.Get(telnet.SideUs, telnet.OptMCCP3) == telnet.QNo {
		s.conn.SetInflateOffered(false)
		w.log.Debug().Uint64("conn", s.ID).Msg("MCCP3 refused by the client")
	}
}

// mccp3Tick, once a second, logs a stream's start and end, and has the
// session checkpointed again if its reader read since the last time,
// though nothing else changed (a flush that completed no line): so that
// after a kill -9 a connection quiet for a second continues exactly.
func (w *World) mccp3Tick(s *Session) {
	if s.conn == nil {
		return
	}
	cp := s.conn.InflateCheckpoint()
	if cp == nil {
		return
	}
	if on := cp.Phase == conn.InflateHeader || cp.Phase == conn.InflateData; on != s.inflate.on {
		s.inflate.on = on
		msg := "MCCP3 compression off"
		if on {
			msg = "MCCP3 compression on"
		}
		w.log.Info().Uint64("conn", s.ID).Int("carried_bytes", cp.Size()).Msg(msg)
	}
	if seen := cp.ReadOffset + 1; w.holder != nil && cp.ReadOffset != 0 && seen != s.inflate.seen {
		s.inflate.seen = seen
		w.touch(s)
	}
}

// carriesMCCP3 says whether the session's connection carries MCCP3 state
// a build before state version 7 would drop (server/version7.go): a
// stream on, or agreed to.
func (s *Session) carriesMCCP3() bool {
	if s.conn == nil {
		return false
	}
	if cp := s.conn.InflateCheckpoint(); cp != nil && cp.Phase != conn.InflatePlain {
		return true
	}
	return s.Telnet.Options.Get(telnet.SideUs, telnet.OptMCCP3) == telnet.QYes
}

// recoverInflate decides, when a session is restored, what becomes of
// its MCCP3 input, before its connection starts. After a reboot the state
// is exact and nothing is to do. After a crash whose checkpoint the socket
// has moved past (the dead process read bytes after it), the position in
// the client's stream is lost, and no byte after it can be told plain or
// compressed, nor inflated without the history the lost bytes made. The
// spec's own way back (IAC WONT 87, the client ends its stream) needs
// the server to find that end inside the stream, which it cannot. So:
//   - the stream was on, or agreed to, or may have been started unseen
//     (the offer was under 10 s old): the client is told and the
//     connection closes (the player goes link-dead and can come back);
//   - otherwise (MCCP3 refused, or never answered by an old connection)
//     the input is plain and goes on.
func (w *World) recoverInflate(s *Session) {
	if s.conn == nil {
		return
	}
	if cp := s.conn.InflateCheckpoint(); cp != nil && cp.Phase == conn.InflateBroken {
		if lost, _ := s.conn.InflateLost(); !lost {
			s.conn.Close() // it was closing when the reboot came
			return
		}
	}
	lost, phase := s.conn.InflateLost()
	if !lost {
		return
	}
	q := s.Telnet.Options.Get(telnet.SideUs, telnet.OptMCCP3)
	young := q == telnet.QWantYes && w.cfg.Now().Sub(s.ConnectedAt) < inflateYoung
	if phase == conn.InflatePlain && q != telnet.QYes && !young {
		w.log.Debug().Uint64("conn", s.ID).Msg("MCCP3 after the crash: not in use, input goes on plain")
		return
	}
	w.log.Warn().Uint64("conn", s.ID).Str("player", s.name()).Int("phase", int(phase)).
		Msg("closing after the crash: its client's MCCP3 input moved on after the checkpoint and cannot be resumed")
	s.conn.FailInflate(fmt.Errorf("%w: input read after the crash checkpoint was lost with the crashed process", conn.ErrInflate),
		"The talker restarted after a crash and lost its place in your client's compressed input (MCCP3). Please reconnect.")
}

// inflateCheckpoint is what the angel's checkpoint records of a session's
// MCCP3: the reader's state after its last batch and the socket's count of
// bytes read then (nil when MCCP3 is neither offered nor on).
func inflateCheckpoint(s *Session) *state.Inflate {
	if s.conn == nil {
		return nil
	}
	cp := s.conn.InflateCheckpoint()
	if cp == nil || !cp.Offered && cp.Phase == conn.InflatePlain {
		return nil
	}
	return inflateToWire(cp)
}

func inflateToWire(z *conn.InflateState) *state.Inflate {
	if z == nil {
		return nil
	}
	return &state.Inflate{Offered: z.Offered, Phase: z.Phase, Window: z.Window, Rest: z.Rest, Adler: z.Adler, ReadOffset: z.ReadOffset}
}

func inflateFromWire(z *state.Inflate) *conn.InflateState {
	if z == nil {
		return nil
	}
	return &conn.InflateState{Offered: z.Offered, Phase: min(z.Phase, conn.InflateBroken), Window: z.Window, Rest: z.Rest, Adler: z.Adler, ReadOffset: z.ReadOffset}
}
