package server

import (
	"errors"
	"strings"
	"time"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

func infoCommands() []*command {
	return []*command{
		{name: "who", aliases: []string{"w"}, category: "Information", usage: "who",
			summary: "list who is logged in",
			help:    "Lists everyone logged in with their title, where they are and how long they have been idle. Marks: * admin, ^ staff, _ newbie.",
			run:     (*World).cmdWho},
		{name: "look", aliases: []string{"l"}, category: "Information", usage: "look",
			summary: "look around the room you are in",
			help:    "Describes the room you are in, its exits and who is here.",
			run:     func(w *World, s *Session, _ string) { w.look(s) }},
		{name: "examine", aliases: []string{"x", "finger"}, category: "Information", usage: "examine <name>",
			summary: "find out about someone, logged in or not",
			help:    "Shows a person's title, description, rank, and when they were last on (or how long they have been on and idle). Works for people who are not logged in.",
			run:     (*World).cmdExamine},
		{name: "idle", category: "Information", usage: "idle [name]",
			summary: "see how long people have been idle",
			help:    "With a name, shows how long that person has been idle. Without, shows the idle times of everyone in your room.",
			run:     (*World).cmdIdle},
		{name: "rooms", category: "Information", usage: "rooms",
			summary: "list every room and how many are in each",
			help: "Lists the talker's rooms with the number of people in each; players' own rooms are listed while someone is in them. " +
				"Use 'go <room>' to move to a room next to yours, 'visit <name>' to go to someone's home.",
			run: (*World).cmdRooms},
		{name: "exits", category: "Moving", usage: "exits",
			summary: "list the rooms you can go to from here",
			help:    "Lists the rooms next to yours; 'go <room>' takes you to one of them.",
			run:     func(w *World, s *Session, _ string) { s.println(w.exitsLine(s.room)) }},
		{name: "go", category: "Moving", usage: "go <room>",
			summary: "move to a room next to yours",
			help: "Moves you through an exit to a neighbouring room. You may type the start of the room's name. 'exits' lists where you can go. " +
				"A locked room lets in only its owner and those they have invited.",
			run: (*World).cmdGo},
		{name: "home", category: "Moving", usage: "home",
			summary: "go back to your home room",
			help: "Takes you straight to your home room from anywhere. Residents get a room of their own the first time they type it " +
				"(see 'help room'); newbies go to the main room.",
			run: (*World).cmdHome},
		{name: "help", aliases: []string{"?", "commands"}, category: "Information", usage: "help [command|topic]",
			summary: "list commands and topics, or explain one",
			help: "With no argument, lists every command you can use, then any other help topics the admins have written. " +
				"'help <command>' explains one, including its shortcuts; 'help <topic>' shows a topic.",
			run: (*World).cmdHelp},
		{name: "rules", category: "Information", usage: "rules",
			summary: "read the talker's rules",
			help:    "Shows the rules of this talker, as its admins wrote them.",
			run:     (*World).cmdRules},
	}
}

func (w *World) cmdWho(s *Session, _ string) {
	now := w.cfg.Now()
	list := w.visibleTo(s) // invisible staff are left out for lower ranks (invis.go)
	s.println("There " + map[bool]string{true: "is", false: "are"}[len(list) == 1] + " " + plural(len(list), "person") + " on " + w.cfg.Name + ":")
	reader := s.screenReader()
	for _, p := range list {
		line := rankMark(p.Player.Rank) + " " + displayName(p.Player) + invisibleMark(p.Player)
		if reader {
			// Read aloud: the rank in words, no marks or padding.
			line = displayName(p.Player)
			if r := rankWord(p.Player.Rank); r != "" {
				line += ", " + r
			}
		}
		var notes []string
		if p.room != nil {
			notes = append(notes, p.room.ID)
		}
		if idle := now.Sub(p.LastInput); idle >= time.Minute {
			notes = append(notes, "idle "+ago(idle))
		}
		if p.AFK {
			notes = append(notes, "AFK")
		}
		if p.linkDead != nil {
			notes = append(notes, "link-dead") // linkdead.go
		}
		switch {
		case reader && len(notes) > 0 && p.room != nil:
			line += ", in " + strings.Join(notes, ", ") + "."
		case reader && len(notes) > 0:
			line += ", " + strings.Join(notes, ", ") + "."
		case reader:
			line += "."
		case len(notes) > 0:
			line += "  [" + strings.Join(notes, ", ") + "]"
		}
		s.println(line)
	}
	if !reader {
		s.println(whoLegend)
	}
}

// rankWord is a rank as 'who' reads it to a screen reader: "" for a
// resident, as rankMark shows none.
func rankWord(r player.Rank) string {
	switch {
	case r >= player.Admin:
		return "admin"
	case r >= player.Staff:
		return "staff"
	case r == player.Newbie:
		return "newbie"
	}
	return ""
}

// whoLegend explains the marks before the names in 'who' (rankMark).
const whoLegend = "(* admin, ^ staff, _ newbie)"

func (w *World) cmdExamine(s *Session, args string) {
	name := strings.TrimSpace(args)
	if name == "" {
		name = s.Player.Name
	}
	now := w.cfg.Now()
	var p *player.Player
	var online *Session
	if o, _ := w.findOnline(name); o != nil && !w.hiddenFrom(s, o) {
		online, p = o, o.Player
	} else {
		var err error
		p, err = w.store.Player(name)
		if errors.Is(err, store.ErrNotFound) {
			s.println("There is nobody called '" + name + "' on " + w.cfg.Name + ".")
			return
		}
		if err != nil {
			w.log.Error().Err(err).Msg("examine: load failed")
			s.println("Sorry, that could not be looked up just now.")
			return
		}
	}
	s.println(displayName(p))
	if p.Description != "" {
		s.println(text.Guard(p.Description))
	}
	w.showProfile(s, p) // profile.go
	s.println("Rank: " + p.Rank.String() + ". Registered " + ago(now.Sub(p.CreatedAt)) + " ago.")
	total := p.TimeOnline
	if online != nil {
		total += now.Sub(online.LoggedInAt)
		status := "Logged in for " + ago(now.Sub(online.LoggedInAt)) + ", idle " + ago(now.Sub(online.LastInput))
		if online.room != nil {
			status += ", in " + online.room.Name
		}
		s.println(status + ".")
		if online.AFK {
			msg := "AFK"
			if online.AFKMessage != "" {
				msg += ": " + online.AFKMessage
			}
			s.println(msg)
		}
		if s.Player.Rank >= player.Staff {
			if c := online.clientLine(); c != "" {
				s.println(c) // what the client said it is (gmcp.go)
			}
		}
	} else if !p.LastSeen.IsZero() {
		s.println("Last seen " + ago(now.Sub(p.LastSeen)) + " ago.")
	} else {
		s.println("Has never logged in.")
	}
	s.println("Total time on the talker: " + ago(total) + ".")
	if s.Player.Rank >= player.Staff && (p.Gagged || p.Jailed) {
		var flags []string
		if p.Gagged {
			flags = append(flags, "gagged")
		}
		if p.Jailed {
			flags = append(flags, "in jail")
		}
		s.println("[staff] " + p.Name + " is " + strings.Join(flags, " and ") + ".")
	}
}

func (w *World) cmdIdle(s *Session, args string) {
	now := w.cfg.Now()
	if args != "" {
		o, msg := w.findVisible(s, args) // invis.go
		if o == nil {
			s.println(msg)
			return
		}
		s.println(o.Player.Name + " has been idle for " + ago(now.Sub(o.LastInput)) + ".")
		return
	}
	for _, m := range s.room.Members {
		if w.hiddenFrom(s, m) {
			continue
		}
		line := pad(m.Player.Name, 18) + ago(now.Sub(m.LastInput))
		if m.AFK {
			line += " (AFK)"
		}
		s.println(line)
	}
}

func (w *World) cmdRooms(s *Session, _ string) {
	ids := make([]string, 0, len(w.rooms))
	for id := range w.rooms {
		ids = append(ids, id)
	}
	sortStrings(ids)
	for _, id := range ids {
		r := w.rooms[id]
		if r.Owner != "" && w.seenIn(s, r) == 0 {
			continue // personal rooms are listed while someone is in them
		}
		line := pad(r.ID, 14) + pad(r.Name, 28)
		if n := w.seenIn(s, r); n > 0 { // invisible staff not counted for lower ranks (invis.go)
			line += plural(n, "person")
		} else {
			line += "empty"
		}
		if r.Locked {
			line += " (locked)"
		}
		s.println(line)
	}
}
