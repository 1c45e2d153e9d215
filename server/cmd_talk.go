package server

import (
	"strings"

	"talker/player"
)

// allCommands lists every command the talker knows.
func allCommands() []*command {
	var all []*command
	all = append(all, talkCommands()...)
	all = append(all, infoCommands()...)
	all = append(all, selfCommands()...)
	all = append(all, adminCommands()...)
	all = append(all, crashCommands()...)
	return all
}

func talkCommands() []*command {
	return []*command{
		{name: "say", shortcuts: `'"`, category: "Talking", usage: "say <message>",
			summary: "say something to everyone in the room",
			help:    "Everyone in the room with you hears what you say. A message ending in '?' is asked and one ending in '!' is exclaimed. Shortcuts: 'hello or \"hello.",
			run:     (*World).cmdSay},
		{name: "emote", shortcuts: ":;", aliases: []string{"me"}, category: "Talking", usage: "emote <action>",
			summary: "act something out in the room",
			help:    "Shows your name followed by the text to everyone in the room: ':waves' shows 'Alice waves'. Start with an apostrophe for a possessive: \":'s hat is green\" shows \"Alice's hat is green\".",
			run:     (*World).cmdEmote},
		{name: "think", category: "Talking", usage: "think <thought>",
			summary: "think out loud in the room",
			help:    "Everyone in the room sees your thought bubble: Alice thinks . o O ( tea? )",
			run:     (*World).cmdThink},
		{name: "tell", shortcuts: ">", category: "Talking", usage: "tell <name>[,<name>...] <message>",
			summary: "say something privately to someone anywhere",
			help:    "Sends a private message to one or more people wherever they are. Separate several names with commas: '>bob,carol lunch?'. They can answer with 'reply'.",
			run:     (*World).cmdTell},
		{name: "remote", shortcuts: "<", aliases: []string{"pemote"}, category: "Talking", usage: "remote <name> <action>",
			summary: "emote privately to someone anywhere",
			help:    "Like emote, but only the person named sees it, wherever they are: '<bob waves' shows Bob 'Alice waves'.",
			run:     (*World).cmdRemote},
		{name: "reply", aliases: []string{"re"}, category: "Talking", usage: "reply <message>",
			summary: "answer the last person who told you something",
			help:    "Sends a tell to the last person who sent you a tell or a remote emote.",
			run:     (*World).cmdReply},
		{name: "shout", shortcuts: "!", category: "Talking", usage: "shout <message>",
			summary: "say something to everyone on the talker",
			help:    "Everyone logged in hears a shout, whichever room they are in. Use it sparingly.",
			run:     (*World).cmdShout},
	}
}

// sayVerb picks the verb for a message by its last character.
func sayVerb(msg string) (you, they string) {
	switch {
	case strings.HasSuffix(msg, "?"):
		return "ask", "asks"
	case strings.HasSuffix(msg, "!"):
		return "exclaim", "exclaims"
	default:
		return "say", "says"
	}
}

func (w *World) cmdSay(s *Session, args string) {
	if args == "" {
		usage(s, "say", w)
		return
	}
	you, they := sayVerb(args)
	s.println("You " + you + " '" + args + "'")
	w.toRoom(s.room, s, s.Player.Name+" "+they+" '"+args+"'")
}

// emoteText joins a name and an action: "Alice waves", "Alice's hat".
func emoteText(name, action string) string {
	if strings.HasPrefix(action, "'") || strings.HasPrefix(action, ",") {
		return name + action
	}
	return name + " " + action
}

func (w *World) cmdEmote(s *Session, args string) {
	if args == "" {
		usage(s, "emote", w)
		return
	}
	w.toRoom(s.room, nil, emoteText(s.Player.Name, args))
}

func (w *World) cmdThink(s *Session, args string) {
	if args == "" {
		usage(s, "think", w)
		return
	}
	w.toRoom(s.room, nil, s.Player.Name+" thinks . o O ( "+args+" )")
}

// recipients resolves a comma-separated list of online names.
func (w *World) recipients(s *Session, names string) []*Session {
	var out []*Session
	seen := map[*Session]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		r, msg := w.findOnline(n)
		if r == nil {
			s.println(msg)
			continue
		}
		if r == s {
			s.println("Talking to yourself is the first sign of madness.")
			continue
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func names(ss []*Session) string {
	n := make([]string, len(ss))
	for i, s := range ss {
		n[i] = s.Player.Name
	}
	if len(n) <= 1 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

func (w *World) cmdTell(s *Session, args string) {
	to, msg, _ := strings.Cut(args, " ")
	msg = strings.TrimSpace(msg)
	if to == "" || msg == "" {
		usage(s, "tell", w)
		return
	}
	w.tell(s, w.recipients(s, to), msg)
}

func (w *World) tell(s *Session, rs []*Session, msg string) {
	if len(rs) == 0 {
		return
	}
	you, they := sayVerb(msg)
	for _, r := range rs {
		if len(rs) > 1 {
			r.println(s.Player.Name + " " + they + " you (and " + names(others(rs, r)) + ") '" + msg + "'")
		} else {
			r.println(s.Player.Name + " " + they + " you '" + msg + "'")
		}
		r.ReplyTo = s.Player.Key()
		w.touch(r)
		w.afkNotice(s, r)
	}
	s.println("You " + you + " " + names(rs) + " '" + msg + "'")
}

func others(all []*Session, but *Session) []*Session {
	out := make([]*Session, 0, len(all)-1)
	for _, s := range all {
		if s != but {
			out = append(out, s)
		}
	}
	return out
}

// afkNotice tells a sender that the person they reached is away.
func (w *World) afkNotice(from, to *Session) {
	if !to.AFK {
		return
	}
	msg := to.Player.Name + " is AFK"
	if to.AFKMessage != "" {
		msg += ": " + to.AFKMessage
	}
	from.println("(" + msg + ")")
}

func (w *World) cmdRemote(s *Session, args string) {
	to, action, _ := strings.Cut(args, " ")
	action = strings.TrimSpace(action)
	if to == "" || action == "" {
		usage(s, "remote", w)
		return
	}
	rs := w.recipients(s, to)
	if len(rs) == 0 {
		return
	}
	line := emoteText(s.Player.Name, action)
	for _, r := range rs {
		r.println(line)
		r.ReplyTo = s.Player.Key()
		w.touch(r)
		w.afkNotice(s, r)
	}
	s.println("You emote to " + names(rs) + ": " + line)
}

func (w *World) cmdReply(s *Session, args string) {
	if args == "" {
		usage(s, "reply", w)
		return
	}
	if s.ReplyTo == "" {
		s.println("Nobody has told you anything yet.")
		return
	}
	r := w.online[s.ReplyTo]
	if r == nil {
		s.println("The person you would reply to is no longer logged in.")
		return
	}
	w.tell(s, []*Session{r}, args)
}

func (w *World) cmdShout(s *Session, args string) {
	if args == "" {
		usage(s, "shout", w)
		return
	}
	you, they := sayVerb(args)
	if they == "says" {
		you, they = "shout", "shouts"
	}
	s.println("You " + you + " '" + args + "'")
	w.toAllExcept(s, s.Player.Name+" "+they+" '"+args+"'")
}

// rankMark is the who-list mark for staff ranks.
func rankMark(r player.Rank) string {
	switch {
	case r >= player.Admin:
		return "*"
	case r >= player.Staff:
		return "^"
	case r == player.Newbie:
		return "_"
	default:
		return " "
	}
}
