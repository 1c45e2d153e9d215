package telnet

import (
	"bytes"
	"strconv"
	"strings"
)

// Subnegotiation codes.
const (
	ttypeIS   = 0 // TTYPE IS <name> (client to server)
	ttypeSEND = 1 // TTYPE SEND (server to client)

	charsetRequest  = 1
	charsetAccepted = 2
	charsetRejected = 3

	msspVar = 1
	msspVal = 2
)

// Limits on client-supplied values.
const (
	MaxSize      = 1000 // NAWS width and height are capped here
	MaxTTypeName = 64   // TTYPE replies are cut to this many bytes
	maxTTypeSend = 3    // TTYPE SEND requests per cycle: name, terminal, MTTS
)

// MTTS bits (tintin.mudhalla.net/protocols/mtts/) that the server cares about.
const (
	MTTSANSI       = 1   // ANSI colour
	MTTSVT100      = 2   // VT100 escape codes
	MTTSUTF8       = 4   // UTF-8 output
	MTTS256Colour  = 8   // xterm 256 colours
	MTTSScreenRead = 64  // the player uses a screen reader
	MTTSTrueColour = 256 // 24-bit colour
)

// ColourLevel is how much colour a client is known to understand.
type ColourLevel uint8

// Colour levels, in order.
const (
	ColourNone ColourLevel = iota // nothing known: no colour
	Colour16                      // ANSI: 8 colours, bright and bold
	Colour256                     // xterm 256 colours
	ColourTrue                    // 24-bit colour
)

// Change reports what a State.Handle call changed, as bit flags. Option
// flags are set when a client message moves the option into or out of the
// agreed (QYes) state; a change the server started itself (SetPasswordMode
// moving ECHO from YES to WANTNO) is not reported again when acknowledged.
type Change uint8

// Change flags.
const (
	ChangedSize    Change = 1 << iota // Width/Height (NAWS)
	ChangedTType                      // ClientName, Terminal, MTTS or TTypeDone
	ChangedCharset                    // Charset
	ChangedEcho                       // ECHO was agreed or dropped on our side
	ChangedPrompt                     // EOR or SGA agreement changed, so PromptEnd may differ
)

// MSSPVar is one MSSP variable, e.g. {"PLAYERS", "12"}.
type MSSPVar struct{ Name, Value string }

// State is one connection's negotiated telnet state: everything besides the
// Decoder that must be carried across a reboot exec. It is plain data and
// round-trips through encoding/json.
type State struct {
	Options       Options `json:"options"`
	Width         int     `json:"width,omitempty"`         // from NAWS, at most MaxSize; 0 = unknown; kept if NAWS is dropped
	Height        int     `json:"height,omitempty"`        // from NAWS; 0 = unknown
	ClientName    string  `json:"clientName,omitempty"`    // first TTYPE reply, e.g. "MUDLET"
	Terminal      string  `json:"terminal,omitempty"`      // second TTYPE reply, e.g. "XTERM-256COLOR"
	MTTS          int     `json:"mtts,omitempty"`          // bits from an "MTTS <n>" reply
	TTypeRequests int     `json:"ttypeRequests,omitempty"` // TTYPE SENDs in the current cycle
	TTypeReplies  int     `json:"ttypeReplies,omitempty"`  // TTYPE IS replies in the current cycle
	TTypeDone     bool    `json:"ttypeDone,omitempty"`     // the cycle is over
	Charset       string  `json:"charset,omitempty"`       // "" unknown, "UTF-8" once agreed
	PasswordMode  bool    `json:"passwordMode,omitempty"`  // we want the client not to echo (WILL ECHO)
	GMCP          *GMCP   `json:"gmcp,omitempty"`          // what the client said over GMCP (gmcp.go); nil if nothing
}

// NewState returns the state of a connection before any negotiation.
func NewState() State { return State{} }

// opening is what Open offers (SideUs) and asks for (SideHim). SGA is not
// among them, and is refused when asked for (see accepts).
var opening = [...]struct {
	side Side
	opt  byte
}{{SideUs, OptEOR}, {SideHim, OptNAWS}, {SideHim, OptTType}, {SideUs, OptCharset}, {SideUs, OptMSSP}, {SideUs, OptGMCP}}

// Open returns what the server sends when a brand-new connection opens: it
// offers EOR, CHARSET, MSSP and GMCP and asks the client for NAWS and TTYPE,
// recording each as pending (QWantYes). Options the client already raised
// itself are not repeated. Do not call Open for a connection restored after
// a reboot: clients do not renegotiate.
func (s *State) Open() []byte {
	var out []byte
	for _, r := range opening {
		if v := s.Options.Request(r.side, r.opt, true); v != 0 {
			out = AppendNegotiation(out, v, r.opt)
		}
	}
	return out
}

// Silent reports whether the client has answered none of Open's requests
// (every one still pending): as far as we know it does not speak telnet
// (netcat, PuTTY's raw mode), so telnet commands it would show as garbage
// are not sent: no GA after prompts, no WILL ECHO for a password (nothing
// would hide the typing anyway). A telnet client answers every request,
// refusals included, as soon as it reads them, which is before its user
// sees the first prompt. A State that was never opened is not silent.
func (s *State) Silent() bool {
	for _, r := range opening {
		if s.Options.Get(r.side, r.opt) != QWantYes {
			return false
		}
	}
	return true
}

// accepts is the negotiation policy: whether we agree when the client asks
// for opt on side. Everything not listed is refused once, including
// LINEMODE, NEW-ENVIRON, MCCP2 and MCCP3.
func (s *State) accepts(side Side, opt byte) bool {
	if side == SideHim {
		return opt == OptNAWS || opt == OptTType
	}
	switch opt {
	case OptEOR, OptCharset, OptMSSP, OptGMCP:
		return true
	case OptEcho:
		// Only while a password is being read; an unprompted DO ECHO would
		// otherwise make Mudlet mask every line.
		return s.PasswordMode
	}
	// Not SGA: the BSD and inetutils telnet clients (and PuTTY) switch to
	// character-at-a-time mode once the server suppresses go-ahead, with
	// their local echo on since we do not echo, and the player sees ^M
	// after every line and ^? for backspace. Without SGA they stay in line
	// mode, editing and echoing in the terminal, and WILL ECHO alone hides
	// a password. MUD clients lose nothing: prompts end in EOR (which they
	// agree to) or else GA, which every telnet client swallows.
	return false
}

// Handle processes one EventNegotiation or EventSubneg from the client and
// returns the bytes to send back (nil if none) and what changed. Other
// events are ignored. mssp supplies the variables sent when the client
// enables MSSP; it is only called then, and nil means "send nothing".
func (s *State) Handle(ev Event, mssp func() []MSSPVar) (reply []byte, changed Change) {
	switch ev.Kind {
	case EventNegotiation:
		if ev.Verb >= WILL && ev.Verb <= DONT {
			return s.negotiate(ev.Verb, ev.Option, mssp)
		}
	case EventSubneg:
		return s.subneg(ev.Option, ev.Data)
	}
	return nil, 0
}

func (s *State) negotiate(verb, opt byte, mssp func() []MSSPVar) (reply []byte, changed Change) {
	side := SideHim
	if verb == DO || verb == DONT {
		side = SideUs
	}
	silent := s.Silent()
	send, from, to := s.Options.Receive(verb, opt, s.accepts(side, opt))
	if send != 0 {
		reply = AppendNegotiation(reply, send, opt)
	}
	if silent && !s.Silent() && s.PasswordMode {
		// The first answer came after SetPasswordMode held WILL ECHO back
		// (the player typed ahead of the negotiation): ask now.
		if v := s.Options.Request(SideUs, OptEcho, true); v != 0 {
			reply = AppendNegotiation(reply, v, OptEcho)
		}
	}
	if (from == QYes) == (to == QYes) {
		return reply, 0 // not enabled or disabled: nothing more to do
	}
	on := to == QYes
	switch {
	case side == SideUs && opt == OptEcho:
		changed = ChangedEcho
	case side == SideUs && (opt == OptEOR || opt == OptSGA):
		changed = ChangedPrompt
	case side == SideUs && opt == OptGMCP:
		changed = s.gmcpChanged(on)
	case side == SideUs && opt == OptCharset && on:
		reply = AppendSubneg(reply, OptCharset, []byte{charsetRequest, ';', 'U', 'T', 'F', '-', '8'})
	case side == SideUs && opt == OptMSSP && on && mssp != nil:
		reply = AppendMSSP(reply, mssp())
	case side == SideHim && opt == OptTType:
		if on {
			// A (re)enabled TTYPE starts a new cycle; the client resets
			// its own cycle when it is told DONT TTYPE (MTTS spec).
			s.TTypeRequests, s.TTypeReplies, s.TTypeDone = 0, 0, false
			reply = s.requestTType(reply)
		} else if !s.TTypeDone {
			s.TTypeDone = true
			changed = ChangedTType
		}
	}
	return reply, changed
}

func (s *State) requestTType(reply []byte) []byte {
	s.TTypeRequests++
	return AppendSubneg(reply, OptTType, []byte{ttypeSEND})
}

func (s *State) subneg(opt byte, data []byte) (reply []byte, changed Change) {
	switch opt {
	case OptNAWS:
		if !s.Options.Enabled(SideHim, OptNAWS) || len(data) != 4 {
			return nil, 0 // unsolicited or malformed: ignore
		}
		w := clampSize(int(data[0])<<8 | int(data[1]))
		h := clampSize(int(data[2])<<8 | int(data[3]))
		if w != s.Width || h != s.Height {
			s.Width, s.Height = w, h
			changed = ChangedSize
		}
	case OptTType:
		// Only replies we asked for count; this bounds the cycle even if
		// the client sends IS replies on its own.
		if !s.Options.Enabled(SideHim, OptTType) || s.TTypeDone ||
			s.TTypeReplies >= s.TTypeRequests || len(data) == 0 || data[0] != ttypeIS {
			return nil, 0
		}
		return s.ttypeReply(sanitiseName(data[1:]))
	case OptCharset:
		if !s.Options.Enabled(SideUs, OptCharset) || len(data) == 0 {
			return nil, 0
		}
		return s.charset(data[0], data[1:])
	case OptGMCP:
		return s.gmcp(data)
	}
	return reply, changed
}

func clampSize(n int) int {
	return min(n, MaxSize) // 0 stays 0: unknown
}

// ttypeReply records the n-th TTYPE IS reply and asks for the next one. The
// cycle is client name, terminal type, "MTTS <bits>"; it ends early at an
// MTTS reply or a reply repeating the previous one (end of the client's
// list), and after at most three requests.
func (s *State) ttypeReply(name string) (reply []byte, changed Change) {
	s.TTypeReplies++
	changed = ChangedTType
	if bits, ok := parseMTTS(name); ok {
		s.MTTS, s.TTypeDone = bits, true
		return nil, changed
	}
	switch s.TTypeReplies {
	case 1:
		s.ClientName = name
	case 2:
		if name == s.ClientName {
			s.TTypeDone = true // only one name: usually a plain terminal type
			return nil, changed
		}
		s.Terminal = name
	}
	if s.TTypeReplies >= maxTTypeSend {
		s.TTypeDone = true // third reply is neither MTTS nor new: give up
		return nil, changed
	}
	return s.requestTType(nil), changed
}

// parseMTTS parses "MTTS <n>".
func parseMTTS(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "MTTS ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// sanitiseName makes a client-supplied TTYPE reply safe to store and log:
// printable ASCII only, upper case, trimmed, at most MaxTTypeName bytes.
func sanitiseName(b []byte) string {
	out := make([]byte, 0, min(len(b), MaxTTypeName))
	for _, c := range b {
		if len(out) == MaxTTypeName {
			break
		}
		if c >= 0x20 && c < 0x7f {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
		}
	}
	return strings.TrimSpace(string(out))
}

// charset handles an RFC 2066 CHARSET subnegotiation (code, rest).
func (s *State) charset(code byte, rest []byte) (reply []byte, changed Change) {
	switch code {
	case charsetAccepted:
		if isUTF8Name(rest) && s.Charset != "UTF-8" {
			s.Charset = "UTF-8"
			changed = ChangedCharset
		}
	case charsetRequest:
		// REQUEST [ "[TTABLE]" <version> ] <sep> <name> { <sep> <name> }.
		if after, ok := bytes.CutPrefix(rest, []byte("[TTABLE]")); ok && len(after) > 0 {
			rest = after[1:]
		}
		if len(rest) > 1 {
			for _, name := range bytes.Split(rest[1:], rest[:1]) {
				if isUTF8Name(name) {
					if s.Charset != "UTF-8" {
						s.Charset = "UTF-8"
						changed = ChangedCharset
					}
					// Echo the client's spelling, as RFC 2066 expects.
					return AppendSubneg(nil, OptCharset, append([]byte{charsetAccepted}, name...)), changed
				}
			}
		}
		return AppendSubneg(nil, OptCharset, []byte{charsetRejected}), 0
	}
	// REJECTED (or anything else): leave Charset as it is.
	return nil, changed
}

func isUTF8Name(b []byte) bool {
	return bytes.EqualFold(b, []byte("UTF-8")) || bytes.EqualFold(b, []byte("UTF8"))
}

// SetPasswordMode turns password mode on (the server asks to echo, WILL
// ECHO, so the client hides typed input) or off (WONT ECHO). It returns the
// bytes to send, or nil when nothing would change. Because of the Q method a
// phase costs at most one WILL and one WONT even if toggled while the client
// has not answered yet; Mudlet stops masking passwords for good after five
// ECHO negotiations in quick succession, so redundant ones must never go out.
//
// To a Silent client nothing is sent; should it answer Open later after
// all, Handle asks for ECHO then.
func (s *State) SetPasswordMode(on bool) []byte {
	if s.PasswordMode == on {
		return nil
	}
	s.PasswordMode = on
	if on && s.Silent() {
		return nil
	}
	if v := s.Options.Request(SideUs, OptEcho, on); v != 0 {
		return AppendNegotiation(nil, v, OptEcho)
	}
	return nil
}

// PromptEnd returns the bytes to append after a prompt so that clients can
// tell it from a partial line: IAC EOR if the client agreed to EOR, else
// IAC GA unless SGA is agreed (only in sessions carried from a build that
// offered it) or the client is Silent, else nothing.
func (s *State) PromptEnd() []byte { return s.AppendPromptEnd(nil) }

// AppendPromptEnd appends PromptEnd's bytes to dst.
func (s *State) AppendPromptEnd(dst []byte) []byte {
	switch {
	case s.Options.Enabled(SideUs, OptEOR):
		return append(dst, IAC, EOR)
	case !s.Options.Enabled(SideUs, OptSGA) && !s.Silent():
		return append(dst, IAC, GA)
	}
	return dst
}

// UTF8 reports whether the client takes UTF-8: CHARSET UTF-8 was agreed or
// MTTS announced it.
func (s *State) UTF8() bool {
	return s.Charset == "UTF-8" || s.MTTS&MTTSUTF8 != 0
}

// ColourLevel is the most colour the client is known to understand: from
// the MTTS bits (true colour, else 256, else ANSI), else from the terminal
// type ("XTERM-256COLOR", "...-TRUECOLOR" or "-DIRECT") or a known
// ANSI-capable client or terminal name.
func (s *State) ColourLevel() ColourLevel {
	switch {
	case s.MTTS&MTTSTrueColour != 0:
		return ColourTrue
	case s.MTTS&MTTS256Colour != 0:
		return Colour256
	case s.MTTS&MTTSANSI != 0:
		return Colour16
	}
	for _, name := range [...]string{s.Terminal, s.ClientName} {
		switch {
		case strings.Contains(name, "TRUECOLOR") || strings.Contains(name, "TRUECOLOUR") || strings.HasSuffix(name, "-DIRECT"):
			return ColourTrue
		case strings.Contains(name, "256COL"):
			return Colour256
		}
	}
	if s.SupportsColour() {
		return Colour16
	}
	return ColourNone
}

// ScreenReader reports whether the client says its user has a screen
// reader (MTTS bit 64: Mudlet and TinTin++ set it from their
// accessibility settings).
func (s *State) ScreenReader() bool { return s.MTTS&MTTSScreenRead != 0 }

// SupportsColour reports whether the client is known to understand ANSI
// colour: MTTS says so, or the client or terminal name is a known
// ANSI-capable one. It is false when nothing is known.
func (s *State) SupportsColour() bool {
	return s.MTTS&MTTSANSI != 0 || colourName(s.ClientName) || colourName(s.Terminal)
}

func colourName(name string) bool {
	for _, p := range [...]string{
		"XTERM", "ANSI", "VT100", "VT102", "VT220", "LINUX", "SCREEN", "TMUX",
		"RXVT", "PUTTY", "KONSOLE", "MUDLET", "TINTIN", "MUSHCLIENT", "CMUD",
		"ZMUD", "BLOWTORCH", "MUDRAMMER", "BEIP", "POTATO", "AXMUD",
	} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return strings.Contains(name, "COLOR") || strings.Contains(name, "COLOUR")
}
