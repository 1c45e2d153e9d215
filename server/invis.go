package server

import (
	"talker/player"
)

// Staff invisibility ('invis'): an invisible member of staff is left out
// of who, swho, where, fwho, lsu and the list of people in a room for
// everyone of a lower rank; their comings and goings (logging in and out,
// moving) are not announced to them, and a tell or examine from them finds
// nobody on. What the invisible person says or does in a room still shows
// their name: invisibility hides presence, not speech. The flag is the
// player's (stored, and carried by reboots and crash recovery).

func invisCommands() []*command {
	return []*command{
		{name: "invis", aliases: []string{"invisible"}, minRank: staffRank, category: "Staff", usage: "invis [on | off]",
			summary: "hide from the lists of lower ranks",
			help: "'invis on' takes you off who, swho, where, fwho, lsu and room lists for everyone below your rank, and your logging " +
				"in and out and moving about are not announced to them; 'invis off' (or 'vis') shows you again; 'invis' alone says which. " +
				"Staff of your rank and above still see you, marked (invisible). It lasts until you turn it off, across log-outs and reboots.",
			run: (*World).cmdInvis},
		{name: "vis", minRank: staffRank, category: "Staff", usage: "vis",
			summary: "become visible again",
			help:    "The same as 'invis off'.",
			run:     func(w *World, s *Session, _ string) { w.cmdInvis(s, "off") }},
	}
}

// hiddenFrom reports whether target, an invisible member of staff, is
// hidden from viewer: someone of a lower rank. Nobody is hidden from
// themselves.
func (w *World) hiddenFrom(viewer, target *Session) bool {
	if target == viewer || target.Player == nil || !target.Player.Invisible || target.Player.Rank < staffRank {
		return false
	}
	return viewer == nil || viewer.Player == nil || viewer.Player.Rank < target.Player.Rank
}

// findVisible is findOnline for what viewer may see: an invisible member
// of staff above them is not logged in.
func (w *World) findVisible(viewer *Session, name string) (*Session, string) {
	o, msg := w.findOnline(name)
	if o != nil && w.hiddenFrom(viewer, o) {
		return nil, "Nobody called '" + name + "' is logged in."
	}
	return o, msg
}

// visibleTo lists the logged-in sessions viewer may see, in name order.
func (w *World) visibleTo(viewer *Session) []*Session {
	all := w.playing()
	out := all[:0]
	for _, o := range all {
		if !w.hiddenFrom(viewer, o) {
			out = append(out, o)
		}
	}
	return out
}

// seenIn counts the people in room r whom viewer may see.
func (w *World) seenIn(viewer *Session, r *Room) int {
	n := 0
	for _, m := range r.Members {
		if !w.hiddenFrom(viewer, m) {
			n++
		}
	}
	return n
}

// invisibleMark is what staff who can see an invisible one read after
// their name.
func invisibleMark(p *player.Player) string {
	if p.Invisible && p.Rank >= staffRank {
		return " (invisible)"
	}
	return ""
}

func (w *World) cmdInvis(s *Session, args string) {
	if args == "" {
		s.println("You are " + map[bool]string{true: "invisible to lower ranks", false: "visible to everyone"}[s.Player.Invisible] +
			". 'invis on' or 'invis off' changes it.")
		return
	}
	on, ok := onOff(args)
	if !ok {
		usage(s, "invis", w)
		return
	}
	if on == s.Player.Invisible {
		s.println("You are already " + map[bool]string{true: "invisible", false: "visible"}[on] + ".")
		return
	}
	// Those who are about to lose sight of s (or gain it) see it go (or
	// come) as if it had logged out (or in): the room first, then the
	// talker.
	what := map[bool]string{true: "disconnected", false: "connected"}[on]
	for _, o := range w.online {
		if o != s && o.Player.Rank < s.Player.Rank && !w.ignoring(o, s, player.IgnoreRoom) {
			o.hear("[ " + s.Player.Name + " has " + what + " ]")
		}
	}
	s.Player.Invisible = on
	w.save(s.Player)
	w.touch(s)
	if on {
		s.println("You are now invisible to everyone below your rank.")
	} else {
		s.println("You are visible again.")
	}
	w.staffLog(s, map[bool]string{true: "invis", false: "vis"}[on], "", "")
}
