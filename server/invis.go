package server

import (
	"talker/player"
	"talker/server/store"
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

// comesAndGoesUnseen says whether p's logins and logouts are seen by
// nobody below their rank: an invisible member of staff. Those leave
// p.LastSeen alone, so that it stays the last time everyone could see
// them (their last visible logout or login, or turning invisible or
// visible), which is what 'last' and 'examine' show to everyone; a login
// that moved it would tell lower ranks that they are on.
func comesAndGoesUnseen(p *player.Player) bool { return p.Invisible && p.Rank >= staffRank }

// leftTalkerText is what the room hears when someone logs out.
func leftTalkerText(p *player.Player) string { return p.Name + " has left the talker." }

// seemToLogOut shows those for whom only is true, and who can see s now,
// what s logging out would show them (World.logout): Room.RemovePlayer
// and the line to the room, then the talker's announcement; s stays.
func (w *World) seemToLogOut(s *Session, only func(o *Session) bool) {
	if r := s.room; r != nil {
		gone := &gmcpOnce{name: "Room.RemovePlayer", body: s.Player.Name}
		for _, m := range r.Members {
			if m != s && only(m) && w.gmcpVisible(m, s) {
				gone.sendTo(m)
			}
		}
		// logout counts the room without s (it has left it).
		if len(r.Members)-1 < w.cfg.AnnounceAll {
			lines := newLineCache(leftTalkerText(s.Player), true)
			for _, m := range r.Members {
				if m != s && only(m) && !w.hiddenFrom(m, s) {
					lines.sendTo(m)
				}
			}
		}
	}
	w.announceLoginTo(s, false, len(w.online)-1, only) // without s, as logout counts
}

// seemToLogIn shows those for whom only is true, and who can see s now,
// what s logging in would show them (World.enter): the talker's
// announcement, then the arrival in the room and Room.AddPlayer.
func (w *World) seemToLogIn(s *Session, only func(o *Session) bool) {
	w.announceLoginTo(s, true, len(w.online), only)
	r := s.room
	if r == nil {
		return
	}
	if len(r.Members) <= w.cfg.AnnounceAll { // as moveTo counts, with s in the room
		lines := newLineCache(s.Player.Name+" "+arriveText(s.Player), true)
		for _, m := range r.Members {
			if m != s && only(m) && !w.hiddenFrom(m, s) {
				lines.sendTo(m)
			}
		}
	}
	add := &gmcpOnce{name: "Room.AddPlayer", body: gmcpPlayerOf(s)}
	for _, m := range r.Members {
		if m != s && only(m) && w.gmcpVisible(m, s) {
			add.sendTo(m)
		}
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
	// Those who are about to lose sight of s (or gain it) see exactly what
	// a logout (or a login) shows them, text and GMCP, so that the wording
	// cannot tell invisibility from leaving; and 'last' and 'examine' say
	// they were last seen now, as they would after a logout (LastSeen).
	below := func(o *Session) bool { return o != s && o.Player != nil && o.Player.Rank < s.Player.Rank }
	if on {
		w.seemToLogOut(s, below) // while they can still see s
		s.Player.Invisible = true
	} else {
		s.Player.Invisible = false
		w.seemToLogIn(s, below) // once they can see s
	}
	if s.room != nil {
		s.room.recountHidden()
	}
	s.Player.LastSeen = w.cfg.Now()
	w.save(s.Player)
	w.touch(s)
	if on {
		s.println("You are now invisible to everyone below your rank.")
	} else {
		s.println("You are visible again.")
	}
	// Staff below s would learn from this line what the rest of this
	// hides from them: only s's rank and above are told (and 'stafflog'
	// leaves it out for the others: invisLogHidden).
	w.staffLogFor(s.Player.Rank, s.Player.Name, s, map[bool]string{true: "invis", false: "vis"}[on], "", "")
}

// invisLogHidden says whether the staff log entry a is someone turning
// invisible or visible whom viewer is below, which 'stafflog' leaves out
// for them (it would tell them what invisibility hides). The actor's
// present rank decides; an actor with no account any more hides nothing.
func (w *World) invisLogHidden(viewer *Session, a store.StaffAction) bool {
	if a.Action != "invis" && a.Action != "vis" {
		return false
	}
	var actor *player.Player
	if o := w.online[player.Key(a.Actor)]; o != nil {
		actor = o.Player
	} else if p, err := w.store.Player(a.Actor); err == nil {
		actor = p
	}
	return actor != nil && actor.Key() != viewer.Player.Key() && actor.Rank > viewer.Player.Rank
}
