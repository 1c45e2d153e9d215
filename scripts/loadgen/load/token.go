package load

import "strconv"

// A token is what every line carries so that each delivery can be traced:
// "t:<sender>:<seq>;" with the sender's client index and the line's
// sequence number, both decimal. It has no spaces, so the talker's word wrap
// does not split it at a 250-column width; the scanner still copes with a
// wrap (a newline, or a newline and indentation) inside a token, and with a
// token split across reads.

// appendToken appends the token for (sender, seq) to b.
func appendToken(b []byte, sender, seq int) []byte {
	b = append(b, 't', ':')
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(seq), 10)
	return append(b, ';')
}

// token is one token found in received text.
type token struct{ sender, seq int }

// tokenScanner finds tokens in a stream of text fed in arbitrary pieces.
// It is a small state machine: no allocation, no regexp.
type tokenScanner struct {
	state  uint8 // 0 idle, 1 after 't', 2 sender digits, 3 seq digits
	digits uint8
	a, b   int
}

const maxTokenDigits = 9

// scan appends the tokens completed in text to out.
func (s *tokenScanner) scan(text []byte, out []token) []token {
	for _, c := range text {
		switch s.state {
		case 0:
			if c == 't' {
				s.state = 1
			}
			continue
		case 1:
			switch {
			case c == ':':
				s.state, s.a, s.digits = 2, 0, 0
				continue
			case isWrapSpace(c):
				continue
			}
		case 2:
			switch {
			case c >= '0' && c <= '9' && s.digits < maxTokenDigits:
				s.a = s.a*10 + int(c-'0')
				s.digits++
				continue
			case c == ':' && s.digits > 0:
				s.state, s.b, s.digits = 3, 0, 0
				continue
			case isWrapSpace(c):
				continue
			}
		case 3:
			switch {
			case c >= '0' && c <= '9' && s.digits < maxTokenDigits:
				s.b = s.b*10 + int(c-'0')
				s.digits++
				continue
			case c == ';' && s.digits > 0:
				out = append(out, token{s.a, s.b})
				s.state = 0
				continue
			case isWrapSpace(c):
				continue
			}
		}
		// Not a token after all; this byte may start one.
		s.state = 0
		if c == 't' {
			s.state = 1
		}
	}
	return out
}

// isWrapSpace is what word wrapping may insert inside a long word: the line
// break and the next line's indentation.
func isWrapSpace(c byte) bool { return c == '\n' || c == ' ' || c == '\r' }
