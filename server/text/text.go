// Package text cleans what players type and lays out what they read:
// neutralising control characters and escape sequences so nobody can paint
// on another player's terminal, and word-wrapping to each client's width.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean turns a raw input line into safe text: invalid UTF-8 is read as
// Latin-1 (what older clients send), tabs become spaces, and every control
// character (C0, DEL, C1, including ESC, so no terminal escape sequence can
// pass) is dropped, and so is every character that is invisible or moves
// text about (invisible): with them a player could write a line that looks
// like another's, or like the talker's. Combining marks are kept up to
// maxMarks on one base character, so that nobody can pile them up into a
// smear over the lines above and below. Leading and trailing spaces are
// trimmed. Every line a logged-in player types goes through here before
// any command sees it (World.command), so says, emotes, tells, titles,
// descriptions, mail and room names are all clean.
func Clean(raw []byte) string {
	var sb strings.Builder
	sb.Grow(len(raw))
	valid := utf8.Valid(raw)
	marks := 0 // combining marks since the last base character
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
		isMark := unicode.In(r, unicode.Mn, unicode.Me)
		if !isMark {
			marks = 0
		}
		switch {
		case r == '\t':
			sb.WriteByte(' ')
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			// control characters, ESC among them: dropped
		case invisible(r):
			// dropped
		case isMark:
			if marks++; marks <= maxMarks {
				sb.WriteRune(r)
			}
		case r == utf8.RuneError:
			sb.WriteRune('?')
		default:
			sb.WriteRune(r)
		}
	}
	return strings.TrimSpace(sb.String())
}

// maxMarks is how many combining marks one base character may carry: enough
// for any language's accents (Vietnamese needs two), not for "Zalgo" text.
const maxMarks = 2

// invisible reports characters that take no room or reorder text: zero-width
// spaces and joiners, word joiners and invisible operators, the byte-order
// mark, the line and paragraph separators, every bidirectional mark,
// embedding, override and isolate, the Mongolian vowel separator, the tag
// characters, and the Hangul fillers (which show as blank space).
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, // zero width space, non-joiner, joiner; LRM, RLM
		r == 0x2028, r == 0x2029, // line and paragraph separators
		r >= 0x202a && r <= 0x202e,                         // bidi embeddings and overrides
		r >= 0x2060 && r <= 0x2064,                         // word joiner, invisible operators
		r >= 0x2066 && r <= 0x2069,                         // bidi isolates
		r == 0xfeff,                                        // zero width no-break space (BOM)
		r == 0x061c,                                        // Arabic letter mark
		r == 0x180e,                                        // Mongolian vowel separator
		r >= 0xe0000 && r <= 0xe007f,                       // tag characters
		r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0: // Hangul fillers
		return true
	}
	return false
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

// The talker's own announcements begin a line with Marker ("*** Boss has
// promoted you to admin."). No player can write such a line, so that what
// looks like the talker always is the talker: a player's text never stands
// at the start of a line with a star (an asterisk or anything drawn like
// one, starlike) as its first character there. The talker's announcements
// are always the first line of a message, and every player's says, emotes
// and tells begin with a name, so there are two places where player text
// could start a line:
//   - a continuation line: Wrap (which lays out every line the talker
//     sends) and Guard indent by one column any line after a message's
//     first that would begin with a star, whoever wrote it;
//   - text that a message begins with (a description, a room's name, a
//     mail's body): it is passed through Guard where it is shown, which
//     indents it by one column if it would begin with a star.
// The rule is applied to what a terminal shows (colour codes and escape
// sequences skipped), after wrapping, so no padding or colour gets round it.

// Marker is how the talker's own announcements begin.
const Marker = "***"

// starlike reports a character that is, or looks like, an asterisk.
func starlike(r rune) bool {
	switch r {
	case '*', 0x066d, 0x204e, 0x2055, 0x2217, 0x22c6, 0x2731, 0x2732, 0x2733, 0x273a, 0x273b, 0x273c, 0x273d,
		0x2749, 0x274a, 0x274b, 0xfe61, 0xff0a, 0x1f7af, 0x1f7b1, 0x1f7b2, 0x1f7b3:
		return true
	}
	return false
}

// startsStarlike reports whether the first visible character of s, past
// any ANSI colour sequences, is starlike.
func startsStarlike(s string) bool {
	for len(s) >= 2 && s[0] == 0x1b && s[1] == '[' {
		k := 2
		for k < len(s) && !(s[k] >= 0x40 && s[k] <= 0x7e) {
			k++
		}
		s = s[min(k+1, len(s)):]
	}
	r, _ := utf8.DecodeRuneInString(s)
	return starlike(r)
}

// Guard makes player text that a message begins with safe to show at the
// start of a line: if it would begin with a star, it is indented by one
// column (see Marker).
func Guard(s string) string {
	if startsStarlike(StripColour(s)) {
		return " " + s
	}
	return s
}

// Wrap breaks text into lines of at most width columns at spaces, breaking
// words longer than a line. Continuation lines are indented by indent
// spaces, and by at least one if they would begin with a star (see Marker).
// Existing newlines are kept. A width below 20 is treated as 20 so that a
// bogus window size cannot make output unreadable.
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
	// newLine starts a continuation line that will begin with word.
	newLine := func(word string) int {
		out.WriteByte('\n')
		out.WriteString(strings.Repeat(" ", indent))
		if indent == 0 && startsStarlike(word) {
			out.WriteByte(' ')
			return 1
		}
		return indent
	}
	for pi, para := range strings.Split(s, "\n") {
		col := 0
		lineStart := true
		if pi > 0 {
			out.WriteByte('\n')
			if startsStarlike(para) {
				out.WriteByte(' ')
				col = 1
			}
		}
		for _, word := range strings.Split(para, " ") {
			wl := visibleLen(word)
			switch {
			case lineStart:
			case col+1+wl <= width:
				out.WriteByte(' ')
				col++
			default:
				col = newLine(word)
			}
			lineStart = false
			// A word longer than the room left on an empty line is cut.
			for wl > width-col && wl > 0 && width-col > 0 {
				cut := cutAt(word, width-col)
				out.WriteString(word[:cut])
				word = word[cut:]
				wl = visibleLen(word)
				col = newLine(word)
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
