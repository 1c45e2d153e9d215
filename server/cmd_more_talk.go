package server

import (
	"strings"

	"talker/player"
	"talker/server/text"
)

// More ways of talking, from the classic sets (talkers.md): echo (Amnuts'
// '+'), sing, the private thought bubble, and tells and emotes to every
// friend who is on (PG+'s ft/fe).

func moreTalkCommands() []*command {
	return []*command{
		{name: "echo", talk: true, shortcuts: "+", minRank: player.Resident, category: "Talking", usage: "echo <text>",
			summary: "show text to the room with no name in front",
			help: "Everyone in the room sees the text on its own, with no name in front: '+The lights flicker.' " +
				"It can never pass for the talker's own announcements (a line starting with a star is moved over a column), " +
				"and staff see who echoed it.",
			run: (*World).cmdEcho},
		{name: "sing", talk: true, category: "Talking", usage: "sing <song>",
			summary: "sing something to the room",
			help:    "Everyone in the room hears you sing: Alice sings o/~ la la la o/~",
			run:     (*World).cmdSing},
		{name: "rthink", talk: true, aliases: []string{"thinkto"}, category: "Talking", usage: "rthink <name>[,<name>...] <thought>",
			summary: "think at someone privately, anywhere",
			help: "Only the people named see your thought bubble, wherever they are: 'rthink bob tea?' shows Bob " +
				"'Alice thinks . o O ( tea? )'. They can answer with 'reply'. ('think' shows it to the room.)",
			run: (*World).cmdRthink},
		{name: "friendtell", talk: true, aliases: []string{"ft", "tf"}, category: "Talking", usage: "ft <message>",
			summary: "tell all your friends who are on at once",
			help: "Sends a tell to every friend of yours who is logged in (see 'help friend'): 'ft anyone for tea?'. " +
				"Each sees '(to friends)' so they know the others heard it too; friends who ignore your tells do not get it.",
			run: (*World).cmdFriendTell},
		{name: "friendemote", talk: true, aliases: []string{"fe"}, category: "Talking", usage: "fe <action>",
			summary: "emote to all your friends who are on",
			help:    "Like 'remote', to every friend of yours who is logged in: 'fe waves' shows them '(to friends) Alice waves'.",
			run:     (*World).cmdFriendEmote},
	}
}

func (w *World) cmdEcho(s *Session, args string) {
	if args == "" {
		usage(s, "echo", w)
		return
	}
	// Guard moves a line that would start with a star over by a column,
	// so that an echo can never look like "*** ..." (text.Marker); Wrap
	// does the same for every line after the first.
	line := text.Guard(args)
	s.hear("You echo: " + args)
	plain := newLineCache(line, true)
	signed := newLineCache(line+"  [echo by "+s.Player.Name+"]", true)
	for _, m := range s.room.Members {
		switch {
		case m == s || w.ignoring(m, s, player.IgnoreRoom):
		case m.Player.Rank >= staffRank:
			signed.sendTo(m)
		default:
			plain.sendTo(m)
		}
	}
	w.rememberInRoom(s.room, s, line)
}

func (w *World) cmdSing(s *Session, args string) {
	if args == "" {
		usage(s, "sing", w)
		return
	}
	w.roomTalk(s, "You sing o/~ "+args+" o/~", s.Player.Name+" sings o/~ "+args+" o/~")
}

func (w *World) cmdRthink(s *Session, args string) {
	to, thought, _ := strings.Cut(args, " ")
	thought = strings.TrimSpace(thought)
	if to == "" || thought == "" {
		usage(s, "rthink", w)
		return
	}
	rs := w.recipients(s, to)
	if len(rs) == 0 {
		return
	}
	line := s.Player.Name + " thinks . o O ( " + thought + " )"
	for _, r := range rs {
		w.deliverTell(s, r, line)
	}
	mine := "You think at " + names(rs) + ": . o O ( " + thought + " )"
	s.hear(mine)
	w.rememberTell(s, s, mine)
}

// onlineFriends is the session's friends who are on, can see it (or it
// them) and do not ignore its tells, in name order.
func (w *World) onlineFriends(s *Session) []*Session {
	var out []*Session
	for _, o := range w.playing() {
		if o != s && s.Player.IsFriend(o.Player.Key()) && !w.hiddenFrom(s, o) && !w.ignoring(o, s, player.IgnoreTells) {
			out = append(out, o)
		}
	}
	return out
}

func (w *World) cmdFriendTell(s *Session, args string) {
	if args == "" {
		usage(s, "friendtell", w)
		return
	}
	rs := w.onlineFriends(s)
	if len(rs) == 0 {
		s.println("None of your friends is on to hear it ('fwho' lists them).")
		return
	}
	you, they := tellVerb(args)
	for _, r := range rs {
		w.deliverTell(s, r, "(to friends) "+s.Player.Name+" "+they+" you '"+args+"'")
	}
	mine := "You " + you + " your friends (" + names(rs) + ") '" + args + "'"
	s.hear(mine)
	w.rememberTell(s, s, mine)
}

func (w *World) cmdFriendEmote(s *Session, args string) {
	if args == "" {
		usage(s, "friendemote", w)
		return
	}
	rs := w.onlineFriends(s)
	if len(rs) == 0 {
		s.println("None of your friends is on to see it ('fwho' lists them).")
		return
	}
	line := emoteText(s.Player.Name, args)
	for _, r := range rs {
		w.deliverTell(s, r, "(to friends) "+line)
	}
	mine := "You emote to your friends (" + names(rs) + "): " + line
	s.hear(mine)
	w.rememberTell(s, s, mine)
}
