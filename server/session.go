package server

import (
	"strconv"
	"strings"
	"time"

	"talker/player"
	"talker/server/conn"
	"talker/server/telnet"
	"talker/server/text"
	"talker/server/tlsrecord"
)

// Session is one connection's place in the world: its telnet state, where
// it is in the login exchange and, once logged in, the player it plays.
// Everything but the connection handle is plain data.
type Session struct {
	ID          uint64
	Addr        string
	ConnectedAt time.Time
	LastInput   time.Time
	Telnet      telnet.State
	Login       LoginState

	Player     *player.Player // nil until logged in
	LoggedInAt time.Time
	AFK        bool
	AFKMessage string
	ReplyTo    string // key of the last player who sent this one a tell
	// TellReview is the last tells (and remotes and whispers) this session
	// sent and got, for 'recap'.
	TellReview []ReviewLine
	// Pager is the output of a command being read a page at a time, and
	// Editor a text being typed line by line (pager.go, editor.go): nil
	// when the player is in neither. Both are carried by reboots and
	// checkpoints.
	Pager  *Pager
	Editor *Editor
	// GreetPending: the greeting waits for the client to say what it is
	// (greeting.go). Carried.
	GreetPending bool
	// Converse: lines typed are said, '/' or '.' starts a command;
	// LastCommand is the command line '.' repeats (converse.go). Both
	// carried.
	Converse    bool
	LastCommand string

	conn  *conn.Conn
	room  *Room
	clock func() time.Time // the world's clock, for timestamps

	// inputAt is the socket's input offset after the last batch the world
	// took, and reader the reader's decoder there (when it peeks): what
	// the crash journal commits (journal.go, conn/input.go).
	inputAt uint64
	reader  *telnet.Decoder
	// tlsRead is a TLS connection's read half there (tlsRead of the
	// connection tlsReadConn): what its records carry (tlsstate.go).
	tlsRead     *tlsrecord.ReadHalf
	tlsReadConn *conn.Conn
	// poison is the line this session was running when the previous
	// generation died, not to be run again (journal.go).
	poison []byte
	// rerun is the line it was running when the previous generation was
	// killed from outside: run once more, journalled as a second try
	// (journal.KindRerun) so that dying with it again makes it poison.
	rerun []byte

	checking bool           // a password check is running for this session
	held     []telnet.Event // input that must wait: a password check, a reboot, or its turn under the line rate
	// turns paces the lines a session's commands run at (the line rate):
	// lines past it wait in held, taken on the world's tick, never
	// dropped (a paste arrives whole). Not carried: a new generation
	// starts every session with a full allowance.
	turns lineTurns
	// For the keepalive NOP: the connection's send count when last looked
	// at, and when it last changed (keepalive.go).
	sentSeen   uint64
	quietSince time.Time
	// capture, while the player's own command runs, collects what it
	// sends the player, so that output longer than a page can be paged
	// (pager.go).
	capture *[]byte
	// textPrompted: the pager's or the editor's prompt is the last thing
	// sent, and nothing typed since (sendText).
	textPrompted bool
	// linkDead is set while the connection is gone and the session kept
	// (conn nil; what is sent to it is kept there); resumeDigest is the
	// SHA-256 of its resume token, if one was issued (linkdead.go).
	linkDead     *linkDead
	resumeDigest string
	// recoverMCCP is the angel's checkpoint of the output's compression,
	// from a crash recovery's record until restoreSession decides with it
	// (mccp.go).
	recoverMCCP *conn.CompressCheckpoint
	// mccpSeen is the compressed stream's socket offset (+1) when the
	// world last had the session checkpointed for it (mccp.go).
	mccpSeen uint64
	inflate  inflateWatch // MCCP3 bookkeeping, not carried (mccp3.go)
	gmcp     gmcpSession  // GMCP bookkeeping, not carried (gmcp.go)
}

// name is for logs: the player's name, or "" before login.
func (s *Session) name() string {
	if s.Player == nil {
		return ""
	}
	return s.Player.Name
}

// width is the column count to wrap at.
func (s *Session) width() int {
	if s.Player != nil && s.Player.Wrap > 0 { // set by hand ('wrap', wrap.go)
		return s.Player.Wrap
	}
	if w := s.Telnet.Width; w > 0 {
		return w - 1 // the last column makes some terminals wrap on their own
	}
	return 79
}

// sendRaw queues bytes exactly as given (telnet negotiation).
func (s *Session) sendRaw(b []byte) {
	if len(b) > 0 && s.linkDead == nil { // (negotiation with no connection: nothing to keep)
		capture := s.capture
		s.capture = nil // negotiation is never paged
		s.send(b)
		s.capture = capture
	}
}

func (s *Session) send(b []byte) {
	if len(b) == 0 {
		return
	}
	if s.capture != nil {
		*s.capture = append(*s.capture, b...)
		return
	}
	if s.linkDead != nil {
		s.linkDead.keep(b) // shown when the player is back (linkdead.go)
		return
	}
	if !s.conn.Send(b) {
		// Too far behind: abort now so that nothing more piles up; the
		// reader reports the connection closed with ErrBacklog, which the
		// world logs.
		s.conn.AbortBacklog()
	}
}

// colour reports whether output to this session is coloured: never for a
// screen reader; else the player's choice if they made one; else whether
// their client says it understands colour (TinTin++'s MTTS, Mudlet's name,
// an xterm's terminal type). Before login there is no colour.
func (s *Session) colour() bool {
	switch p := s.Player; {
	case p == nil || s.screenReader():
		return false
	case p.ColourChosen:
		return p.Colour
	}
	return s.Telnet.ColourLevel() > telnet.ColourNone
}

// screenReader reports whether output to this session is for a screen
// reader: the player's setting if they made one, else the client's MTTS
// screen reader bit (which also counts before login).
func (s *Session) screenReader() bool {
	if s.Player != nil {
		switch s.Player.ScreenReader {
		case player.ScreenReaderOn:
			return true
		case player.ScreenReaderOff:
			return false
		}
	}
	return s.Telnet.ScreenReader()
}

// now is the time by the world's clock.
func (s *Session) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock()
}

// render prepares text for this session's terminal: control characters
// removed (whatever their origin), colour codes turned into ANSI or
// stripped, word wrap (if wrap), and no colour left on past a line's end.
func (s *Session) render(msg string, wrap bool) string {
	msg = text.StripControls(msg)
	colour := s.colour()
	if colour {
		msg = text.Colourize(msg)
	} else {
		msg = text.StripColour(msg)
	}
	if wrap {
		msg = text.Wrap(msg, s.width(), 0)
	}
	if colour {
		msg = text.CloseColours(msg)
	}
	return msg
}

// println sends a line of text, word-wrapped to the client's width.
func (s *Session) println(msg string) { s.sendText(s.line(msg)) }

// line renders msg for this session as println sends it.
func (s *Session) line(msg string) []byte {
	if s.screenReader() {
		// Read aloud: no decorative lines or frames (a prompt, which is
		// short and the player's own, is left as it is).
		// Colour codes go first, so that a rule drawn in colour is seen
		// as one; carets left are doubled again for render.
		plain := text.ForScreenReader(text.StripColour(text.StripControls(msg)))
		if plain == "" && msg != "" {
			return nil // nothing but decoration
		}
		msg = strings.ReplaceAll(plain, "^", "^^")
	}
	msg = s.render(msg, true)
	b := make([]byte, 0, len(msg)+8)
	b = telnet.AppendEscaped(b, msg)
	return append(b, '\r', '\n')
}

// lineCache sends one message to many sessions, rendering it once per
// distinct way of rendering it (colour or not, wrap width, timestamp or
// not) rather than once per recipient: rendering was most of the cost of
// a line said in a room of thousands. Not safe for concurrent use.
type lineCache struct {
	msg   string
	hear  bool // conversation: timestamped for those who want it (see hear)
	lines map[lineStyle][]byte
}

type lineStyle struct {
	colour, stamp, screenReader bool
	width                       int
}

func newLineCache(msg string, hear bool) *lineCache {
	return &lineCache{msg: msg, hear: hear, lines: make(map[lineStyle][]byte, 4)}
}

// sendTo sends the message to s (the bytes are copied into its outbox).
func (c *lineCache) sendTo(s *Session) {
	style := lineStyle{colour: s.colour(), stamp: c.hear && s.Player != nil && s.Player.Timestamps,
		screenReader: s.screenReader(), width: s.width()}
	b, ok := c.lines[style]
	if !ok {
		msg := c.msg
		if style.stamp {
			msg = "[" + s.now().Format("15:04") + "] " + msg
		}
		b = s.line(msg)
		c.lines[style] = b
	}
	s.sendText(b)
}

// hear sends a line of conversation — something someone said or did, as
// opposed to the output of the player's own command — stamped with the
// time for a player who has timestamps on.
func (s *Session) hear(msg string) {
	if s.Player != nil && s.Player.Timestamps {
		msg = "[" + s.now().Format("15:04") + "] " + msg
	}
	s.println(msg)
}

// prompt sends text that waits for input on the same line, marked as a
// prompt (EOR or GA) for clients that asked for that.
func (s *Session) prompt(msg string) {
	b := telnet.AppendEscaped(nil, s.render(msg, false))
	b = append(b, s.Telnet.PromptEnd()...)
	s.send(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// ago formats a duration the way people say it: "3 minutes", "2 days".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int(d/time.Second), "second")
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return plural(h, "hour")
		}
		return plural(h, "hour") + " " + plural(m, "minute")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	if unit == "person" {
		return itoa(n) + " people"
	}
	return itoa(n) + " " + unit + "s"
}

// displayName is a player's name with their title.
func displayName(p *player.Player) string {
	if p.Title == "" {
		return p.Name
	}
	if strings.HasPrefix(p.Title, "'") || strings.HasPrefix(p.Title, ",") {
		return p.Name + p.Title
	}
	return p.Name + " " + p.Title
}

// lineTurns is a token bucket of lines at the configured line rate.
type lineTurns struct {
	tokens float64
	last   time.Time
	primed bool
}

// take gives one line its turn if the rate allows it now.
func (t *lineTurns) take(l conn.Limits, now time.Time) bool {
	if l.LineRate <= 0 {
		return true
	}
	burst := float64(max(l.LineBurst, 1))
	if !t.primed {
		t.tokens, t.last, t.primed = burst, now, true
	}
	if dt := now.Sub(t.last).Seconds(); dt > 0 {
		t.tokens = min(burst, t.tokens+dt*l.LineRate)
		t.last = now
	}
	if t.tokens >= 1 {
		t.tokens--
		return true
	}
	return false
}
