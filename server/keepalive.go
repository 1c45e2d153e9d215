package server

import (
	"time"

	"talker/server/telnet"
)

// Keepalive. Home routers and carrier-grade NAT forget a TCP connection
// that has been quiet for a few minutes, and the player finds a dead
// session when they next type. Two things keep a quiet connection alive:
// TCP keepalive on every socket (set by package conn, from the [keepalive]
// section, on accepted sockets and on those a reboot hands over), and a
// telnet NOP (IAC NOP: every telnet client ignores it) to a connection
// nothing has been sent to for Config.NOPInterval. A client that answered
// no telnet negotiation at all (State.Silent: netcat, a raw socket) is sent
// no NOP, which it would show as garbage; TCP keepalive covers it.

// keepalive sends s a NOP if nothing has been sent to it for the NOP
// interval. Called from the tick, about once a second, for every session.
func (w *World) keepalive(s *Session, now time.Time) {
	if s.conn == nil {
		return
	}
	if n := s.conn.Sent(); n != s.sentSeen || s.quietSince.IsZero() {
		s.sentSeen, s.quietSince = n, now
		return
	}
	every := w.cfg.NOPInterval
	if every <= 0 || now.Sub(s.quietSince) < every || s.Telnet.Silent() {
		return
	}
	s.send([]byte{telnet.IAC, telnet.NOP})
	s.sentSeen, s.quietSince = s.conn.Sent(), now
}

// aytReply is the visible answer to IAC AYT ("are you there?", which
// Mudlet and others send as their own keepalive).
const aytReply = "[Yes]\r\n"

// telnetCommand handles a telnet command from the client other than a
// negotiation: AYT is answered; the rest (NOP, GA, IP, BRK, ...) mean
// nothing to a line-mode talker.
func (w *World) telnetCommand(s *Session, verb byte) {
	if verb == telnet.AYT {
		s.send([]byte(aytReply))
	}
}
