package server

import (
	"sort"
	"strings"
	"time"

	"talker/player"
)

// Lists: what a player has said about other people — friend, ignore,
// invite — kept in their record (player.Player.Lists) and stored entry by
// entry as it changes.

const maxListEntries = 200

func listCommands() []*command {
	return []*command{
		{name: "friend", category: "Lists", usage: "friend [name]",
			summary: "add someone to your friends, or list them",
			help: "Friends are told about each other: you see '[ Your friend Bob has connected ]' when a friend logs in or out, " +
				"and 'fwho' lists the friends who are on. 'friend' alone lists your friends; 'unfriend <name>' removes one.",
			run: (*World).cmdFriend},
		{name: "unfriend", category: "Lists", usage: "unfriend <name>",
			summary: "take someone off your friends",
			help:    "Removes the person from your friend list.",
			run:     (*World).cmdUnfriend},
		{name: "fwho", aliases: []string{"qwho"}, category: "Lists", usage: "fwho",
			summary: "list the friends who are logged in",
			help:    "Lists those of your friends who are logged in, with where they are and how long they have been idle.",
			run:     (*World).cmdFwho},
		{name: "ignore", category: "Lists", usage: "ignore [name [tells | shouts | room | all]]",
			summary: "stop hearing from someone",
			help: "'ignore <name>' (or '... all') hides everything the person does: their tells, remotes, whispers and mail are refused " +
				"(they are told you are ignoring them), their shouts and what they say, emote and think in your room are not shown, " +
				"nor their log-in notices or their lines in 'review', and they cannot 'join' you. 'ignore <name> tells' blocks only " +
				"private messages and mail, '... shouts' only shouts, '... room' only room talk; these add up. Staff cannot be ignored. " +
				"'ignore' alone lists whom you ignore; 'unignore <name>' stops.",
			run: (*World).cmdIgnore},
		{name: "unignore", category: "Lists", usage: "unignore <name>",
			summary: "hear from someone again",
			help:    "Stops ignoring the person, entirely.",
			run:     (*World).cmdUnignore},
		{name: "earmuffs", category: "Lists", usage: "earmuffs [on | off]",
			summary: "stop hearing shouts",
			help:    "With earmuffs on you hear nobody's shouts (staff announcements still reach you). 'earmuffs' alone says whether they are on.",
			run: func(w *World, s *Session, args string) {
				if w.setFlag(s, &s.Player.Earmuffs, args, "earmuffs", "earmuffs") {
					s.println("Your earmuffs are " + word(s.Player.Earmuffs) + ".")
				}
			}},
	}
}

// updateEntry changes what the session's player has said about p, saving
// it. It returns false (having told the player) if the list is full.
func (w *World) updateEntry(s *Session, p *player.Player, fn func(*player.ListEntry)) bool {
	return w.updateEntryKey(s, p.Key(), p.Name, fn)
}

func (w *World) updateEntryKey(s *Session, key, name string, fn func(*player.ListEntry)) bool {
	me := s.Player
	e, had := me.Lists[key]
	if !had && len(me.Lists) >= maxListEntries {
		s.println("Your lists are full (" + itoa(maxListEntries) + " people); take someone off first.")
		return false
	}
	e.Name = name
	fn(&e)
	w.unindexFriends(s)
	me.SetEntry(key, e)
	w.indexFriends(s)
	if err := w.store.SetListEntry(me.Key(), key, e); err != nil {
		w.log.Error().Err(err).Str("player", me.Name).Msg("could not save a list entry")
	}
	w.touch(s)
	return true
}

// listTarget finds someone on the session's lists by name or unique
// prefix, for commands that take people off: they need not exist any more.
func (w *World) listTarget(s *Session, name string) (key, display string) {
	k := player.Key(name)
	if e, ok := s.Player.Lists[k]; ok {
		return k, e.Name
	}
	for lk, e := range s.Player.Lists {
		if strings.HasPrefix(lk, k) {
			if key != "" {
				return "", ""
			}
			key, display = lk, e.Name
		}
	}
	return key, display
}

// showList prints the names on the session's lists that match.
func (w *World) showList(s *Session, what string, match func(player.ListEntry) bool) {
	var out []string
	for k, e := range s.Player.Lists {
		if match(e) {
			n := e.Name
			if w.online[k] != nil {
				n += " (on)"
			}
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		s.println("Nobody is " + what + ".")
		return
	}
	sort.Strings(out)
	s.println("People " + what + ": " + strings.Join(out, ", ") + ".")
}

func (w *World) cmdFriend(s *Session, args string) {
	if args == "" {
		w.showList(s, "on your friend list", func(e player.ListEntry) bool { return e.Friend })
		return
	}
	p, online, msg := w.findPlayer(args)
	switch {
	case p == nil:
		s.println(msg)
		return
	case p.Key() == s.Player.Key():
		s.println("You are your own best friend already.")
		return
	case s.Player.IsFriend(p.Key()):
		s.println(p.Name + " is already your friend.")
		return
	}
	if w.updateEntry(s, p, func(e *player.ListEntry) { e.Friend = true }) {
		s.println(p.Name + " is now on your friend list.")
		if online != nil {
			online.hear(s.Player.Name + " has made you a friend.")
		}
	}
}

func (w *World) cmdUnfriend(s *Session, args string) {
	if args == "" {
		usage(s, "unfriend", w)
		return
	}
	key, name := w.listTarget(s, args)
	if key == "" || !s.Player.IsFriend(key) {
		s.println("'" + args + "' is not on your friend list.")
		return
	}
	w.updateEntryKey(s, key, name, func(e *player.ListEntry) { e.Friend = false })
	s.println(name + " is no longer on your friend list.")
}

func (w *World) cmdFwho(s *Session, _ string) {
	now := w.cfg.Now()
	var lines []string
	for _, o := range w.playing() {
		if !s.Player.IsFriend(o.Player.Key()) || w.hiddenFrom(s, o) {
			continue
		}
		line := displayName(o.Player) + "  [" + o.room.ID
		if idle := now.Sub(o.LastInput); idle >= time.Minute {
			line += ", idle " + ago(idle)
		}
		if o.AFK {
			line += ", AFK"
		}
		lines = append(lines, line+"]")
	}
	if len(lines) == 0 {
		s.println("None of your friends is logged in.")
		return
	}
	s.println("Friends logged in:")
	for _, l := range lines {
		s.println("  " + l)
	}
}

// ignoreLevels are the words 'ignore' takes after a name.
var ignoreLevels = map[string]player.Ignore{
	"all": player.IgnoreAll, "everything": player.IgnoreAll,
	"tells": player.IgnoreTells, "tell": player.IgnoreTells,
	"shouts": player.IgnoreShouts, "shout": player.IgnoreShouts,
	"room": player.IgnoreRoom,
}

func (w *World) cmdIgnore(s *Session, args string) {
	if args == "" {
		var lines []string
		for _, e := range s.Player.Lists {
			if e.Ignore != 0 {
				lines = append(lines, e.Name+": "+e.Ignore.String())
			}
		}
		if len(lines) == 0 {
			s.println("You are not ignoring anyone.")
			return
		}
		sort.Strings(lines)
		s.println("You are ignoring:")
		for _, l := range lines {
			s.println("  " + l)
		}
		return
	}
	name, level, _ := strings.Cut(args, " ")
	what := player.IgnoreAll
	if level = strings.ToLower(strings.TrimSpace(level)); level != "" {
		var ok bool
		if what, ok = ignoreLevels[level]; !ok {
			usage(s, "ignore", w)
			return
		}
	}
	p, _, msg := w.findPlayer(name)
	switch {
	case p == nil:
		s.println(msg)
		return
	case p.Key() == s.Player.Key():
		s.println("You cannot get away from yourself.")
		return
	case p.Rank >= player.Staff:
		s.println("You cannot ignore staff; if a member of staff is bothering you, tell an admin.")
		return
	}
	var now player.Ignore
	if w.updateEntry(s, p, func(e *player.ListEntry) { e.Ignore |= what; now = e.Ignore }) {
		s.println("You are now ignoring " + now.String() + " from " + p.Name + ".")
	}
}

func (w *World) cmdUnignore(s *Session, args string) {
	if args == "" {
		usage(s, "unignore", w)
		return
	}
	key, name := w.listTarget(s, args)
	if key == "" || s.Player.Entry(key).Ignore == 0 {
		s.println("You are not ignoring '" + args + "'.")
		return
	}
	w.updateEntryKey(s, key, name, func(e *player.ListEntry) { e.Ignore = 0 })
	s.println("You are no longer ignoring " + name + ".")
}
