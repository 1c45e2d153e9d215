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
	all = append(all, listCommands()...)
	all = append(all, mailCommands()...)
	all = append(all, roomCommands()...)
	all = append(all, settingsCommands()...)
	all = append(all, reviewCommands()...)
	all = append(all, staffCommands()...)
	all = append(all, accountCommands()...)
	all = append(all, pagerCommands()...)
	all = append(all, communityCommands()...) // cmd_channels.go
	all = append(all, moreTalkCommands()...)
	all = append(all, invisCommands()...)
	all = append(all, profileCommands()...)
	all = append(all, moreInfoCommands()...)
	all = append(all, wrapCommands()...)
	all = append(all, moreStaffCommands()...)
	return all
}

func talkCommands() []*command {
	return []*command{
		{name: "say", talk: true, shortcuts: `'"`, category: "Talking", usage: "say <message>",
			summary: "say something to everyone in the room",
			help: "Everyone in the room with you hears what you say. A message ending in '?' is asked and one ending in '!' is exclaimed. Shortcuts: 'hello or \"hello. " +
				"Colour codes work here as everywhere: '^^Rred^^N' (see 'help colour').",
			run: (*World).cmdSay},
		{name: "emote", talk: true, shortcuts: ":;", aliases: []string{"me"}, category: "Talking", usage: "emote <action>",
			summary: "act something out in the room",
			help:    "Shows your name followed by the text to everyone in the room: ':waves' shows 'Alice waves'. Start with an apostrophe for a possessive: \":'s hat is green\" shows \"Alice's hat is green\".",
			run:     (*World).cmdEmote},
		{name: "think", talk: true, category: "Talking", usage: "think <thought>",
			summary: "think out loud in the room",
			help:    "Everyone in the room sees your thought bubble: Alice thinks . o O ( tea? )",
			run:     (*World).cmdThink},
		{name: "tell", talk: true, shortcuts: ">", category: "Talking", usage: "tell <name>[,<name>...] <message>",
			summary: "say something privately to someone anywhere",
			help: "Sends a private message to one or more people wherever they are. Separate several names with commas: '>bob,carol lunch?'. They can answer with 'reply'. " +
				"Someone who ignores your tells does not get it, and you are told so. 'recap' shows your last tells.",
			run: (*World).cmdTell},
		{name: "pemote", talk: true, category: "Talking", usage: "pemote <action>",
			summary: "possessive emote in the room",
			help:    "Like emote, with your name made possessive: 'pemote hat falls off' shows \"Alice's hat falls off\". Shortcut: '::hat falls off'.",
			run:     (*World).cmdPemote},
		{name: "remote", talk: true, shortcuts: "<", category: "Talking", usage: "remote <name> <action>",
			summary: "emote privately to someone anywhere",
			help:    "Like emote, but only the person named sees it, wherever they are: '<bob waves' shows Bob 'Alice waves'.",
			run:     (*World).cmdRemote},
		{name: "reply", talk: true, aliases: []string{"re"}, category: "Talking", usage: "reply <message>",
			summary: "answer the last person who told you something",
			help:    "Sends a tell to the last person who sent you a tell or a remote emote.",
			run:     (*World).cmdReply},
		{name: "shout", talk: true, shortcuts: "!", category: "Talking", usage: "shout <message>",
			summary: "say something to everyone on the talker",
			help: "Everyone logged in hears a shout, whichever room they are in, except those wearing earmuffs ('help earmuffs') " +
				"or ignoring your shouts. Use it sparingly. You cannot shout from the jail.",
			run: (*World).cmdShout},
		{name: "whisper", talk: true, shortcuts: "=", category: "Talking", usage: "whisper <name> <message>",
			summary: "say something privately to someone in the same room",
			help: "Only the person named hears the words; everyone else in the room sees that you whispered something to them. " +
				"They must be in the room with you (use 'tell' for anyone anywhere). Shortcut: '=bob psst'.",
			run: (*World).cmdWhisper},
	}
}

// tellVerb picks the verb for a tell by its message's last character:
// "You tell Bob", "Alice tells you"; "You ask Bob", "Alice asks you";
// "You exclaim to Bob", "Alice exclaims to you".
func tellVerb(msg string) (you, they string) {
	switch {
	case strings.HasSuffix(msg, "?"):
		return "ask", "asks"
	case strings.HasSuffix(msg, "!"):
		return "exclaim to", "exclaims to"
	default:
		return "tell", "tells"
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
	w.roomTalkOn(s, "say", "You "+you+" '"+args+"'", s.Player.Name+" "+they+" '"+args+"'")
}

// roomTalk delivers something a player says or does in their room: self
// is what they see, others what everyone else there sees, unless they
// ignore the player. The line is remembered for 'review'.
func (w *World) roomTalk(from *Session, self, others string) {
	w.roomTalkOn(from, "emote", self, others)
}

// roomTalkOn is roomTalk on a GMCP channel ("say", "emote": gmcp.go).
func (w *World) roomTalkOn(from *Session, channel, self, others string) {
	from.hear(self)
	w.gmcpChannelText(from, channel, from.Player.Name, self)
	lines := newLineCache(others, true)
	gm := gmcpChannelOnce(channel, from.Player.Name, others)
	for _, m := range from.room.Members {
		if m != from && !w.ignoring(m, from, player.IgnoreRoom) {
			lines.sendTo(m)
			gm.sendTo(m)
		}
	}
	w.rememberInRoom(from.room, from, others)
}

// ignoring reports whether o ignores what of from. Staff cannot be
// ignored, so that warnings reach everyone.
func (w *World) ignoring(o, from *Session, what player.Ignore) bool {
	return from.Player.Rank < player.Staff && o.Player.Ignores(from.Player.Key(), what)
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
	// '::hat falls off' is the possessive emote (EW-too's shortcut); ':)'
	// and the like stay emotes.
	if len(args) > 1 && args[0] == ':' && (args[1] == ' ' || isLetter(args[1])) {
		w.cmdPemote(s, strings.TrimSpace(args[1:]))
		return
	}
	line := emoteText(s.Player.Name, args)
	w.roomTalk(s, line, line)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// cmdPemote is the possessive emote: "Boss's hat falls off".
func (w *World) cmdPemote(s *Session, args string) {
	if args == "" {
		usage(s, "pemote", w)
		return
	}
	line := s.Player.Name + "'s " + args // "Boss's", as EW-too writes it whatever the name
	w.roomTalk(s, line, line)
}

func (w *World) cmdThink(s *Session, args string) {
	if args == "" {
		usage(s, "think", w)
		return
	}
	line := s.Player.Name + " thinks . o O ( " + args + " )"
	w.roomTalk(s, line, line)
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
		if r != nil && w.hiddenFrom(s, r) { // invis.go
			r, msg = nil, "Nobody called '"+n+"' is logged in."
		}
		if r == nil {
			s.println(msg)
			continue
		}
		if r == s {
			s.println("Talking to yourself is the first sign of madness.")
			continue
		}
		if w.ignoring(r, s, player.IgnoreTells) {
			s.println(r.Player.Name + " is ignoring you.")
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
	you, they := tellVerb(msg)
	for _, r := range rs {
		line := s.Player.Name + " " + they + " you '" + msg + "'"
		if len(rs) > 1 {
			line = s.Player.Name + " " + they + " you (and " + names(others(rs, r)) + ") '" + msg + "'"
		}
		w.deliverTell(s, r, line)
	}
	mine := "You " + you + " " + names(rs) + " '" + msg + "'"
	s.hear(mine)
	w.gmcpChannelText(s, "tell", s.Player.Name, mine)
	w.rememberTell(s, s, mine)
}

// deliverTell gives a private line (tell, remote, whisper) to r: it can
// be answered with reply and is remembered for recap.
func (w *World) deliverTell(from, r *Session, line string) {
	w.deliverTellOn(from, r, "tell", line)
}

// deliverTellOn is deliverTell on a GMCP channel ("tell", "whisper").
func (w *World) deliverTellOn(from, r *Session, channel, line string) {
	r.hear(line)
	w.gmcpChannelText(r, channel, from.Player.Name, line) // gmcp.go
	r.ReplyTo = from.Player.Key()
	w.rememberTell(r, from, line)
	w.afkNotice(from, r)
	w.linkDeadNotice(from, r)
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
		w.deliverTell(s, r, line)
	}
	mine := "You emote to " + names(rs) + ": " + line
	s.hear(mine)
	w.gmcpChannelText(s, "tell", s.Player.Name, mine)
	w.rememberTell(s, s, mine)
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
	if w.ignoring(r, s, player.IgnoreTells) {
		s.println(r.Player.Name + " is ignoring you.")
		return
	}
	w.tell(s, []*Session{r}, args)
}

func (w *World) cmdShout(s *Session, args string) {
	if args == "" {
		usage(s, "shout", w)
		return
	}
	if s.Player.Jailed {
		s.println("Nobody can hear you shout from the jail.")
		return
	}
	// A shout is always called one, asked or not: whoever hears it in
	// another room must know it was shouted.
	you, they := "shout", "shouts"
	s.hear("You " + you + " '" + args + "'")
	w.gmcpChannelText(s, "shout", s.Player.Name, "You "+you+" '"+args+"'")
	if s.Player.Earmuffs {
		s.println("(You are wearing earmuffs: you will not hear anyone shout back. 'earmuffs off' takes them off.)")
	}
	lines := newLineCache(s.Player.Name+" "+they+" '"+args+"'", true)
	gm := gmcpChannelOnce("shout", s.Player.Name, lines.msg)
	for _, o := range w.online {
		if o != s && !o.Player.Earmuffs && !w.ignoring(o, s, player.IgnoreShouts) {
			lines.sendTo(o)
			gm.sendTo(o)
		}
	}
}

func (w *World) cmdWhisper(s *Session, args string) {
	to, msg, _ := strings.Cut(args, " ")
	msg = strings.TrimSpace(msg)
	if to == "" || msg == "" {
		usage(s, "whisper", w)
		return
	}
	r, why := w.findVisible(s, to) // invis.go
	switch {
	case r == nil:
		s.println(why)
		return
	case r == s:
		s.println("You whisper sweet nothings to yourself.")
		return
	case r.room != s.room:
		s.println(r.Player.Name + " is not here; 'tell' reaches people in other rooms.")
		return
	case w.ignoring(r, s, player.IgnoreTells):
		s.println(r.Player.Name + " is ignoring you.")
		return
	}
	w.deliverTellOn(s, r, "whisper", s.Player.Name+" whispers '"+msg+"' to you.")
	mine := "You whisper '" + msg + "' to " + r.Player.Name + "."
	s.hear(mine)
	w.gmcpChannelText(s, "whisper", s.Player.Name, mine)
	w.rememberTell(s, s, mine)
	notice := s.Player.Name + " whispers something to " + r.Player.Name + "."
	lines := newLineCache(notice, true)
	gm := gmcpChannelOnce("whisper", s.Player.Name, notice)
	for _, m := range s.room.Members {
		if m != s && m != r && !w.ignoring(m, s, player.IgnoreRoom) {
			lines.sendTo(m)
			gm.sendTo(m)
		}
	}
	w.rememberInRoom(s.room, s, notice)
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
