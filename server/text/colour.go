package text

import (
	"strings"
	"unicode/utf8"
)

// Colour codes, PG+ style: a caret and a letter. Lower case is the normal
// colour, upper case the bright one: r red, g green, y yellow, b blue,
// p purple (magenta), c cyan, w white. ^N resets, ^H is bold (highlight),
// ^U underline, and ^^ is a caret. Any other caret is left as typed, so
// "^_^" survives.
//
// Codes are plain text all the way through the talker: players type them,
// they are stored and reviewed as typed, and only the last step of output
// turns them into ANSI (Colourize) for a player with colour on, or removes
// them (StripColour) for everyone else. Player input has every control
// character removed on the way in (Clean), so the only escape sequences
// that ever reach a terminal are the ones Colourize writes.

// Reset is the ANSI sequence that turns every attribute off.
const Reset = "\x1b[0m"

// colourDigits maps a colour letter to its ANSI foreground digit.
var colourDigits = [...]struct {
	letter byte
	digit  byte
}{{'r', '1'}, {'g', '2'}, {'y', '3'}, {'b', '4'}, {'p', '5'}, {'c', '6'}, {'w', '7'}}

// code returns the ANSI sequence for the letter after a caret, and
// whether it is a code at all. "^^" is a literal caret (empty sequence).
func code(c byte) (string, bool) {
	switch c {
	case '^':
		return "^", true
	case 'N':
		return Reset, true
	case 'H':
		return "\x1b[1m", true
	case 'U':
		return "\x1b[4m", true
	}
	for _, cd := range colourDigits {
		switch c {
		case cd.letter:
			return "\x1b[0;3" + string(cd.digit) + "m", true
		case cd.letter - 'a' + 'A':
			return "\x1b[1;3" + string(cd.digit) + "m", true
		}
	}
	return "", false
}

// Colourize turns colour codes into ANSI sequences. It adds no resets:
// CloseColours does, after word wrap has decided where lines end.
func Colourize(s string) string { return translate(s, true) }

// StripColour removes colour codes, leaving "^^" as one caret.
func StripColour(s string) string { return translate(s, false) }

func translate(s string, ansi bool) string {
	if strings.IndexByte(s, '^') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		if s[i] != '^' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		seq, ok := code(s[i+1])
		if !ok {
			b.WriteByte('^')
			continue
		}
		i++
		if seq == "^" || ansi {
			b.WriteString(seq)
		}
	}
	return b.String()
}

// CloseColours makes every line of s that ends with a colour or attribute
// still on end with a reset, and starts the next line with what was on:
// colour never leaks past the end of a line, even when the client or a
// later line resets nothing itself, and wrapped text keeps its colour.
func CloseColours(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 {
		return s
	}
	var out strings.Builder
	out.Grow(len(s) + 16)
	active := ""
	for li, line := range strings.Split(s, "\n") {
		if li > 0 {
			out.WriteByte('\n')
		}
		body, cr := strings.CutSuffix(line, "\r")
		if active != "" && body != "" {
			out.WriteString(active)
		}
		for i := 0; i < len(body); i++ {
			if body[i] != 0x1b || i+1 >= len(body) || body[i+1] != '[' {
				continue
			}
			j := i + 2
			for j < len(body) && !(body[j] >= 0x40 && body[j] <= 0x7e) {
				j++
			}
			if j >= len(body) {
				break
			}
			seq := body[i : j+1]
			switch {
			case seq == Reset:
				active = ""
			case strings.HasPrefix(seq, "\x1b[0;"):
				active = seq // a colour code starts from a clean slate
			default:
				active += seq
			}
			i = j
		}
		out.WriteString(body)
		if active != "" && body != "" {
			out.WriteString(Reset)
		}
		if cr {
			out.WriteByte('\r')
		}
	}
	return out.String()
}

// StripControls removes every control character but LF and a CR that
// ends a line (ESC among them; a lone CR could overwrite a line on screen)
// from text about to be sent: the last line of defence, should any text
// that did not go through Clean ever reach output. Invalid UTF-8 is
// replaced by '?', so that no raw C1 byte (0x9b is CSI to a Latin-1
// terminal) passes. Colour is added after it.
func StripControls(s string) string {
	clean, ascii := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\r' && c != '\n' || c == 0x7f || c == 0xc2 ||
			c == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			clean = false
			break
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if clean && (ascii || utf8.ValidString(s)) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				b.WriteRune(r)
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		case r == utf8.RuneError && size == 1:
			b.WriteByte('?') // an invalid byte (a real U+FFFD is kept)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
