package text

import (
	"strings"
	"unicode"
)

// ForScreenReader rewrites text (colour codes already stripped) for a
// player listening through a screen reader, which reads every character it
// is given: lines of decoration (rules of dashes or equals signs, frames,
// ASCII art: no letter or digit in them) are left out, and the
// decoration around a line ("*** ... ***", "[ ... ]", "| ... |") is
// taken off, so that only the words are read.
func ForScreenReader(s string) string {
	if s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, line := range lines {
		body, cr := strings.CutSuffix(line, "\r")
		if strings.TrimSpace(body) == "" {
			out = append(out, line) // an empty line is a pause, not noise
			continue
		}
		if !strings.ContainsFunc(body, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // a rule, a frame, a line of ASCII art
		}
		body = undecorate(dropRuns(body))
		if cr {
			body += "\r"
		}
		out = append(out, body)
	}
	return strings.Join(out, "\n")
}

// dropRuns removes runs of three or more of the same decoration character
// inside a line ("----", "***", "====", "~~~"): a screen reader reads each
// one, and they say nothing.
func dropRuns(line string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(line); {
		c := line[i]
		j := i + 1
		for j < len(line) && line[j] == c {
			j++
		}
		if j-i >= 3 && strings.IndexByte("-=*~_#+|", c) >= 0 {
			changed = true
		} else {
			b.WriteString(line[i:j])
		}
		i = j
	}
	if !changed {
		return line
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// decoration is what frames a line: repeated, it is not read well.
const decoration = "*=-~#+|_<>:. "

// undecorate takes the frame off a line: "*** Reboot complete ***" is
// "Reboot complete", "[ Alice has connected ]" is "Alice has connected",
// "| Name |" is "Name". Punctuation that belongs to the words (a full stop,
// an ellipsis) is kept.
func undecorate(line string) string {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "[ ") && strings.HasSuffix(t, " ]") {
		return strings.TrimSpace(t[2 : len(t)-2])
	}
	lead := len(t) - len(strings.TrimLeft(t, decoration))
	if lead >= 2 || lead == 1 && strings.ContainsAny(t[:1], "*=~#|+") {
		t = strings.TrimLeft(t, decoration)
	}
	end := strings.TrimRight(t, decoration)
	if trail := t[len(end):]; strings.Count(trail, "*")+strings.Count(trail, "=")+strings.Count(trail, "-")+
		strings.Count(trail, "~")+strings.Count(trail, "#")+strings.Count(trail, "|") >= 2 || strings.TrimSpace(trail) == "|" {
		t = end
	}
	return t
}
