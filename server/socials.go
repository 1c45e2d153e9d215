package server

import (
	"strings"

	"talker/player"
)

// Socials: canned actions ('smile', 'hug bob'), one table. Each has a
// form with no one named, one for someone in the same room (the actor,
// that person and the rest of the room each see their own line), and one
// for someone elsewhere, which only the two of them see, as a remote
// emote ("From afar, Alice waves at you.").
//
// The templates are written once for every viewer: {A} is the actor ("You"
// for the actor, the name for everyone else), {s} the verb's ending ("" for
// the actor, "s" for others: "You smile", "Alice smiles"), {es} likewise
// for verbs taking "es", and {T} and {Tp} the person named ("you"/"your"
// for them, the name and its possessive for the others).

type social struct {
	name  string
	alone string // no one named: "{A} smile{s} happily."
	at    string // someone named: "{A} smile{s} at {T}."
}

// socialTable is every social, by name.
func socialTable() []social {
	return []social{
		{"smile", "{A} smile{s} happily.", "{A} smile{s} at {T}."},
		{"grin", "{A} grin{s} evilly.", "{A} grin{s} at {T}."},
		{"hug", "{A} hug{s} everyone.", "{A} hug{s} {T}."},
		{"wave", "{A} wave{s}.", "{A} wave{s} at {T}."},
		{"bow", "{A} bow{s} gracefully.", "{A} bow{s} to {T}."},
		{"nod", "{A} nod{s}.", "{A} nod{s} at {T}."},
		{"laugh", "{A} laugh{s}.", "{A} laugh{s} at {T}."},
		{"giggle", "{A} giggle{s}.", "{A} giggle{s} at {T}."},
		{"chuckle", "{A} chuckle{s}.", "{A} chuckle{s} at {T}."},
		{"wink", "{A} wink{s}.", "{A} wink{s} at {T}."},
		{"shrug", "{A} shrug{s}.", "{A} shrug{s} at {T}."},
		{"sigh", "{A} sigh{s}.", "{A} sigh{s} at {T}."},
		{"sob", "{A} sob{s} quietly.", "{A} sob{s} on {Tp} shoulder."},
		{"frown", "{A} frown{s}.", "{A} frown{s} at {T}."},
		{"pout", "{A} pout{s}.", "{A} pout{s} at {T}."},
		{"blush", "{A} blush{es}.", "{A} blush{es} at {T}."},
		{"cheer", "{A} cheer{s} loudly.", "{A} cheer{s} for {T}."},
		{"clap", "{A} clap{s}.", "{A} applaud{s} {T}."},
		{"dance", "{A} dance{s} about.", "{A} dance{s} with {T}."},
		{"poke", "{A} poke{s} the air.", "{A} poke{s} {T}."},
		{"tickle", "{A} tickle{s} the air.", "{A} tickle{s} {T}."},
		{"kiss", "{A} blow{s} a kiss.", "{A} kiss{es} {T}."},
		{"cuddle", "{A} look{s} for someone to cuddle.", "{A} cuddle{s} {T}."},
		{"comfort", "{A} need{s} comforting.", "{A} comfort{s} {T}."},
		{"thank", "{A} thank{s} everyone.", "{A} thank{s} {T}."},
		{"greet", "{A} greet{s} everyone.", "{A} greet{s} {T}."},
		{"yawn", "{A} yawn{s}.", "{A} yawn{s} at {T}."},
		{"bounce", "{A} bounce{s} around.", "{A} bounce{s} around {T}."},
		{"nudge", "{A} nudge{s} nobody in particular.", "{A} nudge{s} {T}."},
		{"highfive", "{A} hold{s} up a hand for a high five.", "{A} high-five{s} {T}."},
	}
}

// socialLine fills a template for one viewer: actor is the actor's name
// ("" when the viewer is the actor), target the person named's ("" when
// the viewer is them).
func socialLine(tmpl, actor, target string) string {
	a, s, es := "You", "", ""
	if actor != "" {
		a, s, es = actor, "s", "es"
	}
	t, tp := "you", "your"
	if target != "" {
		t, tp = target, target+"'s"
	}
	return strings.NewReplacer("{A}", a, "{s}", s, "{es}", es, "{T}", t, "{Tp}", tp).Replace(tmpl)
}

func socialCommands() []*command {
	out := []*command{
		{name: "socials", category: "Talking", usage: "socials",
			summary: "list the socials: smile, hug, wave and more",
			help: "Socials are ready-made actions: 'smile' alone, 'smile bob' at Bob in the same room (the room sees it), " +
				"and 'smile bob' when Bob is elsewhere reaches only him, from afar. 'socials' lists them all; 'help <social>' " +
				"shows what one says. Type a social's whole name: they are never guessed from a beginning.",
			run: (*World).cmdSocials},
	}
	for _, so := range socialTable() {
		out = append(out, &command{name: so.name, talk: true, exact: true, category: "Socials",
			usage:   so.name + " [<name>]",
			summary: "a social: " + socialLine(so.alone, "Alice", ""),
			help: "A social. Alone: '" + socialLine(so.alone, "Alice", "") + "' With a name: '" +
				socialLine(so.at, "Alice", "Bob") + "' (Bob reads '" + socialLine(so.at, "Alice", "") +
				"'); if Bob is in another room, only he sees it, from afar. 'socials' lists them all.",
			run: func(w *World, s *Session, args string) { w.doSocial(s, so, args) }})
	}
	return out
}

func (w *World) cmdSocials(s *Session, _ string) {
	table := socialTable()
	names := make([]string, len(table))
	for i, so := range table {
		names[i] = so.name
	}
	s.println("Socials (" + itoa(len(names)) + "): " + strings.Join(names, ", ") + ".")
	s.println("Type one alone or with a name: 'smile', 'smile bob'. 'help <social>' shows its words.")
}

// doSocial performs a social: alone, at someone in the room, or at
// someone elsewhere (privately, as a remote emote: it can be replied to and
// is in both players' recap).
func (w *World) doSocial(s *Session, so social, args string) {
	name, _, _ := strings.Cut(strings.TrimSpace(args), " ")
	if name == "" {
		line := socialLine(so.alone, s.Player.Name, "")
		w.roomTalk(s, socialLine(so.alone, "", ""), line)
		return
	}
	t, why := w.findOnline(name)
	switch {
	case t == nil:
		s.println(why)
		return
	case t == s:
		w.roomTalk(s, socialLine(so.alone, "", ""), socialLine(so.alone, s.Player.Name, ""))
		return
	}
	if t.room == s.room {
		s.hear(socialLine(so.at, "", t.Player.Name))
		if !w.ignoring(t, s, player.IgnoreRoom) {
			t.hear(socialLine(so.at, s.Player.Name, ""))
		}
		others := socialLine(so.at, s.Player.Name, t.Player.Name)
		lines := newLineCache(others, true)
		for _, m := range s.room.Members {
			if m != s && m != t && !w.ignoring(m, s, player.IgnoreRoom) {
				lines.sendTo(m)
			}
		}
		w.rememberInRoom(s.room, s, others)
		return
	}
	if s.Player.Jailed {
		s.println("Nobody outside the jail can see you from in here.")
		return
	}
	if w.ignoring(t, s, player.IgnoreTells) {
		s.println(t.Player.Name + " is ignoring you.")
		return
	}
	w.deliverTell(s, t, "From afar, "+socialLine(so.at, s.Player.Name, ""))
	mine := "From afar, " + lowerFirst(socialLine(so.at, "", t.Player.Name))
	s.hear(mine)
	w.rememberTell(s, s, mine)
}

// lowerFirst lowers a line's first letter ("You smile" → "you smile").
func lowerFirst(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
