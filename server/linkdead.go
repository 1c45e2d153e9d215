package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"talker/state"
)

// Link-dead sessions and resuming them (issue 17). When a logged-in
// player's connection drops — end of file, a reset, a failed write, the
// keepalive giving up, a backlog past its limit: not 'quit', not staff,
// not a shutdown — the session stays in the world for Config.LinkDead
// (`[logins] link_dead`), marked link-dead: in its room, in 'who', told
// tells. What would have been sent to it is kept (bounded: linkDeadLines,
// linkDeadBytes; the oldest go first and are counted). Logging in again
// with the name and password, or presenting a resume token, takes the
// session over on the new connection with everything it had (room,
// modes, review, pager, editor) and shows the missed lines once, in
// order. When the window ends, the session ends as a dropped connection
// always did: saved, and its departure told.
//
// A link-dead session has no socket, so it is not in World.sessions (every
// loop over those touches a connection: readers, writers, the reboot's
// staging, the angel's duplicates); it stays in World.online and in its
// room, and is listed in World.linkDead. Its conn is nil; send keeps what
// comes. It travels in the System state (state.LinkDead), which a reboot's
// snapshot and the angel's checkpoints both carry, with its missed lines
// and its deadline.

// What a link-dead session keeps of the output sent to it: at most
// linkDeadLines lines and linkDeadBytes bytes (a busy room's 200 lines at
// about 80 bytes a line is 16 KiB; a screenful of 'who' on a big talker
// fits in 64 KiB). Past either, the oldest are dropped and counted.
const (
	linkDeadLines = 200
	linkDeadBytes = 64 << 10
)

// linkDead is what a session holds while its connection is gone.
type linkDead struct {
	since, until time.Time
	missed       [][]byte // rendered output, one send a chunk, oldest first
	lines, size  int      // of missed
	dropped      int      // lines dropped from the front
	changed      bool     // since the angel's copy was encoded (linkDeadJSON)
}

// keep adds output sent while the session has no connection, dropping the
// oldest past the bounds.
func (ld *linkDead) keep(b []byte) {
	ld.missed = append(ld.missed, bytes.Clone(b))
	ld.changed = true
	ld.lines += lineCount(b)
	ld.size += len(b)
	for len(ld.missed) > 1 && (ld.lines > linkDeadLines || ld.size > linkDeadBytes) {
		n := lineCount(ld.missed[0])
		ld.dropped += n
		ld.lines -= n
		ld.size -= len(ld.missed[0])
		ld.missed[0] = nil
		ld.missed = ld.missed[1:]
	}
}

// lineCount is how many lines a chunk of output shows: its line ends, or
// one for a chunk without any (a prompt).
func lineCount(b []byte) int { return max(1, bytes.Count(b, []byte{'\n'})) }

// goLinkDead keeps a playing session whose connection has dropped (why),
// if link-dead sessions are on, and reports whether it did; if not, the
// caller ends it.
func (w *World) goLinkDead(s *Session, why error) bool {
	if w.cfg.LinkDead <= 0 || w.phase == phaseStopping || s.Player == nil ||
		w.online[s.Player.Key()] != s || !s.Login.Stage.inWorld() || w.sessions[s.ID] != s {
		return false
	}
	now := w.cfg.Now()
	// Out of the sessions, as remove takes it, but still playing.
	delete(w.sessions, s.ID)
	delete(w.dirty, s.ID)
	if w.holder != nil {
		w.holder.Drop(s.ID)
	}
	if w.pause != nil {
		delete(w.pause.readers, s.ID)
	}
	if w.perAddr[s.Addr]--; w.perAddr[s.Addr] <= 0 {
		delete(w.perAddr, s.Addr)
	}
	// Input it had waiting (a paste under the line rate) came from a
	// connection that is gone: the player will type again.
	s.held, s.checking, s.capture, s.textPrompted = nil, false, nil, false
	s.conn = nil
	s.linkDead = &linkDead{since: now, until: now.Add(w.cfg.LinkDead)}
	if w.linkDead == nil {
		w.linkDead = map[uint64]*Session{}
	}
	w.linkDead[s.ID] = s
	w.log.Info().Str("player", s.Player.Name).Uint64("conn", s.ID).AnErr("why", why).
		Dur("window", w.cfg.LinkDead).Msg("link-dead: session kept without its connection")
	// In a crowded room (more than Config.AnnounceAll people), as for
	// comings and goings (moveTo, logout): a crowd dropping at once (a
	// network fault, the load generator ending) would cost N² lines, and
	// each link-dead member keeps a copy (10,000 in one room: 45 s of the
	// world's CPU).
	if s.room != nil && len(s.room.Members) <= w.cfg.AnnounceAll {
		w.toRoom(s.room, s, s.Player.Name+" has lost their connection.")
	}
	w.checkpointSystemNow()
	return true
}

// checkpointSystemNow sends the angel the system state at once: a
// session that went link-dead or was resumed is carried there, and must
// not be lost to a crash in the next 200 ms.
//
// At most one every systemNowEvery: the rest go with the next checkpoint
// tick (200 ms). A crash before it loses nothing: a session that dropped
// is restored with its closed socket and drops again, and one resumed
// meanwhile is not brought back twice (restoreLinkDead). Each sends every
// link-dead session: when 1,000 players dropped at once, once each took
// the world 6 s.
func (w *World) checkpointSystemNow() {
	w.linkDeadJSON.stale = true // who is link-dead changed (withLinkDead)
	if now := w.cfg.Now(); now.Sub(w.systemNowAt) >= systemNowEvery && w.sendSystem() {
		w.systemNowAt = now
	}
}

// sendSystem sends the angel the system state now, whenever it last did;
// false if there is no angel to send it to (or the world is paused).
func (w *World) sendSystem() bool {
	w.linkDeadJSON.stale = true
	if w.holder == nil || w.phase == phasePaused {
		return false
	}
	sys := w.encodeSystem()
	w.lastSystem = sys
	w.holder.Checkpoint(sys, nil)
	return true
}

// endLinkDead ends a link-dead session: logged out (saved; its departure
// told, unless everyone is leaving). Ending it twice does nothing.
func (w *World) endLinkDead(s *Session, reason closeReason) {
	if w.linkDead[s.ID] != s || s.Player == nil {
		return // ended already (its linkDead stays set: what is still sent to it goes nowhere)
	}
	delete(w.linkDead, s.ID)
	if w.online[s.Player.Key()] == s {
		w.logout(s, reason)
	}
	w.log.Info().Str("player", s.Player.Name).Stringer("reason", reason).Msg("link-dead session ended")
	if !reason.everyone() {
		w.checkpointSystemNow()
	} // everyone leaving: endAllLinkDead checkpoints once, at the end
}

// expireLinkDead ends the link-dead sessions whose window has passed: for
// everyone else, their connection was lost just now.
func (w *World) expireLinkDead(now time.Time) {
	for _, s := range w.linkDead {
		if !now.Before(s.linkDead.until) {
			w.remove(s, closeConnectionLost)
		}
	}
}

// endAllLinkDead ends every link-dead session (a shutdown, a restart).
//
// The system state goes to the angel once, after the last: once each
// (encoding the ever shorter list of the others every time) took 5.7 s at
// shutdown after 1,000 players had dropped.
func (w *World) endAllLinkDead(reason closeReason) {
	if len(w.linkDead) == 0 {
		return
	}
	for _, s := range w.linkDead {
		w.remove(s, reason)
	}
	w.sendSystem()
}

// linkDeadNotice tells someone who sent a link-dead player a tell that
// it is kept for them.
func (w *World) linkDeadNotice(from, to *Session) {
	if to.linkDead != nil && from != to {
		from.println("(" + to.Player.Name + " is link-dead: your message is kept for when they are back.)")
	}
}

// resumeSession gives the session old to the connection of s, which has
// just proved it is old's player (the password, or a resume token). old is
// link-dead, or still has a connection (a second login, or one whose drop
// is not yet noticed), which is closed. The session object that carries on
// is old, so that everything the player had stays as it was; from s it
// takes what belongs to the connection: the id, the socket, the address,
// the telnet state, input waiting. s is gone afterwards.
func (w *World) resumeSession(old, s *Session) {
	p := old.Player
	now := w.cfg.Now()
	ld := old.linkDead
	if ld == nil {
		old.println("*** You have logged in from another connection (" + s.Addr + "); this one is being closed.")
		w.log.Info().Str("player", p.Name).Str("from", old.Addr).Str("to", s.Addr).Msg("session taken over")
		delete(w.sessions, old.ID)
		delete(w.dirty, old.ID)
		if w.holder != nil {
			w.holder.Drop(old.ID)
		}
		if w.perAddr[old.Addr]--; w.perAddr[old.Addr] <= 0 {
			delete(w.perAddr, old.Addr)
		}
		w.closeConn(old.conn)
	} else {
		delete(w.linkDead, old.ID)
		w.log.Info().Str("player", p.Name).Str("to", s.Addr).Uint64("conn", s.ID).Int("missed", ld.lines).
			Int("dropped", ld.dropped).Dur("away", now.Sub(ld.since)).Msg("link-dead session resumed")
	}
	delete(w.sessions, s.ID)
	old.ID, old.conn, old.Addr, old.ConnectedAt, old.Telnet = s.ID, s.conn, s.Addr, s.ConnectedAt, s.Telnet
	if old.room != nil {
		old.room.recountGMCP() // the new connection's client (rooms.go)
	}
	old.held, old.turns, old.sentSeen, old.quietSince = s.held, s.turns, s.sentSeen, s.quietSince
	old.checking, old.capture, old.textPrompted, old.linkDead = false, nil, false, nil
	old.gmcp = s.gmcp // what this connection was sent (gmcp.go)
	old.LastInput, old.AFK, old.AFKMessage = now, false, ""
	if old.Login.Stage != StagePlaying {
		// At a prompt of 'password' or 'deleteaccount' on the old
		// connection: that command is over.
		old.Login = LoginState{Stage: StagePlaying, Name: p.Name}
	}
	w.sessions[old.ID] = old
	p.LastAddress = old.Addr
	w.save(p)
	w.noteLogin(old, p)
	w.touchNow(old)
	old.println("Welcome back, " + p.Name + ": you have taken over your session.")
	if ld != nil {
		old.println("Your session was kept while you were away (" + ago(now.Sub(ld.since)) + ").")
		if len(ld.missed) > 0 {
			old.println("*** What you missed:")
			for _, b := range ld.missed {
				old.send(b)
			}
		}
		if ld.dropped > 0 {
			old.println("(" + plural(ld.dropped, "earlier line") + " " + map[bool]string{true: "was", false: "were"}[ld.dropped == 1] + " dropped)")
		}
		w.checkpointSystemNow()
	}
	if old.room != nil {
		if len(old.room.Members) <= w.cfg.AnnounceAll { // as goLinkDead
			w.toRoom(old.room, old, p.Name+" has reconnected.")
		}
		w.look(old)
	}
	// The new connection's client knows nothing yet: Char.Name,
	// Char.Status, Room.Info and Room.Players as a login sends them, if it
	// agreed to GMCP and asked for them (gmcp.go). Nothing GMCP was kept
	// while link-dead (sendRaw keeps no negotiation).
	w.gmcpRefresh(old)
	w.sendPrompt(old)
	w.replay(old) // what the client typed after its password
}

// resumeToken issues a resume token for a logged-in session: a client that
// loses its connection (a browser on a network that changed) presents it on
// a new connection to take the session over without the password
// (resumeByToken). 32 random bytes, base64url. Each call issues a new one
// and the previous stops working; using one also ends it, so a client asks
// for a fresh one after each resume. Only its SHA-256 is kept, and carried
// across reboots and crashes with the session; it lasts as long as the
// session does, so once the connection drops, the link-dead window. It is
// a secret: never logged. "" for a session not playing.
func (w *World) resumeToken(s *Session) string {
	if s.Player == nil || w.online[s.Player.Key()] != s {
		return ""
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	s.resumeDigest = tokenDigest(token)
	w.touchNow(s)
	return token
}

// resumeByToken takes over, for the new connection s (not logged in), the
// session whose resume token is token, and reports whether there was one.
// It runs on the World's goroutine. Digests are compared in constant time.
func (w *World) resumeByToken(s *Session, token string) bool {
	if s.Player != nil || w.sessions[s.ID] != s || token == "" || s.checking {
		return false
	}
	want := []byte(tokenDigest(token))
	var found *Session
	for _, o := range w.online {
		if o.resumeDigest != "" && subtle.ConstantTimeCompare([]byte(o.resumeDigest), want) == 1 {
			found = o
		}
	}
	if found == nil {
		w.log.Warn().Uint64("conn", s.ID).Str("addr", s.Addr).Msg("resume token refused")
		return false
	}
	found.resumeDigest = "" // used: a new one must be asked for
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	w.resumeSession(found, s)
	return true
}

// tokenDigest is what is kept of a resume token.
func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// linkDeadToWire is every link-dead session as the System state carries
// it (nil if there are none).
func (w *World) linkDeadToWire() []state.LinkDead {
	if len(w.linkDead) == 0 {
		return nil
	}
	out := make([]state.LinkDead, 0, len(w.linkDead))
	for _, s := range w.linkDead {
		ld := state.LinkDead{Since: s.linkDead.since, Until: s.linkDead.until,
			Missed: s.linkDead.missed, Dropped: s.linkDead.dropped}
		var p state.Player
		s.fillCheckpoint(&ld.Session, &p)
		out = append(out, ld)
	}
	return out
}

// restoreLinkDead links the link-dead sessions a previous generation
// carried into the world, after the sessions with sockets: a player found
// playing among those (resumed just before a crash, whose system state
// the angel had not yet got) is not brought back twice. One whose window
// has passed ends on the first tick, with its departure told.
func (w *World) restoreLinkDead(list []state.LinkDead) {
	for i := range list {
		r := &list[i]
		s := restoredSession(&r.Session)
		if s.Player == nil || !s.Login.Stage.inWorld() || w.online[s.Player.Key()] != nil {
			continue
		}
		s.clock = w.cfg.Now
		ld := &linkDead{since: r.Since, until: r.Until}
		for _, b := range r.Missed {
			ld.keep(b)
		}
		ld.dropped += r.Dropped
		s.linkDead = ld
		room := w.rooms[r.Session.Room]
		if room == nil {
			room = w.rooms[w.cfg.StartRoom]
		}
		s.room = room
		room.add(s)
		w.online[s.Player.Key()] = s
		w.indexFriends(s)
		if w.linkDead == nil {
			w.linkDead = map[uint64]*Session{}
		}
		w.linkDead[s.ID] = s
	}
}

// linkDeadJSON is the link-dead sessions' part of the system state as the
// angel's checkpoints carry it, encoded apart and kept: the system state is
// encoded every 200 ms to see whether it changed, and 100 link-dead sessions
// with 200 missed lines each took 52 ms to encode (1,000 took 445 ms, 22 MB).
// It is encoded again only when someone goes link-dead, is resumed or ends
// (at once), or when missed lines came (at most once every
// linkDeadCheckpointEvery: a crash can lose the last second of them). A
// reboot's snapshot encodes them afresh.
type linkDeadJSON struct {
	encoded []byte    // the JSON array, or nil
	at      time.Time // when it was encoded
	stale   bool      // who is link-dead changed since
	// cost is how long the last encoding took, done when it ended (the
	// process's clock, not the world's: it bounds CPU time).
	cost time.Duration
	done time.Time
	// The last system state given and the result: the same again costs
	// no copy (the checkpoint then compares a slice with itself).
	base, spliced []byte
}

// linkDeadEncodeShare: the link-dead sessions are encoded again no sooner
// than this many times the last encoding's cost after it.
const linkDeadEncodeShare = 10

// systemNowEvery bounds how often checkpointSystemNow sends the system
// state at once.
const systemNowEvery = 50 * time.Millisecond

// linkDeadCheckpointEvery bounds how often missed lines alone make the
// angel's copy of the link-dead sessions be encoded again.
const linkDeadCheckpointEvery = time.Second

// withLinkDead adds the link-dead sessions to an encoded system state that
// has none (a JSON object), from the kept encoding or a new one.
func (w *World) withLinkDead(sys []byte) []byte {
	c := &w.linkDeadJSON
	if len(w.linkDead) == 0 {
		c.encoded, c.stale, c.base, c.spliced = nil, false, nil, nil
		return sys
	}
	now := w.cfg.Now()
	changed := false
	for _, s := range w.linkDead {
		changed = changed || s.linkDead.changed
	}
	due := c.stale || changed && now.Sub(c.at) >= linkDeadCheckpointEvery
	// Encoding lists every link-dead session: 40 ms at 6,000. When a
	// crowd drops, at most a tenth of the world's time goes to it; until
	// then the angel keeps the previous list, which loses nothing (see
	// checkpointSystemNow). Done at every chance, it took 8.4 of the 11 s
	// in which 6,000 clients went link-dead.
	if due && c.encoded != nil && time.Since(c.done) < linkDeadEncodeShare*c.cost {
		due = false
	}
	if c.encoded == nil || due {
		began := time.Now()
		b, err := json.Marshal(w.linkDeadToWire())
		if err != nil {
			w.log.Error().Err(err).Msg("cannot encode the link-dead sessions")
			return sys
		}
		c.encoded, c.at, c.stale, c.spliced = b, now, false, nil
		c.done = time.Now()
		c.cost = c.done.Sub(began)
		for _, s := range w.linkDead {
			s.linkDead.changed = false
		}
	}
	if c.spliced != nil && bytes.Equal(c.base, sys) {
		return c.spliced
	}
	if len(sys) < 2 || sys[len(sys)-1] != '}' {
		return sys
	}
	out := make([]byte, 0, len(sys)+len(c.encoded)+16)
	out = append(out, sys[:len(sys)-1]...)
	out = append(out, `,"LinkDead":`...)
	out = append(out, c.encoded...)
	c.base, c.spliced = bytes.Clone(sys), append(out, '}')
	return c.spliced
}
