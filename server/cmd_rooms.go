package server

import (
	"strings"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// Personal rooms. Residents own rooms whose ids are their key, a dot and a
// short name ("alice.home"): the first is made the first time they type
// 'home'. An owner can name, describe, lock and link their rooms; a locked
// room lets in only its owner and the people they invite (an invitation,
// like a friend, is a flag on the owner's list, so it covers all their
// rooms). Staff get past locks only with 'trans'.

const (
	jailRoom       = "jail" // where jailed players are kept
	maxOwnedRooms  = 5
	maxRoomName    = 40
	maxRoomDesc    = 500
	maxRoomIDLen   = 12
	homeRoomSuffix = "home"
)

func roomCommands() []*command {
	return []*command{
		{name: "room", minRank: player.Resident, category: "Rooms",
			usage:   "room [create <id> | name <text> | desc <text> | lock | unlock | link <room> | unlink <room> | delete [room] | info]",
			summary: "build and change your own rooms",
			help: "Your rooms are yours to shape. 'room create <id>' makes a new one (up to " + itoa(maxOwnedRooms) + "; the id is letters, " +
				"and the room is called <you>.<id>) and takes you there; your first, <you>.home, is made by 'home'. " +
				"In a room of yours: 'room name <text>' and 'room desc <text>' set its name and description; 'room lock' lets in " +
				"only you and those you 'invite', 'room unlock' opens it again; 'room link <room>' adds an exit to another of your rooms " +
				"(both ways; name it by its short name, like 'home', or its full id) or to a public room (one way), and 'room unlink <room>' removes it. 'room' or 'room info' shows the room and " +
				"lists your rooms. New rooms have an exit to the main room. 'room delete' deletes the room you are in (or 'room delete <room>' one of yours): " +
				"whoever is in it goes to the main room. Staff can delete any room but the main room and the jail (public ones: admins), " +
				"and admins can name, describe and link the public rooms as owners do theirs (each change is in the staff log).",
			run: (*World).cmdRoom},
		{name: "invite", minRank: player.Resident, category: "Rooms", usage: "invite [name]",
			summary: "let someone into your rooms even when they are locked",
			help: "Lets the person into all your rooms, locked or not, and tells them so if they are on. 'invite' alone lists " +
				"who is invited; 'uninvite <name>' takes it back.",
			run: (*World).cmdInvite},
		{name: "uninvite", minRank: player.Resident, category: "Rooms", usage: "uninvite <name>",
			summary: "take back an invitation to your rooms",
			help:    "The person can no longer get into your rooms while they are locked. (Someone already inside stays until they leave.)",
			run:     (*World).cmdUninvite},
		{name: "visit", category: "Moving", usage: "visit <name>",
			summary: "go to someone's home room",
			help: "Takes you to the person's home room, whether or not they are on, unless it is locked and they have not invited you. " +
				"Newbies and people who have never typed 'home' have no home room.",
			run: (*World).cmdVisit},
		{name: "join", category: "Moving", usage: "join <name>",
			summary: "go to the room a friend is in",
			help: "Takes you to the room the person is in, unless it is a locked room you are not invited to, the jail, " +
				"or they are ignoring you.",
			run: (*World).cmdJoin},
	}
}

// jail returns the jail room, making it the first time it is needed.
func (w *World) jail() *Room {
	if r := w.rooms[jailRoom]; r != nil {
		return r
	}
	r := &Room{Room: store.Room{ID: jailRoom, Name: "The Jail", CreatedAt: w.cfg.Now(),
		Description: "A bare cell with a barred window and a hard bench. You stay here until a member of staff lets you out."}}
	w.saveRoom(r)
	w.rooms[jailRoom] = r
	return r
}

// mayEnter reports whether a player may go into a room: the jail only
// when jailed (or staff); a locked room only its owner and their guests.
func (w *World) mayEnter(p *player.Player, r *Room) bool {
	switch {
	case r.ID == jailRoom:
		return p.Jailed || p.Rank >= player.Staff
	case r.Owner == "" || !r.Locked || r.Owner == p.Key():
		return true
	}
	return w.ownerInvites(r.Owner, p.Key())
}

// ownerInvites reports whether a room owner has invited a guest, from
// their record in memory if they are on, or the database if not.
func (w *World) ownerInvites(owner, guest string) bool {
	if o := w.online[owner]; o != nil {
		return o.Player.Entry(guest).Invite
	}
	p, err := w.store.Player(owner)
	return err == nil && p.Entry(guest).Invite
}

// travel moves a player of their own accord: not out of the jail, not
// into a room they may not enter.
func (w *World) travel(s *Session, to *Room, leaveMsg, arriveMsg string) bool {
	switch {
	case s.Player.Jailed:
		s.println("You are in jail: you cannot go anywhere until a member of staff lets you out.")
		return false
	case to == s.room:
		s.println("You are already in " + to.Name + ".")
		return false
	case !w.mayEnter(s.Player, to):
		if to.ID == jailRoom {
			s.println("Only staff can go into the jail.")
		} else {
			s.println(text.Guard(to.Name) + " is locked.")
		}
		return false
	}
	w.moveTo(s, to, leaveMsg, arriveMsg)
	return true
}

func (w *World) cmdGo(s *Session, args string) {
	if args == "" {
		s.println(w.exitsLine(s.room))
		return
	}
	to, msg := w.findRoom(args, s.room.Exits)
	if to == nil {
		s.println(msg)
		return
	}
	p := s.Player
	w.travel(s, to, p.Name+" "+leaveText(p, to), p.Name+" "+arriveText(p))
}

func (w *World) cmdHome(s *Session, _ string) {
	home := w.homeRoom(s)
	if home == s.room {
		s.println("You are already home.")
		return
	}
	p := s.Player
	leave, arrive := "goes home.", "arrives home."
	if p.ExitMsg != "" {
		leave = p.ExitMsg
	}
	if p.EnterMsg != "" {
		arrive = p.EnterMsg
	}
	w.travel(s, home, p.Name+" "+leave, p.Name+" "+arrive)
}

// homeRoom is where 'home' takes a player: their own home, made now for a
// resident who has none, or else the start room.
func (w *World) homeRoom(s *Session) *Room {
	p := s.Player
	if r := w.rooms[p.Home]; r != nil {
		return r
	}
	if p.Rank >= player.Resident {
		if r, _ := w.createRoom(s, homeRoomSuffix); r != nil {
			s.println("You have a home of your own now: " + r.ID + ". 'help room' tells you how to make it yours.")
			return r
		}
	}
	return w.rooms[w.cfg.StartRoom]
}

// createRoom makes a new room owned by the session's player; the first
// one becomes their home.
func (w *World) createRoom(s *Session, short string) (*Room, string) {
	p := s.Player
	short = strings.ToLower(short)
	if short == "" || len(short) > maxRoomIDLen || strings.Trim(short, "abcdefghijklmnopqrstuvwxyz") != "" {
		return nil, "Room ids are 1 to " + itoa(maxRoomIDLen) + " letters."
	}
	id := p.Key() + "." + short
	if w.rooms[id] != nil {
		return nil, "You already have a room called " + id + "."
	}
	if len(w.ownedRooms(p.Key())) >= maxOwnedRooms {
		return nil, "You already have " + itoa(maxOwnedRooms) + " rooms, which is as many as anyone may have."
	}
	name := p.Name + "'s " + strings.ToUpper(short[:1]) + short[1:]
	r := &Room{Room: store.Room{ID: id, Name: name, Owner: p.Key(), CreatedAt: w.cfg.Now(),
		Description: "A room that " + p.Name + " has yet to describe.", Exits: []string{w.cfg.StartRoom}}}
	if err := w.store.SaveRoom(&r.Room); err != nil {
		w.log.Error().Err(err).Str("room", id).Msg("could not create a room")
		return nil, "Sorry, the room could not be made just now."
	}
	w.rooms[id] = r
	if w.rooms[p.Home] == nil {
		p.Home = id
		w.save(p)
	}
	w.log.Info().Str("player", p.Name).Str("room", id).Msg("room created")
	return r, ""
}

// ownedRooms lists the ids of a player's rooms, in order.
func (w *World) ownedRooms(key string) []string {
	var ids []string
	for _, id := range w.roomIDs() {
		if w.rooms[id].Owner == key {
			ids = append(ids, id)
		}
	}
	return ids
}

// saveRoom writes a room, logging (not failing) on error.
func (w *World) saveRoom(r *Room) {
	if err := w.store.SaveRoom(&r.Room); err != nil {
		w.log.Error().Err(err).Str("room", r.ID).Msg("could not save room")
	}
}

func (w *World) cmdRoom(s *Session, args string) {
	sub, rest, _ := strings.Cut(args, " ")
	sub, rest = strings.ToLower(sub), strings.TrimSpace(rest)
	if sub == "" || sub == "info" {
		w.roomInfo(s)
		return
	}
	if sub == "create" {
		r, msg := w.createRoom(s, rest)
		if r == nil {
			s.println(msg)
			return
		}
		s.println("You have made " + r.ID + ".")
		w.travel(s, r, s.Player.Name+" "+leaveText(s.Player, r), s.Player.Name+" "+arriveText(s.Player))
		return
	}
	if isRoomDelete(sub) {
		w.roomDelete(s, rest) // room_admin.go
		return
	}
	r := s.room
	if why := shapeRefusal(s, r, sub); why != "" { // its owner, or an admin in a public room (room_admin.go)
		s.println(why)
		return
	}
	switch sub {
	case "name":
		if rest == "" {
			usage(s, "room", w)
			return
		}
		r.Name = text.Truncate(rest, maxRoomName)
		s.println("This room is now called " + r.Name + ".")
	case "desc", "description":
		if rest == "" {
			usage(s, "room", w)
			return
		}
		r.Description = text.Truncate(rest, maxRoomDesc)
		s.println("Room description set.")
	case "lock", "unlock":
		r.Locked = sub == "lock"
		s.println(text.Guard(r.Name) + " is now " + sub + "ed.")
		w.toRoom(r, s, s.Player.Name+" "+sub+"s the room.")
	case "link":
		if !w.roomLink(s, r, rest) {
			return
		}
	case "unlink":
		if !w.roomUnlink(s, r, rest) {
			return
		}
	default:
		usage(s, "room", w)
		return
	}
	w.saveRoom(r)
	w.logPublicRoomEdit(s, r, sub, rest)
}

func (w *World) roomInfo(s *Session) {
	r := s.room
	owner := "the talker"
	if r.Owner != "" {
		owner = r.Owner
		if o := w.online[r.Owner]; o != nil {
			owner = o.Player.Name
		}
	}
	s.println(text.Guard(r.Name) + " (" + r.ID + "), owned by " + owner + ", " + map[bool]string{true: "locked", false: "open"}[r.Locked] + ".")
	s.println(w.exitsLine(r))
	mine := w.ownedRooms(s.Player.Key())
	if len(mine) == 0 {
		s.println("You have no rooms yet: 'home' makes your first.")
		return
	}
	s.println("Your rooms: " + strings.Join(mine, ", ") + ". Home: " + s.Player.Home + ".")
}

// ownRoom finds a room by the short name its owner gave it ("home" for
// "tinny.home"), for its owner.
func (w *World) ownRoom(s *Session, name string) *Room {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || strings.Contains(name, ".") {
		return nil
	}
	return w.rooms[s.Player.Key()+"."+name]
}

func (w *World) roomLink(s *Session, r *Room, name string) bool {
	to, msg := w.ownRoom(s, name), ""
	if to == nil {
		to, msg = w.findRoom(name, nil)
	}
	switch {
	case to == nil:
		s.println(msg)
		return false
	case to == r:
		s.println("A room cannot lead to itself.")
		return false
	case to.ID == jailRoom || (to.Owner != "" && to.Owner != s.Player.Key()):
		s.println("You can link your rooms only to each other and to public rooms.")
		return false
	case contains(r.Exits, to.ID):
		s.println("There is already an exit to " + to.ID + ".")
		return false
	}
	r.Exits = append(r.Exits, to.ID)
	if to.Owner == s.Player.Key() && !contains(to.Exits, r.ID) {
		to.Exits = append(to.Exits, r.ID)
		w.saveRoom(to)
		s.println("Linked: there are exits both ways between " + r.ID + " and " + to.ID + ".")
	} else {
		s.println("Linked: there is an exit from here to " + to.ID + ".")
	}
	return true
}

func (w *World) roomUnlink(s *Session, r *Room, name string) bool {
	to, msg := w.ownRoom(s, name), ""
	if to == nil || !contains(r.Exits, to.ID) {
		to, msg = w.findRoom(name, r.Exits)
	}
	if to == nil {
		s.println(msg)
		return false
	}
	r.Exits = without(r.Exits, to.ID)
	if to.Owner == s.Player.Key() && contains(to.Exits, r.ID) {
		to.Exits = without(to.Exits, r.ID)
		w.saveRoom(to)
	}
	s.println("The exit to " + to.ID + " is gone.")
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func without(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func (w *World) cmdInvite(s *Session, args string) {
	if args == "" {
		w.showList(s, "invited to your rooms", func(e player.ListEntry) bool { return e.Invite })
		return
	}
	p, online, msg := w.findPlayer(args)
	if p == nil {
		s.println(msg)
		return
	}
	if p.Key() == s.Player.Key() {
		s.println("You can always get into your own rooms.")
		return
	}
	w.updateEntry(s, p, func(e *player.ListEntry) { e.Invite = true })
	s.println(p.Name + " may now enter your rooms, locked or not.")
	if online != nil {
		online.hear(s.Player.Name + " has invited you to their rooms: 'visit " + strings.ToLower(s.Player.Name) + "' takes you there.")
	}
}

func (w *World) cmdUninvite(s *Session, args string) {
	if args == "" {
		usage(s, "uninvite", w)
		return
	}
	key, name := w.listTarget(s, args)
	if key == "" {
		s.println("You have not invited '" + args + "'.")
		return
	}
	if !s.Player.Entry(key).Invite {
		s.println("You have not invited " + name + ".")
		return
	}
	w.updateEntryKey(s, key, name, func(e *player.ListEntry) { e.Invite = false })
	s.println(name + " is no longer invited to your rooms.")
}

func (w *World) cmdVisit(s *Session, args string) {
	if args == "" {
		usage(s, "visit", w)
		return
	}
	p, _, msg := w.findPlayer(args)
	if p == nil {
		s.println(msg)
		return
	}
	home := w.rooms[p.Home]
	if home == nil {
		s.println(p.Name + " has no home room.")
		return
	}
	me := s.Player
	w.travel(s, home, me.Name+" "+leaveText(me, home), me.Name+" "+arriveText(me))
}

func (w *World) cmdJoin(s *Session, args string) {
	if args == "" {
		usage(s, "join", w)
		return
	}
	o, msg := w.findVisible(s, args) // invis.go
	switch {
	case o == nil:
		s.println(msg)
		return
	case o == s:
		s.println("You are always with yourself.")
		return
	case o.room == s.room:
		s.println("You are already with " + o.Player.Name + ".")
		return
	case w.ignoring(o, s, player.IgnoreRoom):
		s.println(o.Player.Name + " is ignoring you.")
		return
	}
	me := s.Player
	w.travel(s, o.room, me.Name+" "+leaveText(me, o.room), me.Name+" "+arriveText(me))
}
