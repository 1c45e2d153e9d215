package server

import (
	"strings"

	"talker/server/text"
)

// Converse mode and repeating the last command: what a typed line means
// before the command table sees it.
//
// In converse mode (EW-too's 'converse') every line typed is said; a line
// starting with '/' or '.' is a command ('/look', '.tell bob hi'), and
// '/converse' leaves the mode. The prompt says which mode the player is
// in. A line that is only '.' runs the last command again (in converse
// mode too). Both the mode and the last command are the session's
// (Session.Converse, Session.LastCommand), carried by reboots and
// checkpoints.

// conversePrompt is shown after each line in converse mode, whether or not
// the player has a prompt on: without it nothing shows that what they type
// will be said.
const conversePrompt = "(converse) > "

// repeatLine is the line that repeats the last command.
const repeatLine = "."

func converseCommands() []*command {
	return []*command{
		{name: "converse", category: "Talking", usage: "converse [on|off]",
			summary: "say everything you type, without typing 'say'",
			help: "In converse mode every line you type is said to the room. Start a line with '/' or '.' to give a command " +
				"instead ('/look', '.tell bob hi'); '/converse' leaves converse mode. The prompt shows '" +
				strings.TrimSpace(conversePrompt) + "' while you are in it.",
			run: (*World).cmdConverse},
		{name: "repeat", category: "Yourself", usage: "repeat  (or a line with only '.')",
			summary: "run your last command again",
			help:    "Runs the command you typed last once more, as you typed it. A line with only '.' on it does the same.",
			run:     (*World).cmdRepeat},
	}
}

func (w *World) cmdConverse(s *Session, args string) {
	on := !s.Converse
	switch strings.ToLower(args) {
	case "on":
		on = true
	case "off":
		on = false
	case "":
	default:
		usage(s, "converse", w)
		return
	}
	s.Converse = on
	if on {
		s.println("Converse mode on: everything you type is said. Start a line with '/' for a command; '/converse' ends converse mode.")
	} else {
		s.println("Converse mode off: lines are commands again.")
	}
}

func (w *World) cmdRepeat(s *Session, _ string) {
	// Reached only by an abbreviation: 'repeat' in full, and '.', are
	// handled before the command table (commandLine).
	s.println("Type 'repeat' in full, or '.' on its own, to run your last command again.")
}

// commandLine turns a typed line into the command line to run: a said
// line in converse mode, the last command again for '.', an alias's
// expansion. ok is false when there is nothing to run (the player has
// been told why). The line is remembered as the last command before its
// alias is expanded, so '.' expands it afresh.
func (w *World) commandLine(s *Session, line string) (cmd string, ok bool) {
	if s.Converse && line != repeatLine {
		if line[0] == '/' || line[0] == '.' {
			line = strings.TrimSpace(line[1:])
			if line == "" {
				return "", false
			}
		} else {
			line = "say " + line
		}
	}
	if word, _, _ := strings.Cut(line, " "); line == repeatLine || strings.EqualFold(word, "repeat") {
		if s.LastCommand == "" {
			s.println("There is no command to repeat yet.")
			return "", false
		}
		line = s.LastCommand
	} else {
		s.LastCommand = text.Truncate(line, maxExpandedCommand)
	}
	return w.expandAlias(s.Player, line), true
}

// carriesTalk reports whether the session carries state of converse mode,
// aliases, channels or a news post being written, which only state format
// version 7 reads (version7.go): a build before it would drop the mode,
// the aliases and channels (until the player logged in again) and the
// post. The last command alone does not count: losing it costs one
// "There is no command to repeat yet", and counting it would refuse a
// reboot back to an older build as soon as anyone had typed anything.
func (s *Session) carriesTalk() bool {
	if s.Converse || s.Editor != nil && s.Editor.Target == editNews {
		return true
	}
	return s.Player != nil && (len(s.Player.Aliases) > 0 || len(s.Player.Channels) > 0)
}
