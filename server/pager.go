package server

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"talker/server/text"
)

// The pager: the output of a player's own command, when it is longer than
// a page, is shown a page at a time, with a prompt for the next. A page is
// the player's 'pager' setting or, by default, their window's height (from
// NAWS) less a line for the prompt; a client that sent no size is not
// paged. Only a reply to the player's command is paged: what others say
// meanwhile is shown as it arrives, never held back.
//
// The text and the place in it are the session's (Session.Pager), carried
// by reboots and checkpoints: a player halfway through is still there
// after either.

// Pager is a command's output being read a page at a time: its lines as
// rendered for the player (colour and wrapping done, telnet-escaped,
// without line ends), and the first line of the page last shown.
type Pager struct {
	Lines []string
	Top   int
}

const (
	minPageLines = 5
	maxPageLines = 500
)

var crlf = []byte("\r\n")

func pagerCommands() []*command {
	return []*command{
		{name: "pager", category: "Yourself", usage: "pager [<lines> | auto | off]",
			summary: "set how long a page of long output is",
			help: "The output of your own commands (help, who, look, mail...) that is longer than a page is shown a page at a time, " +
				"ending with '-- more (NN%) [Return] next, [b]ack, [t]op, [q]uit --'. " +
				"At that prompt, Return (or space, n or f) shows the next page, b (or p) the one before, t the first, q stops reading; " +
				"anything else stops reading and runs as a command. What others say meanwhile is shown as it arrives. " +
				"'pager <lines>' sets the page length (" + itoa(minPageLines) + " to " + itoa(maxPageLines) + "); " +
				"'pager auto' pages by your window's height, as your client reports it (the default; a client that reports none is not paged); " +
				"'pager off' never pages. 'pager' alone shows the setting. The setting is kept for next time.",
			run: (*World).cmdPager},
	}
}

func (w *World) cmdPager(s *Session, args string) {
	p := s.Player
	switch a := strings.ToLower(strings.TrimSpace(args)); a {
	case "":
		switch {
		case p.Pager < 0:
			s.println("Your pager is off: long output is shown whole.")
		case p.Pager > 0:
			s.println("Your pages are " + itoa(p.Pager) + " lines long.")
		case s.Telnet.Height > 0:
			s.println("Your pages follow your window's height (" + itoa(s.Telnet.Height) + " lines, less one for the prompt).")
		default:
			s.println("Your pages follow your window's height, which your client has not reported: long output is shown whole.")
		}
		return
	case "off", "no", "0":
		p.Pager = -1
		s.println("Your pager is off.")
	case "auto", "on", "yes":
		p.Pager = 0
		s.println("Your pages follow your window's height.")
	default:
		n, err := strconv.Atoi(a)
		if err != nil || n < minPageLines || n > maxPageLines {
			usage(s, "pager", w)
			s.println("A page is " + itoa(minPageLines) + " to " + itoa(maxPageLines) + " lines long.")
			return
		}
		p.Pager = n
		s.println("Your pages are now " + itoa(n) + " lines long.")
	}
	w.save(p)
}

// pageLength is how many lines of text a page holds for s: 0 for no
// paging.
func (s *Session) pageLength() int {
	if s.Player != nil && s.Player.Pager != 0 {
		if s.Player.Pager < 0 {
			return 0
		}
		return max(s.Player.Pager, minPageLines)
	}
	if s.Telnet.Height <= 0 {
		return 0
	}
	return max(s.Telnet.Height-1, minPageLines)
}

// startCapture begins collecting what is sent to s, while its player's
// own command runs; endCapture sends it, a page at a time if it is longer
// than a page.
func (s *Session) startCapture() {
	buf := make([]byte, 0, 512)
	s.capture = &buf
}

func (w *World) endCapture(s *Session) {
	if s.capture == nil {
		return
	}
	out := *s.capture
	s.capture = nil
	n := s.pageLength()
	// Only whole lines of text are paged: output that ends at a prompt of
	// its own (a password's, say) goes as it is, and so does anything that
	// is not UTF-8 (the state format carries a page's lines as text).
	if n > 0 && w.sessions[s.ID] == s && s.Login.Stage == StagePlaying && s.Editor == nil &&
		bytes.HasSuffix(out, crlf) && bytes.Count(out, crlf) > n && utf8.Valid(out) {
		s.Pager = &Pager{Lines: strings.Split(string(out[:len(out)-2]), "\r\n")}
		s.showPage()
		return
	}
	if len(out) > 0 {
		s.send(out)
	}
}

// showPage sends the page at the pager's Top; after the last one the
// pager ends.
func (s *Session) showPage() {
	p := s.Pager
	n := max(s.pageLength(), minPageLines)
	end := min(p.Top+n, len(p.Lines))
	var b []byte
	for _, l := range p.Lines[p.Top:end] {
		b = append(b, l...)
		b = append(b, crlf...)
	}
	s.send(b)
	if end >= len(p.Lines) {
		s.Pager = nil
	}
}

// morePrompt is the pager's prompt.
func (s *Session) morePrompt() string {
	p := s.Pager
	seen := min(p.Top+max(s.pageLength(), minPageLines), len(p.Lines))
	return "-- more (" + itoa(seen*100/len(p.Lines)) + "%) [Return] next, [b]ack, [t]op, [q]uit -- "
}

// pagerLine handles a line typed at the pager's prompt.
func (w *World) pagerLine(s *Session, raw []byte) {
	s.textPrompted = false // the player's line ended the prompt's
	p := s.Pager
	n := max(s.pageLength(), minPageLines)
	switch strings.ToLower(text.Clean(raw)) {
	case "", "n", "f":
		p.Top += n
	case "b", "p":
		p.Top = max(0, p.Top-n)
	case "t":
		p.Top = 0
	case "q":
		s.Pager = nil
		w.sendPrompt(s)
		return
	default:
		// Anything else leaves the pager and is a command.
		s.Pager = nil
		w.command(s, raw)
		return
	}
	if p.Top >= len(p.Lines) {
		s.Pager = nil
	} else {
		s.showPage()
	}
	w.sendPrompt(s)
}

// textPrompt sends the pager's or the editor's prompt if the player is in
// either, and says whether it did.
func (w *World) textPrompt(s *Session) bool { return s.textPrompt() }

func (s *Session) textPrompt() bool {
	switch {
	case s.Pager != nil:
		s.prompt(s.morePrompt())
	case s.Editor != nil:
		s.prompt(editorPrompt)
	default:
		return false
	}
	s.textPrompted = true
	return true
}

// sendText sends lines of text. Lines that come while the player sits at
// the pager's or the editor's prompt (what others say, not a reply to the
// player) are never held back: they start on a line of their own, and the
// prompt follows them again, so that it stays below them and the player
// still sees where their next line goes.
func (s *Session) sendText(b []byte) {
	if !s.textPrompted || s.capture != nil {
		s.send(b)
		return
	}
	s.textPrompted = false
	s.send(crlf)
	s.send(b)
	s.textPrompt()
}
