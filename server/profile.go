package server

import (
	"net/mail"
	"net/url"
	"strings"

	"talker/player"
	"talker/server/text"
	"talker/state"
)

// The profile 'examine' (and 'finger') shows beyond the title and
// description: a plan, a gender, an e-mail address (public, or seen only by
// its owner and staff: EW-too's 'public') and a web address. Each is stored
// with the player and carried by reboots; 'wrap' and invisibility travel
// the same way (profileToWire).

const (
	maxPlan   = 200
	maxGender = 20
	maxEmail  = 100
	maxURL    = 150
)

func profileCommands() []*command {
	return []*command{
		{name: "plan", category: "Yourself", usage: "plan [text | -]",
			summary: "set the plan 'examine' shows",
			help:    "Your plan is a line about what you are up to, shown by 'examine' and 'finger' to everyone. 'plan -' removes it; 'plan' alone shows it.",
			run:     func(w *World, s *Session, args string) { w.setProfileText(s, &s.Player.Plan, args, "plan", maxPlan) }},
		{name: "gender", category: "Yourself", usage: "gender [text | -]",
			summary: "say what gender you are, if you like",
			help:    "Any word or two you like ('female', 'male', 'non-binary', 'robot'), shown by 'examine'. 'gender -' removes it.",
			run: func(w *World, s *Session, args string) {
				w.setProfileText(s, &s.Player.Gender, args, "gender", maxGender)
			}},
		{name: "email", aliases: []string{"e-mail"}, category: "Yourself", usage: "email [address | public | private | -]",
			summary: "set your e-mail address, public or private",
			help: "'email <address>' sets it; it is private until you type 'email public': a private address is shown only to you and " +
				"to staff, a public one by 'examine' to everyone. 'email private' hides it again, 'email -' removes it.",
			run: (*World).cmdEmail},
		{name: "url", aliases: []string{"www", "homepage"}, category: "Yourself", usage: "url [address | -]",
			summary: "set the web address 'examine' shows",
			help:    "A web page of yours (http:// or https://), shown by 'examine'. 'url -' removes it.",
			run:     (*World).cmdURL},
	}
}

// setProfileText sets, shows or clears one profile field.
func (w *World) setProfileText(s *Session, field *string, args, what string, limit int) {
	switch args {
	case "":
		if *field == "" {
			s.println("You have not set a " + what + ". Type '" + what + " <text>' to set one.")
		} else {
			s.println("Your " + what + ": " + *field)
		}
		return
	case "-":
		*field = ""
		s.println("Your " + what + " is removed.")
	default:
		*field = text.Truncate(args, limit)
		s.println("Your " + what + " is now: " + *field)
	}
	w.save(s.Player)
	w.touch(s)
}

func (w *World) cmdEmail(s *Session, args string) {
	p := s.Player
	switch strings.ToLower(args) {
	case "":
		if p.Email == "" {
			s.println("You have not set an e-mail address. Type 'email <address>' to set one.")
		} else {
			s.println("Your e-mail address: " + p.Email + " (" + emailVisibility(p.EmailPublic) + ").")
		}
		return
	case "public", "private":
		p.EmailPublic = strings.ToLower(args) == "public"
		s.println("Your e-mail address is now " + emailVisibility(p.EmailPublic) + ".")
	case "-":
		p.Email, p.EmailPublic = "", false
		s.println("Your e-mail address is removed.")
	default:
		a, err := mail.ParseAddress(args)
		if err != nil || a.Name != "" || strings.ContainsAny(a.Address, " <>") || len(a.Address) > maxEmail {
			s.println("That does not look like an e-mail address (like alice@example.org).")
			return
		}
		p.Email = a.Address
		s.println("Your e-mail address is now " + p.Email + " (" + emailVisibility(p.EmailPublic) + ").")
	}
	w.save(p)
	w.touch(s)
}

func emailVisibility(public bool) string {
	if public {
		return "public: everyone can see it"
	}
	return "private: only you and staff can see it"
}

func (w *World) cmdURL(s *Session, args string) {
	p := s.Player
	switch args {
	case "":
		w.setProfileText(s, &p.URL, "", "web address", 0)
		return
	case "-":
		w.setProfileText(s, &p.URL, "-", "web address", 0)
		return
	}
	u, err := url.Parse(args)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(args) > maxURL || strings.Contains(args, " ") {
		s.println("That does not look like a web address (like https://example.org/).")
		return
	}
	w.setProfileText(s, &p.URL, args, "web address", maxURL)
}

// showProfile adds the profile to what 'examine' shows viewer about p.
func (w *World) showProfile(viewer *Session, p *player.Player) {
	if p.Gender != "" {
		viewer.println("Gender: " + p.Gender)
	}
	if p.Email != "" {
		mine := viewer.Player.Key() == p.Key()
		switch {
		case p.EmailPublic:
			viewer.println("E-mail: " + p.Email)
		case mine:
			viewer.println("E-mail: " + p.Email + " (private: only you and staff see it)")
		case viewer.Player.Rank >= staffRank:
			viewer.println("E-mail: " + p.Email + " [private]")
		}
	}
	if p.URL != "" {
		viewer.println("Web: " + p.URL)
	}
	if p.Plan != "" {
		viewer.println("Plan: " + p.Plan)
	}
}

// profileToWire and profileFromWire carry the profile, the wrap width and
// invisibility in a session's record (version 7).
func profileToWire(w *state.Player, p *player.Player) {
	w.Wrap, w.Invisible = p.Wrap, p.Invisible
	w.Plan, w.Gender, w.Email, w.EmailPublic, w.URL = p.Plan, p.Gender, p.Email, p.EmailPublic, p.URL
}

func profileFromWire(p *player.Player, w *state.Player) {
	p.Wrap, p.Invisible = w.Wrap, w.Invisible
	p.Plan, p.Gender, p.Email, p.EmailPublic, p.URL = w.Plan, w.Gender, w.Email, w.EmailPublic, w.URL
}

// carriesProfile reports whether a player has any of it set: a build
// before version 7 would drop it from the session (the wrap width and
// invisibility are seen at once; the profile would be saved back empty).
func carriesProfile(p *player.Player) bool {
	return p.Wrap != 0 || p.Invisible || p.Plan != "" || p.Gender != "" || p.Email != "" || p.EmailPublic || p.URL != ""
}
