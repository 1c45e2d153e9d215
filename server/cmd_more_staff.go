package server

import (
	"errors"
	"strings"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// Moving people and keeping an eye on them, from the classic sets
// (talkers.md): grab/bring (a player to you), eject (from your room, or by
// staff from any), knock (on a locked room), warn, and staff notes on a
// player.

// maxNote is the length of one staff note or warning, in characters.
const maxNote = 300

func moreStaffCommands() []*command {
	return []*command{
		{name: "grab", aliases: []string{"bring"}, minRank: staffRank, category: "Staff", usage: "grab <name>",
			summary: "bring someone to the room you are in",
			help: "Moves the person to your room at once, locks or not; they are told who moved them. Only people below your rank, " +
				"and not out of the jail ('unjail' first). 'trans' moves people to other rooms.",
			run: (*World).cmdGrab},
		{name: "eject", minRank: player.Resident, category: "Rooms", usage: "eject <name>",
			summary: "send someone out of your room",
			help: "Sends the person out of a room of yours to the main room; they are told who did it. Staff can eject people below " +
				"their rank from any room but the main room and the jail. Nobody can eject staff from a room but higher staff.",
			run: (*World).cmdEject},
		{name: "knock", talk: true, category: "Moving", usage: "knock <room>",
			summary: "knock on the door of a locked room",
			help: "Everyone in the room hears you knock, and its owner too wherever they are, so that they can 'invite' you in. " +
				"Name the room by its id (like alice.home) or the start of its name.",
			run: (*World).cmdKnock},
		{name: "warn", minRank: staffRank, category: "Staff", usage: "warn <name> <message>",
			summary: "give someone a formal warning",
			help: "The person sees a warning from staff that cannot be mistaken for anything else, with your name and the message. " +
				"It is written in the staff log ('stafflog') and added to their notes ('notes').",
			run: (*World).cmdWarn},
		{name: "note", minRank: staffRank, category: "Staff", usage: "note <name> <text>",
			summary: "write a note about a player, for staff only",
			help: "Adds a line to the player's notes, which only staff can read ('notes <name>'), with your name and the time; " +
				"the player never sees them. The newest " + itoa(store.KeptNotes) + " notes are kept. Works whether they are on or not, " +
				"on players below your rank only.",
			run: (*World).cmdNote},
		{name: "notes", minRank: staffRank, category: "Staff", usage: "notes <name>",
			summary: "read the staff notes on a player",
			help: "Lists the notes staff have written about the player ('note'), and the warnings they were given ('warn'), oldest first. " +
				"Only the notes on players below your rank.",
			run: (*World).cmdNotes},
	}
}

func (w *World) cmdGrab(s *Session, args string) {
	name := strings.TrimSpace(args)
	if name == "" || strings.Contains(name, " ") {
		usage(s, "grab", w)
		return
	}
	o, msg := w.findVisible(s, name)
	switch {
	case o == nil:
		s.println(msg)
		return
	case o == s:
		s.println("You are already where you are.")
		return
	case !outranks(s, o.Player, "grab"):
		return
	case o.room == s.room:
		s.println(o.Player.Name + " is already here.")
		return
	case o.Player.Jailed:
		s.println(o.Player.Name + " is in jail; 'unjail' them first.")
		return
	}
	n := o.Player.Name
	o.println("*** " + s.Player.Name + " has grabbed you and brought you to " + text.Guard(s.room.Name) + ".")
	w.moveTo(o, s.room, n+" is grabbed away by "+s.Player.Name+".", n+" is brought in by "+s.Player.Name+".")
	w.touch(o)
	s.println("You have brought " + n + " here.")
	w.staffLog(s, "grab", n, "to "+s.room.ID)
}

func (w *World) cmdEject(s *Session, args string) {
	name := strings.TrimSpace(args)
	if name == "" || strings.Contains(name, " ") {
		usage(s, "eject", w)
		return
	}
	o, msg := w.findVisible(s, name)
	if o == nil {
		s.println(msg)
		return
	}
	if o == s {
		s.println("To leave, just go: 'go <room>' or 'home'.")
		return
	}
	r := o.room
	staff := s.Player.Rank >= staffRank
	owner := r != nil && r.Owner != "" && r.Owner == s.Player.Key()
	start := w.rooms[w.cfg.StartRoom]
	switch {
	case r == nil:
		s.println(o.Player.Name + " is not in any room.")
		return
	case !owner && !staff:
		s.println(o.Player.Name + " is not in a room of yours.")
		return
	case r == start || r.ID == jailRoom:
		s.println("Nobody can be ejected from " + text.Guard(r.Name) + ".")
		return
	case (!owner || o.Player.Rank >= staffRank) && !outranks(s, o.Player, "eject"):
		return
	}
	n := o.Player.Name
	o.println("*** " + s.Player.Name + " has ejected you from " + text.Guard(r.Name) + ".")
	w.moveTo(o, start, n+" is ejected by "+s.Player.Name+".", n+" arrives, ejected from "+r.ID+".")
	w.touch(o)
	s.println("You have ejected " + n + " from " + text.Guard(r.Name) + ".")
	if !owner {
		w.staffLog(s, "eject", n, "from "+r.ID)
	}
}

func (w *World) cmdKnock(s *Session, args string) {
	if args == "" {
		usage(s, "knock", w)
		return
	}
	r, msg := w.findRoom(args, nil)
	switch {
	case r == nil:
		s.println(msg)
		return
	case r == s.room:
		s.println("You are already in " + text.Guard(r.Name) + ".")
		return
	case !r.Locked:
		s.println(text.Guard(r.Name) + " is not locked: just go in.")
		return
	case w.mayEnter(s.Player, r):
		s.println("You may go into " + text.Guard(r.Name) + " as you are: it is locked, but not to you.")
		return
	}
	line := s.Player.Name + " knocks on the door of " + r.ID + "."
	heard := 0
	for _, m := range r.Members {
		if !w.ignoring(m, s, player.IgnoreRoom) {
			m.hear(line)
			heard++
		}
	}
	if o := w.online[r.Owner]; o != nil && o.room != r && !w.ignoring(o, s, player.IgnoreTells) {
		o.hear(line + " ('invite " + s.Player.Name + "' lets them in.)")
		heard++
	}
	if heard == 0 {
		s.println("You knock on the door of " + r.ID + ", but nobody answers.")
		return
	}
	s.println("You knock on the door of " + r.ID + ".")
}

func (w *World) cmdWarn(s *Session, args string) {
	name, msg := nameAndReason(args)
	if name == "" || msg == "" {
		usage(s, "warn", w)
		return
	}
	o, why := w.findVisible(s, name)
	if o == nil {
		s.println(why + " (A 'note' reaches their file whether they are on or not.)")
		return
	}
	if !outranks(s, o.Player, "warn") {
		return
	}
	msg = text.Truncate(msg, maxNote)
	// Framed and starting with the talker's marker, which no player's text
	// can: a warning cannot be faked by another player.
	o.println("*** WARNING from " + s.Player.Name + " (staff): " + msg + "^N ***")
	o.println("*** Please take note: staff keep a record of warnings.")
	s.println("You have warned " + o.Player.Name + ".")
	w.addNote(s, o.Player.Name, "WARNED: "+msg)
	w.staffLog(s, "warn", o.Player.Name, msg)
}

func (w *World) cmdNote(s *Session, args string) {
	name, body := nameAndReason(args)
	if name == "" || body == "" {
		usage(s, "note", w)
		return
	}
	p, _, msg := w.findPlayer(name)
	if p == nil {
		s.println(msg)
		return
	}
	// Like every staff action on a player: only on those below one's own
	// rank (a note is read by the writer's peers and superiors).
	if !outranks(s, p, "write a note on") {
		return
	}
	if w.addNote(s, p.Name, text.Truncate(body, maxNote)) {
		s.println("Note added to " + p.Name + "'s file.")
	}
}

// addNote files a note about the player named, telling s if it could not.
func (w *World) addNote(s *Session, name, body string) bool {
	if err := w.store.AddPlayerNote(name, s.Player.Name, body, w.cfg.Now()); err != nil {
		w.log.Error().Err(err).Str("player", name).Msg("could not add a note")
		s.println("Sorry, the note could not be saved just now.")
		return false
	}
	return true
}

func (w *World) cmdNotes(s *Session, args string) {
	name := strings.TrimSpace(args)
	if name == "" {
		usage(s, "notes", w)
		return
	}
	p, _, msg := w.findPlayer(name)
	if p == nil {
		s.println(msg)
		return
	}
	// The notes on a superior (or a peer, or oneself) are for those who
	// outrank them, as with writing one.
	if !outranks(s, p, "read the notes on") {
		return
	}
	notes, err := w.store.PlayerNotes(p.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not read notes")
		s.println("Sorry, the notes could not be read just now.")
		return
	}
	if len(notes) == 0 {
		s.println("There are no notes on " + p.Name + ".")
		return
	}
	s.println("Notes on " + p.Name + ", oldest first:")
	for _, n := range notes {
		s.println(n.At.Format("2006-01-02 15:04") + " " + n.Author + ": " + n.Body)
	}
}
