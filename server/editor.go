package server

import (
	"strings"

	"talker/server/text"
)

// The editor: multi-line text (a mail, a description) typed a line at a
// time, as in classic talkers' editors. Each line typed is added to the
// text; a line that is one of the dot commands below is not:
//
//	.        finish (send the mail, set the description)
//	.q       abandon (also .quit, .abort)
//	.l       list the lines so far (also .list)
//	.d       delete the last line (also .del)
//	.h       this help (also .help, .?)
//
// The text and what it is for are the session's (Session.Editor), carried
// by reboots and checkpoints: a player halfway through a mail is still
// there after either, with every line typed so far.

// Editor is a text being written: what for (Target: editMail, editDesc),
// the mail's recipient (To) and the lines so far.
type Editor struct {
	Target string
	To     string
	Lines  []string
}

// What the editor writes.
const (
	editMail = "mail"
	editDesc = "desc"
)

// Bounds of a text, by target.
const (
	maxMailLines = 100
	maxMailBytes = 8192
	maxDescLines = 20
	maxDescBytes = 2000
)

const editorPrompt = "] "

const editorHelp = "Type your text a line at a time. A line with only '.' finishes, '.q' (or '.abort') abandons it, " +
	"'.l' lists what you have typed, '.d' deletes the last line and '.h' shows this help."

// bounds are the most lines and bytes a text for target may have.
func editorBounds(target string) (lines, size int) {
	if target == editDesc {
		return maxDescLines, maxDescBytes
	}
	return maxMailLines, maxMailBytes
}

// startEditor puts the player in the editor, with the lines given (an
// existing text to change, or none).
func (w *World) startEditor(s *Session, target, to, what string) {
	s.Editor = &Editor{Target: target, To: to}
	lines, size := editorBounds(target)
	s.println("Writing " + what + " (up to " + itoa(lines) + " lines, " + itoa(size) + " characters).")
	s.println(editorHelp)
}

// size is the text's length in bytes, with a line end after each line.
func (e *Editor) size() int {
	n := 0
	for _, l := range e.Lines {
		n += len(l) + 1
	}
	return n
}

// editorLine handles a line typed in the editor.
func (w *World) editorLine(s *Session, raw []byte) {
	s.textPrompted = false // the player's line ended the prompt's
	e := s.Editor
	line := text.Clean(raw)
	switch strings.ToLower(line) {
	case ".":
		s.Editor = nil
		w.finishEditor(s, e)
	case ".q", ".quit", ".abort":
		s.Editor = nil
		s.println("Abandoned: nothing was " + map[bool]string{true: "sent", false: "changed"}[e.Target == editMail || e.Target == editNews] + ".")
	case ".l", ".list":
		if len(e.Lines) == 0 {
			s.println("(Nothing typed yet.)")
		}
		for i, l := range e.Lines {
			s.println(pad(itoa(i+1)+":", 4) + l + "^N")
		}
	case ".d", ".del":
		if len(e.Lines) == 0 {
			s.println("There is no line to delete.")
			break
		}
		last := e.Lines[len(e.Lines)-1]
		e.Lines = e.Lines[: len(e.Lines)-1 : len(e.Lines)-1] // a new line is appended to a copy
		s.println("Deleted line " + itoa(len(e.Lines)+1) + ": " + last + "^N")
	case ".h", ".help", ".?":
		s.println(editorHelp)
	default:
		if len(line) > 1 && line[0] == '.' && !strings.ContainsAny(line[1:], " .,!?'\"") {
			s.println("'" + line + "' is not an editor command (nothing added): '.h' lists them.")
			break
		}
		maxLines, maxSize := editorBounds(e.Target)
		if len(e.Lines) >= maxLines || e.size()+len(line)+1 > maxSize {
			s.println("The text is full (" + itoa(maxLines) + " lines, " + itoa(maxSize) +
				" characters): that line was not added. '.' finishes, '.d' deletes the last line.")
			break
		}
		e.Lines = append(e.Lines, line)
	}
	w.sendPrompt(s)
}

// finishEditor does what the text was written for.
func (w *World) finishEditor(s *Session, e *Editor) {
	for len(e.Lines) > 0 && e.Lines[len(e.Lines)-1] == "" {
		e.Lines = e.Lines[:len(e.Lines)-1] // blank lines at the end
	}
	body := strings.Join(e.Lines, "\n")
	switch e.Target {
	case editMail:
		if body == "" {
			s.println("Your mail was empty: nothing was sent.")
			return
		}
		if p, online, ok := w.mailRecipient(s, e.To); ok {
			w.deliverMail(s, p, online, body)
		}
	case editNews:
		w.finishNews(s, e.To, body) // cmd_news.go
	case editDesc:
		if body == "" {
			s.println("You typed nothing: your description is unchanged. ('description -' removes it.)")
			return
		}
		s.Player.Description = body
		w.save(s.Player)
		s.println("Your description is now:")
		s.println(body + "^N")
	}
}
