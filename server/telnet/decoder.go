package telnet

import (
	"fmt"
	"unicode/utf8"
)

// Limits applied when a Decoder's MaxLine or MaxSB is zero or negative, so
// that the zero Decoder is usable and never unbounded.
const (
	DefaultMaxLine = 4096 // bytes kept per input line
	DefaultMaxSB   = 1024 // bytes kept per subnegotiation payload
)

// Mode is the Decoder's parser state between bytes. The numeric values are
// part of the serialised Decoder format and must never be renumbered.
type Mode uint8

// Parser states.
const (
	ModeData     Mode = iota // ordinary data (line bytes)
	ModeIAC                  // after IAC
	ModeVerb                 // after IAC WILL/WONT/DO/DONT, waiting for the option byte
	ModeSBOption             // after IAC SB, waiting for the option byte
	ModeSB                   // inside a subnegotiation payload
	ModeSBIAC                // after IAC inside a subnegotiation payload
)

// EventKind says which fields of an Event are meaningful.
type EventKind uint8

// Event kinds. The zero value is deliberately not a valid kind.
const (
	EventLine        EventKind = iota + 1 // a complete input line: Line, Truncated
	EventNegotiation                      // IAC WILL/WONT/DO/DONT <opt>: Verb, Option
	EventSubneg                           // IAC SB <opt> ... IAC SE: Option, Data
	EventCommand                          // any other IAC <byte> (GA, NOP, AYT, IP, ...): Verb
)

// Event is one thing the client sent. Line and Data are fresh copies that the
// caller may keep and modify.
type Event struct {
	Kind      EventKind
	Line      []byte // EventLine: the line without its ending; raw bytes, not UTF-8 validated
	Truncated int    // EventLine: bytes discarded because the line exceeded MaxLine
	Verb      byte   // EventNegotiation: WILL/WONT/DO/DONT; EventCommand: the byte after IAC
	Option    byte   // EventNegotiation, EventSubneg: the option code
	Data      []byte // EventSubneg: the payload with IAC IAC already undoubled
}

// String renders the event for logs and test failures.
func (e Event) String() string {
	switch e.Kind {
	case EventLine:
		return fmt.Sprintf("line %q (+%d truncated)", e.Line, e.Truncated)
	case EventNegotiation:
		return fmt.Sprintf("%s %d", commandName(e.Verb), e.Option)
	case EventSubneg:
		return fmt.Sprintf("SB %d %q", e.Option, e.Data)
	case EventCommand:
		if n := commandName(e.Verb); n != "" {
			return "IAC " + n
		}
		return fmt.Sprintf("IAC %d", e.Verb)
	}
	return fmt.Sprintf("event(%d)", e.Kind)
}

// Decoder is an incremental telnet input parser for one connection. It runs
// in the connection's reader goroutine and is not safe for concurrent use.
//
// All fields are exported plain data so that a Decoder can be serialised
// (for example with encoding/json) in the middle of a line or of a telnet
// sequence and resumed in another process. Callers should otherwise treat
// the fields as read-only, except MaxLine and MaxSB.
type Decoder struct {
	Mode       Mode   `json:"mode,omitempty"`
	Verb       byte   `json:"verb,omitempty"`       // ModeVerb: the verb awaiting its option byte
	SBOption   byte   `json:"sbOption,omitempty"`   // option of the subnegotiation being collected
	SB         []byte `json:"sb,omitempty"`         // subnegotiation payload so far (IAC IAC undoubled)
	SBOverflow bool   `json:"sbOverflow,omitempty"` // payload exceeded MaxSB: discard it at its end
	Line       []byte `json:"line,omitempty"`       // partial line, at most MaxLine bytes
	Truncated  int    `json:"truncated,omitempty"`  // bytes of the partial line discarded beyond MaxLine
	CR         bool   `json:"cr,omitempty"`         // last data byte was a CR that ended a line: swallow a following LF or NUL
	MaxLine    int    `json:"maxLine,omitempty"`    // line limit; <= 0 means DefaultMaxLine
	MaxSB      int    `json:"maxSB,omitempty"`      // subnegotiation limit; <= 0 means DefaultMaxSB
}

// NewDecoder returns a Decoder keeping at most maxLine bytes of each line
// and maxSB bytes of each subnegotiation payload (<= 0 selects the defaults).
func NewDecoder(maxLine, maxSB int) Decoder {
	return Decoder{MaxLine: maxLine, MaxSB: maxSB}
}

// Pending reports whether a partial line or a partial telnet sequence is
// buffered, i.e. whether stopping now would lose something unless the
// Decoder itself is carried over.
func (d *Decoder) Pending() bool {
	return d.Mode != ModeData || len(d.Line) > 0 || d.Truncated > 0
}

func (d *Decoder) maxLine() int {
	if d.MaxLine <= 0 {
		return DefaultMaxLine
	}
	return d.MaxLine
}

func (d *Decoder) maxSB() int {
	if d.MaxSB <= 0 {
		return DefaultMaxSB
	}
	return d.MaxSB
}

// Feed parses p, appends the resulting events to evs and returns it.
// Sequences may be split at any byte offset across calls: the result of
// feeding a byte stream does not depend on how it was chunked.
//
// Rules worth knowing:
//   - CR LF, CR NUL, bare CR and bare LF each end a line exactly once, even
//     when the LF or NUL arrives in a later call. Empty lines are emitted.
//   - Backspace (0x08), DEL (0x7f) and IAC EC erase the last character (a
//     whole UTF-8 rune) of the partial line; IAC EL erases the whole partial
//     line. They produce no events. While bytes are being discarded because
//     the line is over MaxLine, an erase removes one discarded byte instead.
//   - Every other data byte, including control characters, NUL not after
//     CR, and invalid UTF-8, is kept as-is for the server to sanitise.
//   - A line over MaxLine keeps its first MaxLine bytes and reports how many
//     it dropped in Event.Truncated when the line ends.
//   - A subnegotiation payload over MaxSB is dropped silently (no event).
//   - Inside a subnegotiation, IAC followed by anything other than IAC or SE
//     means the client forgot IAC SE: the subnegotiation ends there (emitted
//     unless it overflowed) and the byte is processed as a command after IAC.
//     This resyncs quickly on broken clients instead of swallowing input.
//   - IAC followed by any byte other than WILL/WONT/DO/DONT/SB/EC/EL/IAC,
//     including a stray SE, is reported as EventCommand.
//
// Feed does not allocate per input byte; it reuses its buffers and only
// allocates the copies handed out in events.
func (d *Decoder) Feed(p []byte, evs []Event) []Event {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch d.Mode {
		case ModeData:
			if c == IAC {
				d.Mode = ModeIAC
				continue
			}
			if !d.CR && plain(c) {
				// Fast path: copy the run of ordinary bytes in one go.
				j := i + 1
				for j < len(p) && plain(p[j]) {
					j++
				}
				d.appendLine(p[i:j])
				i = j - 1
				continue
			}
			evs = d.data(c, evs)
		case ModeIAC:
			evs = d.command(c, evs)
		case ModeVerb:
			evs = append(evs, Event{Kind: EventNegotiation, Verb: d.Verb, Option: c})
			d.Mode, d.Verb = ModeData, 0
		case ModeSBOption:
			d.SBOption, d.SB, d.SBOverflow = c, d.SB[:0], false
			d.Mode = ModeSB
		case ModeSB:
			if c == IAC {
				d.Mode = ModeSBIAC
			} else {
				d.appendSB(c)
			}
		case ModeSBIAC:
			switch c {
			case IAC:
				d.appendSB(IAC)
				d.Mode = ModeSB
			case SE:
				evs = d.endSB(evs)
				d.Mode = ModeData
			default:
				evs = d.endSB(evs)
				evs = d.command(c, evs)
			}
		default:
			// Only reachable with a corrupt serialised Decoder: resync.
			d.Mode = ModeData
			i--
		}
	}
	return evs
}

// plain reports whether c is an ordinary line byte with no special meaning.
func plain(c byte) bool {
	return c >= 0x20 && c != 0x7f && c != IAC
}

// data processes one data byte (including a literal 0xFF from IAC IAC).
func (d *Decoder) data(c byte, evs []Event) []Event {
	if d.CR {
		d.CR = false
		if c == '\n' || c == 0 {
			return evs // second half of CR LF or CR NUL: the line already ended
		}
	}
	switch c {
	case '\r':
		d.CR = true
		return d.endLine(evs)
	case '\n':
		return d.endLine(evs)
	case '\b', 0x7f:
		d.erase()
	default:
		if len(d.Line) < d.maxLine() {
			d.Line = append(d.Line, c)
		} else {
			d.Truncated++
		}
	}
	return evs
}

// command processes the byte after IAC outside a subnegotiation.
func (d *Decoder) command(c byte, evs []Event) []Event {
	d.Mode = ModeData
	switch c {
	case IAC:
		return d.data(IAC, evs)
	case WILL, WONT, DO, DONT:
		d.Mode, d.Verb = ModeVerb, c
	case SB:
		d.Mode = ModeSBOption
	case EC:
		d.erase()
	case EL:
		d.Line, d.Truncated = d.Line[:0], 0
	default:
		evs = append(evs, Event{Kind: EventCommand, Verb: c})
	}
	return evs
}

func (d *Decoder) appendLine(b []byte) {
	room := d.maxLine() - len(d.Line)
	if room < 0 {
		room = 0 // MaxLine lowered mid-line; never grow past it
	}
	if len(b) > room {
		d.Truncated += len(b) - room
		b = b[:room]
	}
	d.Line = append(d.Line, b...)
}

// erase removes the last character typed on the partial line.
func (d *Decoder) erase() {
	if d.Truncated > 0 {
		// The discarded bytes are gone, so rune boundaries are unknown.
		d.Truncated--
		return
	}
	if len(d.Line) > 0 {
		// DecodeLastRune yields size 1 for invalid or partial UTF-8, so a
		// stray byte is removed on its own.
		_, n := utf8.DecodeLastRune(d.Line)
		d.Line = d.Line[:len(d.Line)-n]
	}
}

func (d *Decoder) endLine(evs []Event) []Event {
	evs = append(evs, Event{Kind: EventLine, Line: clone(d.Line), Truncated: d.Truncated})
	d.Line, d.Truncated = d.Line[:0], 0
	return evs
}

func (d *Decoder) appendSB(c byte) {
	if len(d.SB) < d.maxSB() {
		d.SB = append(d.SB, c)
	} else {
		d.SBOverflow = true
	}
}

func (d *Decoder) endSB(evs []Event) []Event {
	if !d.SBOverflow {
		evs = append(evs, Event{Kind: EventSubneg, Option: d.SBOption, Data: clone(d.SB)})
	}
	d.SBOption, d.SB, d.SBOverflow = 0, d.SB[:0], false
	return evs
}

// clone returns a copy of b that never aliases the Decoder's buffers. An
// empty b yields an empty non-nil slice, which costs no allocation.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
