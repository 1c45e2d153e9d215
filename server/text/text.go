// Package text cleans what players type and lays out what they read:
// neutralising control characters and escape sequences so nobody can paint
// on another player's terminal, and word-wrapping to each client's width.
package text

import (
	"strings"
	"unicode/utf8"
)

// Clean turns a raw input line into safe text: invalid UTF-8 is read as
// Latin-1 (what older clients send), tabs become spaces, and every control
// character (C0, DEL, C1, including ESC, so no terminal escape sequence can
// pass), plus the Unicode bidirectional overrides that can disguise text, is
// dropped. Leading and trailing spaces are trimmed.
func Clean(raw []byte) string {
	var sb strings.Builder
	sb.Grow(len(raw))
	valid := utf8.Valid(raw)
	for i := 0; i < len(raw); {
		var r rune
		if valid {
			var size int
			r, size = utf8.DecodeRune(raw[i:])
			i += size
		} else {
			r = rune(raw[i]) // Latin-1: each byte is its own code point
			i++
		}
		switch {
		case r == '\t':
			sb.WriteByte(' ')
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			// control characters, ESC among them: dropped
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			// bidi embeddings, overrides and isolates: dropped
		case r == utf8.RuneError:
			sb.WriteRune('?')
		default:
			sb.WriteRune(r)
		}
	}
	return strings.TrimSpace(sb.String())
}

// Truncate cuts s to at most n runes.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// visibleLen counts the runes of s that take up a column, skipping ANSI
// CSI sequences the talker itself inserted (colour).
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); n++ {
		if i = nextVisible(s, i); i > len(s) {
			break
		}
	}
	return n
}

// nextVisible returns the offset after the visible rune at (or after a
// CSI sequence at) offset i.
func nextVisible(s string, i int) int {
	for i+1 < len(s) && s[i] == 0x1b && s[i+1] == '[' {
		j := i + 2
		for j < len(s) && !(s[j] >= 0x40 && s[j] <= 0x7e) {
			j++
		}
		i = j + 1
	}
	if i >= len(s) {
		return len(s) + 1 // only a CSI sequence was left: it is not a column
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size
}

// Wrap breaks text into lines of at most width columns at spaces, breaking
// words longer than a line. Continuation lines are indented by indent
// spaces. Existing newlines are kept. A width below 20 is treated as 20 so
// that a bogus window size cannot make output unreadable.
func Wrap(s string, width, indent int) string {
	if width < 20 {
		width = 20
	}
	if indent > width/2 {
		indent = width / 2
	}
	if visibleLen(s) <= width && !strings.Contains(s, "\n") {
		return s
	}
	var out strings.Builder
	out.Grow(len(s) + len(s)/width*(indent+2))
	for pi, para := range strings.Split(s, "\n") {
		if pi > 0 {
			out.WriteByte('\n')
		}
		col := 0
		lineStart := true
		for _, word := range strings.Split(para, " ") {
			wl := visibleLen(word)
			switch {
			case lineStart:
			case col+1+wl <= width:
				out.WriteByte(' ')
				col++
			default:
				out.WriteByte('\n')
				out.WriteString(strings.Repeat(" ", indent))
				col = indent
			}
			lineStart = false
			// A word longer than the room left on an empty line is cut.
			for wl > width-col && wl > 0 && width-col > 0 {
				cut := cutAt(word, width-col)
				out.WriteString(word[:cut])
				word = word[cut:]
				wl = visibleLen(word)
				out.WriteByte('\n')
				out.WriteString(strings.Repeat(" ", indent))
				col = indent
			}
			out.WriteString(word)
			col += wl
		}
	}
	return out.String()
}

// cutAt returns the byte offset after n visible runes of s.
func cutAt(s string, n int) int {
	i := 0
	for seen := 0; seen < n && i < len(s); seen++ {
		i = nextVisible(s, i)
	}
	return min(i, len(s))
}
