package server

import (
	"sort"
	"strings"

	"talker/player"
	"talker/server/text"
	"talker/state"
)

// Command aliases, as classic MUD clients and talkers have them: 'alias
// gm = say good morning $*' makes 'gm all' say "good morning all". The
// expansion is run as typed, once: it is never expanded again, so aliases
// cannot loop. A player's aliases are stored (store/aliases.go) and travel
// with the player (Player.Aliases) through reboots and checkpoints.

// Bounds of a player's aliases: enough for the shortcuts people make, few
// enough that 'alias' fits on a screen and a record stays small.
const (
	maxAliases         = 30
	maxAliasName       = 12
	maxAliasExpansion  = 200
	maxExpandedCommand = 2048 // an expansion with $* nine times over a long line
)

func aliasCommands() []*command {
	return []*command{
		{name: "alias", category: "Yourself", usage: "alias [<name> [= <command>]]",
			summary: "make a short word for a command you type often",
			help: "'alias gm = say good morning $*' makes 'gm all' say \"good morning all\". In the command, $1 to $9 are the " +
				"words typed after the alias and $* all of them ($$ is a dollar sign); with none of these, what you type after " +
				"the alias is added at the end. 'alias' lists your aliases, 'alias gm' shows one, 'unalias gm' removes it. " +
				"An alias's name is letters and digits (up to " + itoa(maxAliasName) + "), and cannot be a command's own name; " +
				"you can have " + itoa(maxAliases) + " of up to " + itoa(maxAliasExpansion) + " characters each. " +
				"The command an alias stands for is run as it is: aliases in it are not expanded again.",
			run: (*World).cmdAlias},
		{name: "unalias", category: "Yourself", usage: "unalias <name>",
			summary: "remove one of your aliases",
			help:    "Removes an alias made with 'alias'.",
			run:     (*World).cmdUnalias},
	}
}

// validAliasName says why name cannot be an alias, or "" if it can.
func (w *World) validAliasName(name string) string {
	if name == "" || len(name) > maxAliasName {
		return "An alias's name is 1 to " + itoa(maxAliasName) + " letters and digits."
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "An alias's name is 1 to " + itoa(maxAliasName) + " letters and digits."
		}
	}
	if w.commands.byWord[name] != nil {
		return "'" + name + "' is a command; an alias cannot take its place."
	}
	return ""
}

func (w *World) cmdAlias(s *Session, args string) {
	p := s.Player
	if args == "" {
		if len(p.Aliases) == 0 {
			s.println("You have no aliases. 'help alias' shows how to make one.")
			return
		}
		keys := make([]string, 0, len(p.Aliases))
		for k := range p.Aliases {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s.println("Your aliases (" + itoa(len(keys)) + " of " + itoa(maxAliases) + "):")
		for _, k := range keys {
			s.println("  " + pad(k, maxAliasName+1) + "= " + p.Aliases[k] + "^N")
		}
		return
	}
	name, expansion, hasEq := strings.Cut(args, "=")
	if !hasEq {
		name, expansion, _ = strings.Cut(args, " ")
	}
	name, expansion = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(expansion)
	if expansion == "" {
		if e, ok := p.Aliases[name]; ok {
			s.println(name + " = " + e + "^N")
		} else {
			s.println("You have no alias '" + name + "'.")
		}
		return
	}
	if why := w.validAliasName(name); why != "" {
		s.println(why)
		return
	}
	if len(expansion) > maxAliasExpansion {
		s.println("That is too long: an alias stands for at most " + itoa(maxAliasExpansion) + " characters.")
		return
	}
	if _, exists := p.Aliases[name]; !exists && len(p.Aliases) >= maxAliases {
		s.println("You have " + itoa(maxAliases) + " aliases, the most you can have: 'unalias' one first.")
		return
	}
	if err := w.store.SetAlias(p.Key(), name, expansion); err != nil {
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not save alias")
		s.println("Your alias could not be saved; please try again later.")
		return
	}
	if p.Aliases == nil {
		p.Aliases = map[string]string{}
	}
	p.Aliases[name] = expansion
	s.println("Alias set: " + name + " = " + expansion + "^N")
}

func (w *World) cmdUnalias(s *Session, args string) {
	name := strings.ToLower(strings.TrimSpace(args))
	if name == "" {
		usage(s, "unalias", w)
		return
	}
	p := s.Player
	if _, ok := p.Aliases[name]; !ok {
		s.println("You have no alias '" + name + "'.")
		return
	}
	if err := w.store.SetAlias(p.Key(), name, ""); err != nil {
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not delete alias")
		s.println("Your alias could not be removed; please try again later.")
		return
	}
	delete(p.Aliases, name)
	s.println("Alias '" + name + "' removed.")
}

// expandAlias returns the command a line stands for if its first word is
// one of the player's aliases (and not a command's own name), else the
// line as it is. The result is never expanded again.
func (w *World) expandAlias(p *player.Player, line string) string {
	if len(p.Aliases) == 0 {
		return line
	}
	word, rest, _ := strings.Cut(line, " ")
	word = strings.ToLower(word)
	exp, ok := p.Aliases[word]
	if !ok || w.commands.byWord[word] != nil {
		return line
	}
	return substituteAlias(exp, strings.TrimSpace(rest))
}

// substituteAlias fills an alias's $1..$9, $* and $$ from the words typed
// after it; with no $1..$9 or $*, those words are added at the end.
func substituteAlias(exp, rest string) string {
	words := strings.Fields(rest)
	var b strings.Builder
	used := false
	for i := 0; i < len(exp); i++ {
		c := exp[i]
		if c != '$' || i+1 == len(exp) {
			b.WriteByte(c)
			continue
		}
		switch n := exp[i+1]; {
		case n == '$':
			b.WriteByte('$')
		case n == '*':
			b.WriteString(rest)
			used = true
		case n >= '1' && n <= '9':
			if k := int(n - '1'); k < len(words) {
				b.WriteString(words[k])
			}
			used = true
		default:
			b.WriteByte(c)
			continue
		}
		i++
		if b.Len() > maxExpandedCommand {
			break
		}
	}
	out := b.String()
	if !used && rest != "" {
		out += " " + rest
	}
	return strings.TrimSpace(text.Truncate(out, maxExpandedCommand))
}

// talkToWire and talkFromWire carry a player's aliases and channels in
// the state format (version 7). The maps are copied: a record may be
// encoded after the world has moved on.
func talkToWire(w *state.Player, p *player.Player) {
	w.Aliases, w.Channels = nil, nil
	if len(p.Aliases) > 0 {
		w.Aliases = make(map[string]string, len(p.Aliases))
		for k, v := range p.Aliases {
			w.Aliases[k] = v
		}
	}
	if len(p.Channels) > 0 {
		w.Channels = append([]string(nil), p.Channels...)
	}
}

func talkFromWire(p *player.Player, w *state.Player) {
	p.Aliases, p.Channels = nil, nil
	if len(w.Aliases) > 0 {
		p.Aliases = make(map[string]string, len(w.Aliases))
		for k, v := range w.Aliases {
			p.Aliases[k] = v
		}
	}
	if len(w.Channels) > 0 {
		p.Channels = append([]string(nil), w.Channels...)
	}
}
