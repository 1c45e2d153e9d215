package server

import (
	"sort"
	"strings"

	"talker/server/text"
)

// Limits on what players can set about themselves.
const (
	maxTitle       = 60
	maxDescription = 500
	maxAFKMessage  = 100
)

func selfCommands() []*command {
	return []*command{
		{name: "title", category: "Yourself", usage: "title [text | -]",
			summary: "set the title shown after your name",
			help:    "Sets the text shown after your name in 'who' and 'look': 'title the Brave' makes you 'Alice the Brave'. 'title -' removes it; 'title' alone shows it.",
			run:     (*World).cmdTitle},
		{name: "description", aliases: []string{"desc"}, category: "Yourself", usage: "description [text | edit | -]",
			summary: "set what people see when they examine you",
			help: "Sets the description 'examine' shows. 'description <text>' sets a one-line one; 'description' alone " +
				"(or 'description edit') opens the editor for one of up to " + itoa(maxDescLines) + " lines: type it a line at a time, " +
				"then a line with only '.' sets it; '.q' abandons it (the old one stays), '.l' lists it, '.d' deletes the last line, '.h' helps. " +
				"'description -' removes it; 'examine me' shows it.",
			run: (*World).cmdDescription},
		{name: "afk", category: "Yourself", usage: "afk [message]",
			summary: "mark yourself away from the keyboard",
			help:    "Marks you as away, with an optional message shown to anyone who sends you a tell. Typing anything else (or 'afk' again) marks you back.",
			run:     (*World).cmdAFK},
		{name: "quit", category: "Yourself", usage: "quit",
			summary: "leave the talker",
			help:    "Saves you and disconnects. Everything you have set is kept for next time.",
			run:     (*World).cmdQuit},
	}
}

// setText implements the show / set / clear pattern of title and
// description.
func setText(s *Session, field *string, args, what string, limit int) bool {
	switch args {
	case "":
		if *field == "" {
			s.println("You have no " + what + ".")
		} else {
			s.println("Your " + what + ": " + *field)
		}
		return false
	case "-":
		*field = ""
		s.println("Your " + what + " has been removed.")
		return true
	}
	v := text.Truncate(args, limit)
	if v != args {
		s.println("That was too long; it has been cut to " + itoa(limit) + " characters.")
	}
	*field = v
	s.println("Your " + what + " is now: " + v)
	return true
}

func (w *World) cmdTitle(s *Session, args string) {
	if setText(s, &s.Player.Title, args, "title", maxTitle) {
		w.save(s.Player)
	}
}

func (w *World) cmdDescription(s *Session, args string) {
	if args == "" || strings.EqualFold(args, "edit") {
		if s.Player.Description != "" {
			s.println("Your description now:")
			s.println(s.Player.Description + "^N")
		}
		w.startEditor(s, editDesc, "", "your description")
		return
	}
	if setText(s, &s.Player.Description, args, "description", maxDescription) {
		w.save(s.Player)
	}
}

func (w *World) cmdAFK(s *Session, args string) {
	if s.AFK && args == "" {
		s.AFK, s.AFKMessage = false, ""
		s.println("You are no longer AFK.")
		return
	}
	s.AFK, s.AFKMessage = true, text.Truncate(args, maxAFKMessage)
	s.println("You are now AFK. Type anything to come back.")
	msg := s.Player.Name + " is now AFK"
	if s.AFKMessage != "" {
		msg += ": " + s.AFKMessage
	}
	w.toRoom(s.room, s, msg+".")
}

func (w *World) cmdQuit(s *Session, _ string) {
	s.println("Goodbye, " + s.Player.Name + "! Come back soon.")
	w.closeSession(s, closeQuit)
}

func sortStrings(s []string) { sort.Strings(s) }
