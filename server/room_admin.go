package server

import (
	"strings"

	"talker/player"
)

// 'room delete', and admins shaping the public rooms (those with no owner)
// in-game with the owners' own 'room name', 'room desc', 'room link' and
// 'room unlink' (cmdRoom): every such change is in the staff log.

// shapeRefusal says why s may not change room r with 'room <sub>' ("" if
// it may): a room is its owner's to change, and a public room an admin's,
// except that public rooms are never locked (mayEnter lets everyone in).
func shapeRefusal(s *Session, r *Room, sub string) string {
	switch {
	case r.Owner != "" && r.Owner == s.Player.Key():
		return ""
	case r.Owner != "" || s.Player.Rank < player.Admin:
		return "This is not your room: go to one of your own first ('home', or 'room' to list them)."
	case sub == "lock" || sub == "unlock":
		return "Public rooms are open to everyone: they cannot be locked."
	}
	return ""
}

// logPublicRoomEdit writes an admin's change to a public room in the staff
// log (an owner's changes to their own room are theirs).
func (w *World) logPublicRoomEdit(s *Session, r *Room, sub, rest string) {
	if r.Owner == "" {
		w.staffLog(s, "room "+sub, r.ID, rest)
	}
}

// roomDelete deletes a room: one of the player's own (the room they are
// in, or one named by its short name or id), or for staff any room but the
// start room and the jail. Whoever is in it goes to the start room; exits
// to it go with it.
func (w *World) roomDelete(s *Session, name string) {
	r := s.room
	if name != "" {
		if r = w.ownRoom(s, name); r == nil {
			var msg string
			if r, msg = w.findRoom(name, nil); r == nil {
				s.println(msg)
				return
			}
		}
	}
	owner := r.Owner != "" && r.Owner == s.Player.Key()
	staff := s.Player.Rank >= staffRank
	switch {
	case r.ID == w.cfg.StartRoom || r.ID == jailRoom:
		s.println(r.ID + " cannot be deleted: the talker needs it.")
		return
	case !owner && !staff:
		s.println("You can delete only your own rooms ('room' lists them).")
		return
	case !owner && r.Owner == "" && s.Player.Rank < player.Admin:
		s.println("Only admins can delete a public room.")
		return
	case !owner && r.Owner != "" && !w.outranksOwner(s, r.Owner):
		return
	}
	if err := w.store.DeleteRoom(r.ID); err != nil {
		w.log.Error().Err(err).Str("room", r.ID).Msg("could not delete a room")
		s.println("Sorry, the room could not be deleted just now.")
		return
	}
	delete(w.rooms, r.ID)
	delete(w.review, r.ID)
	for _, other := range w.rooms {
		if contains(other.Exits, r.ID) {
			other.Exits = without(other.Exits, r.ID)
		}
	}
	start := w.rooms[w.cfg.StartRoom]
	for _, o := range w.online {
		if o.Player.Home == r.ID {
			o.Player.Home = ""
			w.touch(o) // the home is part of its checkpoint
		}
	}
	for _, m := range append([]*Session(nil), r.Members...) {
		if m != s {
			m.println("*** " + s.Player.Name + " has deleted " + r.ID + "; you find yourself in " + start.Name + ".")
		}
		w.moveTo(m, start, "", m.Player.Name+" arrives from a room that is no more.")
		w.touch(m)
	}
	s.println("You have deleted " + r.ID + ".")
	w.log.Info().Str("player", s.Player.Name).Str("room", r.ID).Msg("room deleted")
	if !owner {
		owned := r.Owner
		if owned == "" {
			owned = "public"
		}
		w.staffLog(s, "room delete", r.ID, "owner: "+owned)
	}
}

// isRoomDelete reads "delete [room]" from 'room'.
func isRoomDelete(sub string) bool { return strings.EqualFold(sub, "delete") }

// outranksOwner: staff delete another's room only when they outrank its
// owner (online or not), as every other staff command on a player.
func (w *World) outranksOwner(s *Session, owner string) bool {
	var p *player.Player
	if o := w.online[owner]; o != nil && o.Player != nil {
		p = o.Player
	} else if stored, err := w.store.Player(owner); err == nil {
		p = stored
	} else {
		s.println("The owner of that room cannot be looked up just now; nothing was deleted.")
		return false
	}
	return outranks(s, p, "delete a room of")
}
