package server

import (
	"strings"

	"talker/player"
	"talker/server/text"
)

// Settings a player keeps in their record: colour, prompt, timestamps and
// the messages shown when they come and go.

const (
	maxPromptText = 40
	maxMoveMsg    = 60
	defaultPrompt = "> "
)

func settingsCommands() []*command {
	return []*command{
		{name: "colour", aliases: []string{"color"}, category: "Yourself", usage: "colour [on | off]",
			summary: "turn colour on or off",
			help: "With colour on, colour codes that you and others type show as colour; with it off they are left out. " +
				"The codes are a caret and a letter: ^^r red, ^^g green, ^^y yellow, ^^b blue, ^^p purple, ^^c cyan, ^^w white " +
				"(upper case for the bright version: ^^R, ^^G, ...), ^^H bold, ^^U underline, ^^N back to normal, and ^^^^ for a caret. " +
				"Colour never runs past the end of a line. Until you choose, colour is on if your client says it understands it. " +
				"'colour' alone says whether it is on. The setting is kept for next time.",
			run: (*World).cmdColour},
		{name: "screenreader", category: "Yourself", usage: "screenreader [on | off]",
			summary: "output for a screen reader",
			help: "With screen reader output on, the talker sends no colour, no decorative lines or frames, and lists such as 'who' " +
				"as plain sentences. Until you choose, it is on if your client says you use a screen reader (Mudlet and TinTin++ can). " +
				"'screenreader' alone says whether it is on. The setting is kept for next time.",
			run: (*World).cmdScreenReader},
		{name: "prompt", category: "Yourself", usage: "prompt [on | off | <text>]",
			summary: "show a prompt after each command's output",
			help: "With the prompt on, the talker sends your prompt (marked for clients that understand prompts, with telnet EOR or GA) " +
				"after the output of each command you type and after an empty line; what others say meanwhile is not followed by one. " +
				"'prompt <text>' sets the text (colour codes allowed, up to " + itoa(maxPromptText) + " characters) and turns it on; " +
				"'prompt on' and 'prompt off' switch it; 'prompt' alone shows it. The default text is '" + defaultPrompt + "'.",
			run: (*World).cmdPrompt},
		{name: "timestamps", category: "Yourself", usage: "timestamps [on | off]",
			summary: "show the time before each line of conversation",
			help: "With timestamps on, every line of conversation you see — says, emotes, tells, shouts, arrivals and departures — " +
				"starts with the time, as [HH:MM] in the talker's time zone. The output of your own commands (look, help, who...) has none. " +
				"'timestamps' alone says whether they are on.",
			run: (*World).cmdTimestamps},
		{name: "entermsg", category: "Yourself", usage: "entermsg [text | -]",
			summary: "set what people see when you enter a room",
			help: "Sets what follows your name when you arrive in a room: 'entermsg bounces in.' shows 'Alice bounces in.' " +
				"'entermsg -' goes back to 'arrives.'; 'entermsg' alone shows it.",
			run: func(w *World, s *Session, args string) {
				w.setMoveMsg(s, &s.Player.EnterMsg, args, "entry message", "arrives.")
			}},
		{name: "exitmsg", category: "Yourself", usage: "exitmsg [text | -]",
			summary: "set what people see when you leave a room",
			help: "Sets what follows your name when you leave a room: 'exitmsg skips away.' shows 'Alice skips away.' " +
				"'exitmsg -' goes back to 'goes to <room>.'; 'exitmsg' alone shows it.",
			run: func(w *World, s *Session, args string) {
				w.setMoveMsg(s, &s.Player.ExitMsg, args, "exit message", "goes to <room>.")
			}},
	}
}

// onOff reads "on" or "off"; ok is false for anything else.
func onOff(args string) (on, ok bool) {
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "on", "yes", "1":
		return true, true
	case "off", "no", "0":
		return false, true
	}
	return false, false
}

func word(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// setFlag implements 'X [on|off]' for a boolean setting.
func (w *World) setFlag(s *Session, flag *bool, args, cmd, what string) bool {
	if args == "" {
		s.println("Your " + what + " " + map[bool]string{true: "are", false: "is"}[strings.HasSuffix(what, "s")] + " " + word(*flag) + ". ('" + cmd + " on' or '" + cmd + " off' changes it.)")
		return false
	}
	on, ok := onOff(args)
	if !ok {
		usage(s, cmd, w)
		return false
	}
	*flag = on
	w.save(s.Player)
	return true
}

func (w *World) cmdColour(s *Session, args string) {
	p := s.Player
	if args == "" {
		why := ""
		switch {
		case s.screenReader():
			why = " (screen reader output is on, which has none)"
		case !p.ColourChosen && s.colour():
			why = " (your client says it understands colour)"
		case !p.ColourChosen:
			why = " (your client has not said it understands colour)"
		}
		s.println("Your colour is " + word(s.colour()) + why + ". ('colour on' or 'colour off' changes it.)")
		return
	}
	if !w.setFlag(s, &p.Colour, args, "colour", "colour") {
		return
	}
	if !p.ColourChosen {
		p.ColourChosen = true
		w.save(p)
	}
	if s.screenReader() {
		s.println("Colour is " + word(p.Colour) + " for when screen reader output is off; while it is on there is no colour.")
	} else if p.Colour {
		s.println("Colour is ^Ron^N: ^rred ^ggreen ^yyellow ^bblue ^ppurple ^ccyan ^wwhite^N, ^Rbright ^Gcolours^N, ^Hbold^N and ^Uunderline^N.")
	} else {
		s.println("Colour is off: colour codes will be left out.")
	}
}

func (w *World) cmdScreenReader(s *Session, args string) {
	p := s.Player
	if args == "" {
		why := ""
		if p.ScreenReader == player.ScreenReaderAuto {
			why = " (as your client says)"
		}
		s.println("Screen reader output is " + word(s.screenReader()) + why + ". ('screenreader on' or 'screenreader off' changes it.)")
		return
	}
	on, ok := onOff(args)
	if !ok {
		usage(s, "screenreader", w)
		return
	}
	p.ScreenReader = player.ScreenReaderOff
	if on {
		p.ScreenReader = player.ScreenReaderOn
	}
	w.save(p)
	if on {
		s.println("Screen reader output is on: no colour, no decoration, lists read as sentences.")
	} else {
		s.println("Screen reader output is off.")
	}
}

func (w *World) cmdTimestamps(s *Session, args string) {
	if w.setFlag(s, &s.Player.Timestamps, args, "timestamps", "timestamps") {
		s.println("Timestamps are " + word(s.Player.Timestamps) + ".")
	}
}

func (w *World) cmdPrompt(s *Session, args string) {
	p := s.Player
	if args == "" {
		s.println("Your prompt is " + word(p.Prompt) + "; its text is '" + promptText(p) + "^N'.")
		return
	}
	if on, ok := onOff(args); ok {
		p.Prompt = on
		s.println("Your prompt is " + word(on) + ".")
	} else {
		v := text.Truncate(args, maxPromptText)
		if v != args {
			s.println("That was too long; it has been cut to " + itoa(maxPromptText) + " characters.")
		}
		p.Prompt, p.PromptText = true, v
		s.println("Your prompt is now '" + v + "^N'.")
	}
	w.save(p)
}

// promptText is the player's prompt, with a space after it.
func promptText(p *player.Player) string {
	if p.PromptText == "" {
		return defaultPrompt
	}
	return p.PromptText + " "
}

// sendPrompt sends the player's prompt if they have one on and are still
// connected and playing.
func (w *World) sendPrompt(s *Session) {
	// Not at a prompt of 'password' or 'deleteaccount': that prompt is
	// the one waiting for input.
	if w.sessions[s.ID] != s || s.Player == nil || s.Login.Stage != StagePlaying || w.textPrompt(s) {
		return // (in the pager or the editor, its prompt is sent instead)
	}
	if s.Converse {
		s.prompt(conversePrompt) // converse.go
		return
	}
	if s.Player.Prompt {
		s.prompt(promptText(s.Player))
	}
}

func (w *World) setMoveMsg(s *Session, field *string, args, what, def string) {
	switch args {
	case "":
		if *field == "" {
			s.println("Your " + what + " is the default: " + s.Player.Name + " " + def)
		} else {
			s.println("Your " + what + ": " + s.Player.Name + " " + *field)
		}
		return
	case "-":
		*field = ""
		s.println("Your " + what + " is back to the default.")
	default:
		*field = text.Truncate(args, maxMoveMsg)
		s.println("Your " + what + " is now: " + s.Player.Name + " " + *field)
	}
	w.save(s.Player)
}

// arriveText is what follows a player's name when they arrive in a room.
func arriveText(p *player.Player) string {
	if p.EnterMsg != "" {
		return p.EnterMsg
	}
	return "arrives."
}

// leaveText is what follows a player's name when they leave for a room.
func leaveText(p *player.Player, to *Room) string {
	if p.ExitMsg != "" {
		return p.ExitMsg
	}
	return "goes to " + to.Name + "."
}
