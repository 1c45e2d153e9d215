package server

import (
	"bytes"
	"time"

	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/telnet"
	"talker/state"
)

// The talker's values to and from the state format (package state), which
// a reboot hands over and the angel checkpoints. The format's structs are
// the wire; these functions are the only place that knows both sides, so
// that renaming a field of a session, a player or the telnet state changes
// this file, not the format.

// SystemState is the talker-wide state that lives in memory and that the
// lifecycle hooks see (hookapi.go). The rest of what the format's System
// carries (the login guard, countdowns, rooms' review) is the World's own.
type SystemState struct {
	Generation    int       // 1 for a cold start, +1 per seamless reboot or recovery
	ColdStartedAt time.Time // start of generation 1
	StartedAt     time.Time // start of this generation
	Reboots       int       // seamless reboots since the cold start
	Recoveries    int       // crash recoveries since the cold start (not in Reboots)
	LastReboot    *RebootTimings
}

// fillCheckpoint writes s's checkpoint record into r, with the player in p,
// reusing the maps and slices r and p already have (see recordScratch).
// Every field of r and p is written. A checkpoint record is a session's
// record without what only the connection's own goroutines may read while
// they run (the decoder's half-typed line, the throttle, unsent output):
// what the angel checkpoints and a reboot stages. After a crash those are
// lost, the rest is not.
func (s *Session) fillCheckpoint(r *state.Session, p *state.Player) {
	us, him, review := r.Telnet.Options.Us, r.Telnet.Options.Him, r.TellReview
	*r = state.Session{
		ID: s.ID, FD: -1, Addr: s.Addr, ConnectedAt: s.ConnectedAt, LastInput: s.LastInput,
		Telnet: telnetToWire(&s.Telnet, us, him), Login: loginToWire(s.Login),
		LoggedInAt: s.LoggedInAt, AFK: s.AFK, AFKMessage: s.AFKMessage, ReplyTo: s.ReplyTo,
		TellReview: reviewToWire(review[:0], s.TellReview),
		Pager:      pagerToWire(s.Pager), Editor: editorToWire(s.Editor),
		WebSocket: s.webSocketCheckpoint(), // webstate.go
	}
	// Converse mode and the last command (converse.go).
	r.Converse, r.LastCommand = s.Converse, s.LastCommand
	r.Conn.TLS = s.tlsCheckpoint() // tlsstate.go: as published (a full record's Conn replaces it)
	if s.Player != nil {
		playerToWire(p, s.Player)
		r.Player = p
	}
	if s.room != nil {
		r.Room = s.room.ID
	}
	r.GreetPending = s.GreetPending // greeting.go
	r.ResumeDigest = s.resumeDigest
	// Where the input stands and what is held (journal.go): a crash
	// recovery goes on from exactly there.
	r.Conn.InputAt = s.inputAt
	if s.reader != nil {
		r.Conn.Decoder = decoderToWire(s.reader)
	}
}

// recordScratch is a session record under construction, reused: a
// reboot's pause builds and encodes every session's checkpoint record to
// compare it with the one staged, and allocating a record, its player,
// its maps and the encoded bytes for each made that 18% slower than
// encoding the talker's own structs had been (4.4 against 3.7 µs a
// session, BenchmarkCheckpointRecord).
type recordScratch struct {
	rec    state.Session
	player state.Player
	buf    bytes.Buffer
}

func (w *World) getScratch() *recordScratch {
	if sc, ok := w.scratch.Get().(*recordScratch); ok {
		return sc
	}
	return &recordScratch{}
}

// encodeCheckpoint encodes a session's checkpoint record (in
// checkpointVersion's encoding). Safe on any goroutine while the world's
// is stopped or is the caller.
func (w *World) encodeCheckpoint(s *Session) (state.Record, error) {
	sc := w.getScratch()
	defer w.scratch.Put(sc)
	s.fillCheckpoint(&sc.rec, &sc.player)
	return state.EncodeSession(checkpointVersion, &sc.rec)
}

// checkpointUnchanged reports whether a session's checkpoint record is,
// byte for byte, staged (what a reboot sent with its socket).
func (w *World) checkpointUnchanged(s *Session, staged state.Record) bool {
	sc := w.getScratch()
	defer w.scratch.Put(sc)
	s.fillCheckpoint(&sc.rec, &sc.player)
	return state.EncodeSessionTo(&sc.buf, checkpointVersion, &sc.rec) == nil && bytes.Equal(sc.buf.Bytes(), staged)
}

// encodeFull encodes a session's whole record for a snapshot of version v,
// to be read with its connection's goroutines frozen: the checkpoint
// record, the connection's carried state and the held input, with the
// descriptor index fd.
func (w *World) encodeFull(s *Session, fd, v int) (state.Record, error) {
	sc := w.getScratch()
	defer w.scratch.Put(sc)
	s.fillCheckpoint(&sc.rec, &sc.player)
	sc.rec.FD, sc.rec.Conn, sc.rec.Held = fd, carriedToWire(w.carry(s.conn)), eventsToWire(s.held)
	return state.EncodeSession(v, &sc.rec)
}

// pauseRecord is a Staged record: what the pause changes, the rest being
// the record staged with the socket at index fd.
func (w *World) pauseRecord(s *Session, fd int) state.Session {
	return state.Session{ID: s.ID, FD: fd, Conn: carriedToWire(w.carry(s.conn)), Held: eventsToWire(s.held), Staged: true}
}

// carry is a connection's carried state for a snapshot. With the crash
// journal passed on to the next generation (journal.go), what the reader
// took stays in the socket (conn.CarryLeavingInput).
func (w *World) carry(c *conn.Conn) conn.Carried {
	if w.jr != nil && w.jr.phase == journalPassedOn {
		return c.CarryLeavingInput()
	}
	return c.Carry()
}

// restoredSession is a session rebuilt from its record, before it is
// linked into the world and given its connection (whose carried state is
// carriedFromWire(&r.Conn)).
func restoredSession(r *state.Session) *Session {
	s := &Session{ID: r.ID, Addr: r.Addr, ConnectedAt: r.ConnectedAt, LastInput: r.LastInput,
		Telnet: telnetFromWire(&r.Telnet), Login: loginFromWire(r.Login), Player: playerFromWire(r.Player),
		LoggedInAt: r.LoggedInAt, AFK: r.AFK, AFKMessage: r.AFKMessage, ReplyTo: r.ReplyTo,
		TellReview: reviewFromWire(r.TellReview), held: eventsFromWire(r.Held),
		Pager: pagerFromWire(r.Pager), Editor: editorFromWire(r.Editor)}
	s.resumeDigest = r.ResumeDigest
	s.recoverMCCP = compressCheckpointFromWire(r.Compress) // only the angel's records have it (mccp.go)
	// Converse mode and the last command (converse.go).
	s.Converse, s.LastCommand = r.Converse, r.LastCommand
	s.GreetPending = r.GreetPending // greeting.go
	s.inputFrom(&r.Conn)
	return s
}

// inputFrom sets where the session's input stands (journal.go) from a
// record's carried connection state: the offset and the decoder there.
func (s *Session) inputFrom(c *state.Carried) {
	s.inputAt, s.reader = c.InputAt, nil
	if s.inputAt != 0 {
		d := carriedFromWire(c).Decoder
		s.reader = &d
	}
}

// systemRecord is the talker-wide state as a snapshot or checkpoint
// carries it.
func (w *World) systemRecord() state.System {
	sys := state.System{Generation: w.system.Generation, ColdStartedAt: w.system.ColdStartedAt,
		StartedAt: w.system.StartedAt, Reboots: w.system.Reboots, Recoveries: w.system.Recoveries, LastReboot: timingsToWire(w.system.LastReboot),
		NextConnID: w.nextConnID(), LoginGuard: guardToWire(w.guard),
		Countdown: countdownToWire(w.countdown), Shutdown: countdownToWire(w.shutdownCountdown)}
	if len(w.review) > 0 {
		sys.RoomReview = make(map[string][]state.ReviewLine, len(w.review))
		for id, lines := range w.review {
			sys.RoomReview[id] = reviewToWire(nil, lines)
		}
	}
	return sys
}

// restoreSystem takes the talker-wide state a previous generation left.
func (w *World) restoreSystem(sys *state.System) {
	w.system = SystemState{Generation: sys.Generation, ColdStartedAt: sys.ColdStartedAt, StartedAt: sys.StartedAt,
		Reboots: sys.Reboots, Recoveries: sys.Recoveries, LastReboot: timingsFromWire(sys.LastReboot)}
	w.guard = guardFromWire(sys.LoginGuard)
	w.countdown = countdownFromWire(sys.Countdown)
	w.shutdownCountdown = countdownFromWire(sys.Shutdown)
	w.review = nil
	if len(sys.RoomReview) > 0 {
		w.review = make(map[string][]ReviewLine, len(sys.RoomReview))
		for id, lines := range sys.RoomReview {
			w.review[id] = reviewFromWire(lines)
		}
	}
	w.connIDs.Store(sys.NextConnID)
}

// telnetToWire converts the telnet state, filling the option maps us and
// him (which may be nil) for the wire's.
func telnetToWire(t *telnet.State, us, him map[uint8]uint8) state.Telnet {
	return state.Telnet{Options: state.Options{Us: qToWire(us, t.Options.Us), Him: qToWire(him, t.Options.Him)},
		Width: t.Width, Height: t.Height, ClientName: t.ClientName, Terminal: t.Terminal, MTTS: t.MTTS,
		TTypeRequests: t.TTypeRequests, TTypeReplies: t.TTypeReplies, TTypeDone: t.TTypeDone,
		Charset: t.Charset, PasswordMode: t.PasswordMode, GMCP: gmcpToWire(t.GMCP)}
}

func telnetFromWire(t *state.Telnet) telnet.State {
	return telnet.State{Options: telnet.Options{Us: qFromWire(t.Options.Us), Him: qFromWire(t.Options.Him)},
		Width: t.Width, Height: t.Height, ClientName: t.ClientName, Terminal: t.Terminal, MTTS: t.MTTS,
		TTypeRequests: t.TTypeRequests, TTypeReplies: t.TTypeReplies, TTypeDone: t.TTypeDone,
		Charset: t.Charset, PasswordMode: t.PasswordMode, GMCP: gmcpFromWire(t.GMCP)}
}

// qToWire fills dst (emptied first; made if nil and needed) with m. An
// empty map and none encode alike (omitempty).
func qToWire(dst map[uint8]uint8, m map[byte]telnet.Q) map[uint8]uint8 {
	clear(dst)
	if len(m) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[uint8]uint8, len(m))
	}
	for opt, q := range m {
		dst[opt] = uint8(q)
	}
	return dst
}

func qFromWire(m map[uint8]uint8) map[byte]telnet.Q {
	if len(m) == 0 {
		return nil
	}
	out := make(map[byte]telnet.Q, len(m))
	for opt, q := range m {
		out[opt] = telnet.Q(q)
	}
	return out
}

// decoderToWire is a telnet decoder's state as records carry it.
func decoderToWire(d *telnet.Decoder) state.Decoder {
	return state.Decoder{Mode: uint8(d.Mode), Verb: d.Verb, SBOption: d.SBOption, SB: d.SB,
		SBOverflow: d.SBOverflow, Line: d.Line, Truncated: d.Truncated, CR: d.CR, MaxLine: d.MaxLine, MaxSB: d.MaxSB}
}

func carriedToWire(c conn.Carried) state.Carried {
	d := &c.Decoder
	return state.Carried{
		Decoder: state.Decoder{Mode: uint8(d.Mode), Verb: d.Verb, SBOption: d.SBOption, SB: d.SB,
			SBOverflow: d.SBOverflow, Line: d.Line, Truncated: d.Truncated, CR: d.CR, MaxLine: d.MaxLine, MaxSB: d.MaxSB},
		Throttle: state.Throttle{LineTokens: c.Throttle.LineTokens, ByteTokens: c.Throttle.ByteTokens,
			Last: c.Throttle.Last, Dropped: c.Throttle.Dropped},
		Unsent: c.Unsent, WebSocket: wsToWire(c.WebSocket), // webstate.go
		Compress:   compressToWire(c.Compress),  // mccp.go
		TLS:        tlsToWire(c.TLS),            // tlsstate.go
		Decompress: inflateToWire(c.Decompress), // mccp3.go
		InputAt:    c.InputAt,
	}
}

func carriedFromWire(c *state.Carried) conn.Carried {
	d := &c.Decoder
	return conn.Carried{
		Decoder: telnet.Decoder{Mode: telnet.Mode(d.Mode), Verb: d.Verb, SBOption: d.SBOption, SB: d.SB,
			SBOverflow: d.SBOverflow, Line: d.Line, Truncated: d.Truncated, CR: d.CR, MaxLine: d.MaxLine, MaxSB: d.MaxSB},
		Throttle: conn.Throttle{LineTokens: c.Throttle.LineTokens, ByteTokens: c.Throttle.ByteTokens,
			Last: c.Throttle.Last, Dropped: c.Throttle.Dropped},
		Unsent: c.Unsent, WebSocket: wsFromWire(c.WebSocket), // webstate.go
		Compress:   compressFromWire(c.Compress),  // mccp.go
		TLS:        tlsFromWire(c.TLS),            // tlsstate.go
		Decompress: inflateFromWire(c.Decompress), // mccp3.go
		InputAt:    c.InputAt,
	}
}

func eventsToWire(evs []telnet.Event) []state.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]state.Event, len(evs))
	for i, e := range evs {
		out[i] = state.Event{Kind: uint8(e.Kind), Line: e.Line, Truncated: e.Truncated, Verb: e.Verb, Option: e.Option, Data: e.Data}
	}
	return out
}

func eventsFromWire(evs []state.Event) []telnet.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]telnet.Event, len(evs))
	for i, e := range evs {
		out[i] = telnet.Event{Kind: telnet.EventKind(e.Kind), Line: e.Line, Truncated: e.Truncated, Verb: e.Verb, Option: e.Option, Data: e.Data}
	}
	return out
}

func loginToWire(l LoginState) state.Login {
	return state.Login{Stage: uint8(l.Stage), Name: l.Name, Failures: l.Failures, Salt: l.Salt, Digest: l.Digest}
}

func loginFromWire(l state.Login) LoginState {
	return LoginState{Stage: Stage(l.Stage), Name: l.Name, Failures: l.Failures, Salt: l.Salt, Digest: l.Digest}
}

// playerToWire writes p into w, reusing w's map of lists.
func playerToWire(w *state.Player, p *player.Player) {
	lists := w.Lists
	clear(lists)
	*w = state.Player{Name: p.Name, PasswordHash: p.PasswordHash, Rank: int(p.Rank), Title: p.Title,
		Description: p.Description, Room: p.Room, Home: p.Home, CreatedAt: p.CreatedAt, LastSeen: p.LastSeen,
		LastAddress: p.LastAddress, Logins: p.Logins, TimeOnline: p.TimeOnline, Colour: p.Colour, Prompt: p.Prompt,
		PromptText: p.PromptText, Timestamps: p.Timestamps, Earmuffs: p.Earmuffs, EnterMsg: p.EnterMsg,
		ExitMsg: p.ExitMsg, Gagged: p.Gagged, Jailed: p.Jailed, Pager: p.Pager,
		ColourChosen: p.ColourChosen, ScreenReader: uint8(p.ScreenReader)}
	talkToWire(w, p) // aliases.go
	profileToWire(w, p)
	if len(p.Lists) > 0 {
		if lists == nil {
			lists = make(map[string]state.ListEntry, len(p.Lists))
		}
		for k, e := range p.Lists {
			lists[k] = state.ListEntry{Name: e.Name, Friend: e.Friend, Ignore: uint8(e.Ignore), Invite: e.Invite}
		}
	}
	w.Lists = lists
}

func playerFromWire(w *state.Player) *player.Player {
	if w == nil {
		return nil
	}
	p := &player.Player{Name: w.Name, PasswordHash: w.PasswordHash, Rank: player.Rank(w.Rank), Title: w.Title,
		Description: w.Description, Room: w.Room, Home: w.Home, CreatedAt: w.CreatedAt, LastSeen: w.LastSeen,
		LastAddress: w.LastAddress, Logins: w.Logins, TimeOnline: w.TimeOnline, Colour: w.Colour, Prompt: w.Prompt,
		PromptText: w.PromptText, Timestamps: w.Timestamps, Earmuffs: w.Earmuffs, EnterMsg: w.EnterMsg,
		ExitMsg: w.ExitMsg, Gagged: w.Gagged, Jailed: w.Jailed, Pager: w.Pager,
		ColourChosen: w.ColourChosen, ScreenReader: player.ScreenReader(w.ScreenReader)}
	talkFromWire(p, w) // aliases.go
	profileFromWire(p, w)
	if len(w.Lists) > 0 {
		p.Lists = make(map[string]player.ListEntry, len(w.Lists))
		for k, e := range w.Lists {
			p.Lists[k] = player.ListEntry{Name: e.Name, Friend: e.Friend, Ignore: player.Ignore(e.Ignore), Invite: e.Invite}
		}
	}
	return p
}

// pagerToWire and the rest carry the pager and the editor. The record
// shares their slices: it is encoded before the world changes them, and a
// page's lines are never changed in place.
func pagerToWire(p *Pager) *state.Pager {
	if p == nil {
		return nil
	}
	return &state.Pager{Lines: p.Lines, Top: p.Top}
}

func pagerFromWire(p *state.Pager) *Pager {
	if p == nil || len(p.Lines) == 0 {
		return nil
	}
	return &Pager{Lines: p.Lines, Top: max(0, min(p.Top, len(p.Lines)-1))}
}

func editorToWire(e *Editor) *state.Editor {
	if e == nil {
		return nil
	}
	return &state.Editor{Target: e.Target, To: e.To, Lines: e.Lines}
}

func editorFromWire(e *state.Editor) *Editor {
	if e == nil {
		return nil
	}
	return &Editor{Target: e.Target, To: e.To, Lines: e.Lines}
}

// reviewToWire appends lines to dst (nil if there are none and dst is).
func reviewToWire(dst []state.ReviewLine, lines []ReviewLine) []state.ReviewLine {
	for _, l := range lines {
		dst = append(dst, state.ReviewLine{At: l.At, From: l.From, Text: l.Text})
	}
	return dst
}

func reviewFromWire(lines []state.ReviewLine) []ReviewLine {
	if len(lines) == 0 {
		return nil
	}
	out := make([]ReviewLine, len(lines))
	for i, l := range lines {
		out[i] = ReviewLine{At: l.At, From: l.From, Text: l.Text}
	}
	return out
}

func timingsToWire(t *RebootTimings) *state.Timings {
	if t == nil {
		return nil
	}
	return &state.Timings{Mode: string(t.Mode), At: t.At, By: t.By, BySession: t.BySession, Reason: t.Reason,
		FromVersion: t.FromVersion, ToVersion: t.ToVersion, FromPID: t.FromPID, ToPID: t.ToPID,
		Sessions: t.Sessions, Dropped: t.Dropped, Prepare: t.Prepare, Exec: t.Exec, Stage: t.Stage,
		Quiesce: t.Quiesce, Snapshot: t.Snapshot, Handoff: t.Handoff, Restore: t.Restore, Pause: t.Pause}
}

func timingsFromWire(t *state.Timings) *RebootTimings {
	if t == nil {
		return nil
	}
	return &RebootTimings{Mode: reboot.Mode(t.Mode), At: t.At, By: t.By, BySession: t.BySession, Reason: t.Reason,
		FromVersion: t.FromVersion, ToVersion: t.ToVersion, FromPID: t.FromPID, ToPID: t.ToPID,
		Sessions: t.Sessions, Dropped: t.Dropped, Prepare: t.Prepare, Exec: t.Exec, Stage: t.Stage,
		Quiesce: t.Quiesce, Snapshot: t.Snapshot, Handoff: t.Handoff, Restore: t.Restore, Pause: t.Pause}
}

func countdownToWire(c *countdown) *state.Countdown {
	if c == nil {
		return nil
	}
	return &state.Countdown{Req: state.Request{Mode: string(c.Mode), Reason: c.Reason, By: c.By,
		BySession: c.BySession}, At: c.At, LastAnnounce: c.LastAnnounce}
}

func countdownFromWire(c *state.Countdown) *countdown {
	if c == nil {
		return nil
	}
	return &countdown{Mode: reboot.Mode(c.Req.Mode), Reason: c.Req.Reason, By: c.Req.By,
		BySession: c.Req.BySession, At: c.At, LastAnnounce: c.LastAnnounce}
}

func guardToWire(g loginGuard) state.Guard {
	conv := func(m map[string]*failures) map[string]*state.Failures {
		if m == nil {
			return nil
		}
		out := make(map[string]*state.Failures, len(m))
		for k, f := range m {
			out[k] = &state.Failures{Count: f.Count, Last: f.Last, Until: f.Until}
		}
		return out
	}
	return state.Guard{ByAddr: conv(g.ByAddr), ByName: conv(g.ByName), ByPair: conv(g.ByPair), NewAccounts: conv(g.NewAccounts)}
}

// guardFromWire gives back the login guard; one from a state without it
// (an empty one) starts afresh.
func guardFromWire(g state.Guard) loginGuard {
	if g.ByAddr == nil {
		return newLoginGuard()
	}
	conv := func(m map[string]*state.Failures) map[string]*failures {
		out := make(map[string]*failures, len(m)) // never nil: the guard writes to every table
		for k, f := range m {
			if f != nil {
				out[k] = &failures{Count: f.Count, Last: f.Last, Until: f.Until}
			}
		}
		return out
	}
	return loginGuard{ByAddr: conv(g.ByAddr), ByName: conv(g.ByName), ByPair: conv(g.ByPair), NewAccounts: conv(g.NewAccounts)}
}
