package server

import (
	"sort"
	"strings"

	"talker/server/store"
	"talker/server/text"
)

// Room is a room as the world holds it: the stored room plus who is in it,
// in order of arrival.
type Room struct {
	store.Room
	Members []*Session
	// hidden counts the Members that are invisible staff (hiddenStaff),
	// kept by add, remove and replace and recounted where a member's
	// invisibility or rank changes (recountHidden): with none, 'look' need
	// not ask of every member whether the viewer may see them.
	hidden int
	// gmcp counts the Members whose client has said anything in GMCP
	// beyond agreeing to it (telnet.State.GMCP set), the only ones that
	// can want Room.AddPlayer and Room.RemovePlayer: kept like hidden, and
	// recounted when a member's telnet state changes (World.event,
	// resumeSession). With none, an arrival in a crowded room is not a
	// look at every member's client.
	gmcp int
}

// gmcpClient says whether s's client may want GMCP beyond Core (see
// telnet.State.GMCPSupports).
func gmcpClient(s *Session) bool { return s.Telnet.GMCP != nil }

// hiddenStaff says whether s may be hidden from some (hiddenFrom).
func hiddenStaff(s *Session) bool {
	return s.Player != nil && s.Player.Invisible && s.Player.Rank >= staffRank
}

func (r *Room) add(s *Session) {
	r.Members = append(r.Members, s)
	if hiddenStaff(s) {
		r.hidden++
	}
	if gmcpClient(s) {
		r.gmcp++
	}
}

func (r *Room) remove(s *Session) {
	for i, m := range r.Members {
		if m == s {
			r.Members = append(r.Members[:i], r.Members[i+1:]...)
			if hiddenStaff(s) {
				r.hidden--
			}
			if gmcpClient(s) {
				r.gmcp--
			}
			return
		}
	}
}

// replace puts s where old was, keeping the order of arrival.
func (r *Room) replace(old, s *Session) {
	for i, m := range r.Members {
		if m == old {
			r.Members[i] = s
			r.recountHidden()
			r.recountGMCP()
			return
		}
	}
	r.add(s)
}

// recountHidden counts the invisible staff among the members again, after
// one's invisibility or rank changed.
func (r *Room) recountHidden() {
	r.hidden = 0
	for _, m := range r.Members {
		if hiddenStaff(m) {
			r.hidden++
		}
	}
}

// recountGMCP counts the GMCP clients among the members again, after
// one's telnet state changed.
func (r *Room) recountGMCP() {
	r.gmcp = 0
	for _, m := range r.Members {
		if gmcpClient(m) {
			r.gmcp++
		}
	}
}

// lookNames is how many of the people in a room look names.
const lookNames = 30

// moveTo moves a session into a room, telling the rooms left and entered.
func (w *World) moveTo(s *Session, to *Room, leaveMsg, arriveMsg string) {
	// In a crowded room (more than Config.AnnounceAll people) comings and
	// goings are not announced: they would drown the conversation, and
	// cost the talker a line per member for every arrival.
	from := s.room
	if from != nil {
		from.remove(s)
		if leaveMsg != "" && len(from.Members) < w.cfg.AnnounceAll {
			w.toRoom(from, s, leaveMsg)
		}
	}
	s.room = to
	to.add(s)
	if arriveMsg != "" && len(to.Members) <= w.cfg.AnnounceAll {
		w.toRoom(to, s, arriveMsg)
	}
	if s.Player.Room != to.ID {
		s.Player.Room = to.ID
		w.save(s.Player)
	}
	w.look(s)
	w.gmcpMoved(s, from) // gmcp.go
}

// findRoom finds a room by id, or by a unique prefix of its id or name.
func (w *World) findRoom(name string, among []string) (*Room, string) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil, "Which room?"
	}
	candidates := among
	if candidates == nil {
		for id := range w.rooms {
			candidates = append(candidates, id)
		}
		sort.Strings(candidates)
	}
	var matches []*Room
	for _, id := range candidates {
		r := w.rooms[id]
		if r == nil {
			continue
		}
		if r.ID == name || strings.ToLower(r.Name) == name {
			return r, ""
		}
		lname := strings.ToLower(strings.TrimPrefix(r.Name, "The "))
		if strings.HasPrefix(r.ID, name) || strings.HasPrefix(lname, name) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 0:
		return nil, "There is no room called '" + name + "'" + map[bool]string{true: " that way.", false: "."}[among != nil]
	case 1:
		return matches[0], ""
	default:
		return nil, "'" + name + "' could mean more than one room; be more specific."
	}
}

// look describes the session's room to it.
func (w *World) look(s *Session) {
	r := s.room
	if r == nil {
		return
	}
	reader := s.screenReader()
	head := text.Guard(r.Name) + " (" + r.ID + ")"
	switch {
	case r.Locked && reader:
		head += ", locked."
	case r.Locked:
		head += " [locked]"
	}
	s.println(head)
	if r.Description != "" {
		s.println(text.Guard(r.Description))
	}
	s.println(w.exitsLine(r))
	var others []string
	more := 0
	titled := false // whether the one other (if one) has a title
	for i, m := range r.Members {
		if m == s || w.hiddenFrom(s, m) {
			continue
		}
		if len(others) == lookNames {
			if r.hidden == 0 {
				// Nobody here is hidden from anyone: the rest are all
				// seen but s, if among them (a comparison of pointers
				// each, not a look at every member's player).
				more = len(r.Members) - i
				for _, o := range r.Members[i:] {
					if o == s {
						more--
						break
					}
				}
				break
			}
			more++
			continue
		}
		d := displayName(m.Player)
		titled = m.Player.Title != ""
		if m.AFK {
			d += " (AFK)"
		}
		others = append(others, d)
	}
	switch {
	case len(others) == 0:
		s.println("You are alone here.")
	case len(others) == 1 && titled:
		// EW-too's style: a title is written to follow the name, so it
		// makes the sentence ("Telly is trying things out.").
		if strings.ContainsAny(others[0][len(others[0])-1:], ".!?") {
			s.println(others[0])
		} else {
			s.println(others[0] + ".")
		}
	case len(others) == 1:
		s.println(others[0] + " is here.")
	case more > 0:
		s.println("Here with you: " + strings.Join(others, ", ") + " and " + plural(more, "other") + " ('who' lists everyone).")
	case reader:
		// A sentence: "A, B and C".
		s.println("Here with you: " + strings.Join(others[:len(others)-1], ", ") + " and " + others[len(others)-1] + ".")
	default:
		s.println("Here with you: " + strings.Join(others, ", ") + ".")
	}
}

func (w *World) exitsLine(r *Room) string {
	if len(r.Exits) == 0 {
		return "There are no exits."
	}
	names := make([]string, 0, len(r.Exits))
	for _, id := range r.Exits {
		if dest := w.rooms[id]; dest != nil {
			names = append(names, dest.ID)
		}
	}
	return "Exits: " + strings.Join(names, ", ") + "."
}

// roomIDs lists the rooms' ids, sorted.
func (w *World) roomIDs() []string {
	ids := make([]string, 0, len(w.rooms))
	for id := range w.rooms {
		ids = append(ids, id)
	}
	sortStrings(ids)
	return ids
}
