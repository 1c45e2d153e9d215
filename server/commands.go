package server

import (
	"sort"
	"strings"

	"talker/player"
	"talker/server/text"
)

// command is one thing a logged-in player can type. Every command carries
// its own help: a test fails when one does not.
type command struct {
	name      string
	aliases   []string // other words for it
	shortcuts string   // single characters that stand for it at the start of a line ("'\"")
	minRank   player.Rank
	category  string
	usage     string // e.g. "tell <name> <message>"
	summary   string // one line for the index
	help      string // the full text for `help <command>`
	run       func(w *World, s *Session, args string)
	// talk marks commands that make others hear the player: a gagged
	// player may not use them.
	talk bool
	// exact: the command is found only by its whole name, never by a
	// beginning (the socials: thirty of them would make many short
	// beginnings of other commands ambiguous).
	exact bool
}

// commandTable finds commands by name, alias, shortcut or unique prefix.
type commandTable struct {
	list       []*command
	byWord     map[string]*command
	byShort    map[byte]*command
	categories []string
}

var categoryOrder = []string{"Talking", "Socials", "Information", "Moving", "Rooms", "Lists", "Mail", "Yourself", "Staff"}

func newCommandTable() *commandTable {
	t := &commandTable{byWord: map[string]*command{}, byShort: map[byte]*command{}, categories: categoryOrder}
	for _, c := range allCommands() {
		t.list = append(t.list, c)
		t.byWord[c.name] = c
		for _, a := range c.aliases {
			t.byWord[a] = c
		}
		for i := 0; i < len(c.shortcuts); i++ {
			t.byShort[c.shortcuts[i]] = c
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].name < t.list[j].name })
	return t
}

// lookup finds what a typed word means for a player of the given rank.
func (t *commandTable) lookup(word string, rank player.Rank) (*command, string) {
	if c := t.byWord[word]; c != nil && c.minRank <= rank {
		return c, ""
	}
	var found *command
	for _, c := range t.list {
		if c.minRank > rank || c.exact || !strings.HasPrefix(c.name, word) {
			continue
		}
		if found != nil {
			return nil, "'" + word + "' could be more than one command (" + found.name + ", " + c.name + ", ...); type more of it."
		}
		found = c
	}
	if found == nil {
		return nil, "Unknown command '" + word + "'. Type 'help' for a list of commands."
	}
	return found, ""
}

// command runs one line typed by a logged-in player.
func (w *World) command(s *Session, raw []byte) {
	line := text.Clean(raw)
	if line == "" {
		w.sendPrompt(s)
		return
	}
	defer w.sendPrompt(s)
	// Converse mode, '.' (repeat) and aliases (converse.go, aliases.go).
	var ok bool
	if line, ok = w.commandLine(s, line); !ok || line == "" {
		return
	}
	var c *command
	var args string
	if sc := w.commands.byShort[line[0]]; sc != nil && sc.minRank <= s.Player.Rank {
		c, args = sc, strings.TrimSpace(line[1:])
	} else {
		word, rest, _ := strings.Cut(line, " ")
		var msg string
		c, msg = w.commands.lookup(strings.ToLower(word), s.Player.Rank)
		if c == nil {
			s.println(msg)
			return
		}
		args = strings.TrimSpace(rest)
	}
	if s.AFK && c.name != "afk" {
		s.AFK, s.AFKMessage = false, ""
		s.println("You are no longer AFK.")
	}
	if c.talk && s.Player.Gagged {
		s.println("You have been gagged: you cannot talk to anyone until a member of staff ungags you.")
		return
	}
	if w.disabled[c.name] {
		s.println("The '" + c.name + "' command has been disabled because it crashed the talker. An admin can turn it back on with 'enable " + c.name + "'.")
		return
	}
	// What the command sends the player is paged if it is longer than a
	// page (pager.go).
	s.startCapture()
	w.runCommand(s, c, args)
	w.endCapture(s)
}

// usage tells the player how a command is typed.
func usage(s *Session, c string, w *World) {
	if cmd := w.commands.byWord[c]; cmd != nil {
		s.println("Usage: " + cmd.usage)
	}
}

func (w *World) help(s *Session, args string) {
	if args != "" {
		word := strings.ToLower(strings.Fields(args)[0])
		var c *command
		if len(word) == 1 {
			c = w.commands.byShort[word[0]]
		}
		if c == nil {
			c, _ = w.commands.lookup(word, s.Player.Rank)
		}
		if c == nil || c.minRank > s.Player.Rank {
			s.println("There is no help on '" + word + "'. Type 'help' for a list of commands.")
			return
		}
		s.println("Usage: " + c.usage)
		var also []string
		for i := 0; i < len(c.shortcuts); i++ {
			also = append(also, string(c.shortcuts[i]))
		}
		also = append(also, c.aliases...)
		if len(also) > 0 {
			s.println("Also: " + strings.Join(also, " "))
		}
		s.println(c.help)
		if c.minRank > player.Newbie {
			s.println("(For " + c.minRank.String() + " and above.)")
		}
		return
	}
	s.println("Commands (type 'help <command>' for more on one):")
	for _, cat := range w.commands.categories {
		var lines, words []string
		for _, c := range w.commands.list {
			switch {
			case c.category != cat || c.minRank > s.Player.Rank:
			case c.exact: // the socials: names only, on one wrapped line
				words = append(words, c.name)
			default:
				lines = append(lines, "  "+pad(c.name, 13)+c.summary)
			}
		}
		if len(words) > 0 {
			lines = append(lines, "  "+strings.Join(words, " "))
		}
		if len(lines) > 0 {
			s.println(cat + ":")
			for _, l := range lines {
				s.println(l)
			}
		}
	}
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}
