package server

import (
	"strconv"
	"strings"
	"time"

	"talker/player"
)

// Review buffers: the last lines said in each room, and the last tells of
// each session, so that someone who looked away can catch up. Both live in
// memory only and are carried across reboots (the rooms' in the system
// state, a session's in its record: see state.go).

// reviewSize is how many lines each buffer keeps.
const reviewSize = 20

// ReviewLine is one remembered line: when, who made it (a player key, so
// that someone ignoring them does not see it again), and the text as
// others saw it (colour codes included).
type ReviewLine struct {
	At   time.Time
	From string `json:",omitempty"`
	Text string
}

// remember appends a line to a buffer, keeping the last reviewSize.
func remember(buf []ReviewLine, l ReviewLine) []ReviewLine {
	if len(buf) >= reviewSize {
		buf = append(buf[:0:0], buf[len(buf)-reviewSize+1:]...)
	}
	return append(buf, l)
}

// rememberInRoom records a line said in a room.
func (w *World) rememberInRoom(r *Room, from *Session, msg string) {
	if w.review == nil {
		w.review = map[string][]ReviewLine{}
	}
	w.review[r.ID] = remember(w.review[r.ID], ReviewLine{At: w.cfg.Now(), From: from.Player.Key(), Text: msg})
}

// rememberTell records a tell in a session's own buffer.
func (w *World) rememberTell(s *Session, from *Session, msg string) {
	s.TellReview = remember(s.TellReview, ReviewLine{At: w.cfg.Now(), From: from.Player.Key(), Text: msg})
	w.touch(s)
}

func reviewCommands() []*command {
	return []*command{
		{name: "review", category: "Information", usage: "review [tells]",
			summary: "show the last lines said in this room",
			help: "Shows the last " + strconv.Itoa(reviewSize) + " things said, emoted or thought in the room you are in, with the time of each, " +
				"so that you can catch up on a conversation. Lines from people you ignore are left out. " +
				"'review tells' is the same as 'recap'.",
			run: (*World).cmdReview},
		{name: "recap", aliases: []string{"revtell"}, category: "Information", usage: "recap",
			summary: "show the last tells you sent and got",
			help: "Shows the last " + strconv.Itoa(reviewSize) + " tells, remote emotes and whispers you sent or got this session, with the time of each. " +
				"They are kept across a reboot but not after you log out.",
			run: func(w *World, s *Session, _ string) { w.showReview(s, s.TellReview, "tells") }},
	}
}

func (w *World) cmdReview(s *Session, args string) {
	if strings.HasPrefix("tells", strings.ToLower(args)) && args != "" {
		w.showReview(s, s.TellReview, "tells")
		return
	}
	w.showReview(s, w.review[s.room.ID], "said in "+s.room.Name)
}

func (w *World) showReview(s *Session, lines []ReviewLine, what string) {
	var shown []ReviewLine
	for _, l := range lines {
		if l.From == "" || !s.Player.Ignores(l.From, player.IgnoreRoom) {
			shown = append(shown, l)
		}
	}
	if len(shown) == 0 {
		if what == "tells" {
			s.println("Nobody has told you anything yet, and you have told nobody anything.")
		} else {
			s.println("Nothing has been said here yet.")
		}
		return
	}
	s.println("The last " + plural(len(shown), "line") + " " + map[bool]string{true: "of tells", false: what}[what == "tells"] + ":")
	for _, l := range shown {
		s.println("[" + l.At.Format("15:04") + "] " + l.Text)
	}
}
