package server

import (
	"strings"
	"time"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// More ways of finding out who is about, from the classic sets
// (talkers.md): swho (EW-too's short who), where, lsu (PG+'s list of staff
// on), last (recent logins), time and version.

// lastLogins is how many logins 'last' lists at most: a screenful.
const lastLogins = 20

func moreInfoCommands() []*command {
	return []*command{
		{name: "swho", category: "Information", usage: "swho",
			summary: "a short list of who is on",
			help:    "Just the names of everyone logged in, several to a line (the rank marks are as in 'who': * admin, ^ staff, _ newbie).",
			run:     (*World).cmdSwho},
		{name: "where", category: "Information", usage: "where [name]",
			summary: "see who is in which room",
			help:    "Lists every room someone is in, with who is there. 'where <name>' says which room one person is in.",
			run:     (*World).cmdWhere},
		{name: "lsu", aliases: []string{"staff"}, category: "Information", usage: "lsu",
			summary: "list the staff who are on",
			help:    "Lists the members of staff and admins logged in, with how long each has been idle: the people to ask for help.",
			run:     (*World).cmdLsu},
		{name: "last", category: "Information", usage: "last [name]",
			summary: "see who logged in recently",
			help: "Lists the last " + itoa(lastLogins) + " logins to the talker, newest first, with when. 'last <name>' shows when that person " +
				"last logged in (or that they are on now).",
			run: (*World).cmdLast},
		{name: "time", aliases: []string{"date"}, category: "Information", usage: "time",
			summary: "the talker's time and how long you have been on",
			help:    "Shows the date and time where the talker runs (and in UTC), and how long you have been logged in this time.",
			run:     (*World).cmdTime},
		{name: "version", category: "Information", usage: "version",
			summary: "which version of the talker is running",
			help:    "Shows the version of the talker's program, as 'talker status' shows it on the server.",
			run:     (*World).cmdVersion},
	}
}

func (w *World) cmdSwho(s *Session, _ string) {
	list := w.visibleTo(s)
	s.println("There " + map[bool]string{true: "is", false: "are"}[len(list) == 1] + " " + plural(len(list), "person") + " on " + w.cfg.Name + ":")
	if s.screenReader() {
		names := make([]string, len(list))
		for i, o := range list {
			names[i] = o.Player.Name
		}
		s.println(strings.Join(names, ", ") + ".")
		return
	}
	// As many 16-column names as fit the width: five on 80 columns.
	per := max(1, s.width()/16)
	var line strings.Builder
	for i, o := range list {
		line.WriteString(pad(rankMark(o.Player.Rank)+o.Player.Name, 16))
		if (i+1)%per == 0 || i == len(list)-1 {
			s.println(strings.TrimRight(line.String(), " "))
			line.Reset()
		}
	}
	s.println(whoLegend)
}

func (w *World) cmdWhere(s *Session, args string) {
	if args != "" {
		o, msg := w.findVisible(s, args)
		if o == nil {
			s.println(msg)
			return
		}
		if o.room == nil {
			s.println(o.Player.Name + " is not in any room just now.")
			return
		}
		s.println(o.Player.Name + " is in " + text.Guard(o.room.Name) + " (" + o.room.ID + ").")
		return
	}
	byRoom := map[*Room][]string{}
	var rooms []*Room
	for _, o := range w.visibleTo(s) {
		if o.room == nil {
			continue
		}
		if byRoom[o.room] == nil {
			rooms = append(rooms, o.room)
		}
		byRoom[o.room] = append(byRoom[o.room], o.Player.Name+invisibleMark(o.Player))
	}
	if len(rooms) == 0 {
		s.println("Nobody is in any room.")
		return
	}
	sortRooms(rooms)
	for _, r := range rooms {
		s.println(text.Guard(r.Name) + " (" + r.ID + "): " + strings.Join(byRoom[r], ", "))
	}
}

func sortRooms(rs []*Room) {
	ids := make([]string, len(rs))
	byID := make(map[string]*Room, len(rs))
	for i, r := range rs {
		ids[i], byID[r.ID] = r.ID, r
	}
	sortStrings(ids)
	for i, id := range ids {
		rs[i] = byID[id]
	}
}

func (w *World) cmdLsu(s *Session, _ string) {
	now := w.cfg.Now()
	var lines []string
	for _, o := range w.visibleTo(s) {
		if o.Player.Rank < staffRank {
			continue
		}
		line := pad(rankMark(o.Player.Rank)+" "+o.Player.Name+invisibleMark(o.Player), 28) + o.Player.Rank.String()
		if idle := now.Sub(o.LastInput); idle >= time.Minute {
			line += ", idle " + ago(idle)
		}
		if o.AFK {
			line += ", AFK"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		s.println("No member of staff is on just now. 'mail' reaches them later.")
		return
	}
	s.println("Staff on " + w.cfg.Name + ":")
	for _, l := range lines {
		s.println(l)
	}
}

func (w *World) cmdLast(s *Session, args string) {
	now := w.cfg.Now()
	if args != "" {
		p, online, msg := w.findPlayer(args)
		if p == nil {
			s.println(msg)
			return
		}
		if online != nil && !w.hiddenFrom(s, online) {
			s.println(p.Name + " is on now: logged in " + ago(now.Sub(online.LoggedInAt)) + " ago.")
			return
		}
		if p.LastSeen.IsZero() {
			s.println(p.Name + " has never logged in.")
			return
		}
		s.println(p.Name + " was last on " + ago(now.Sub(p.LastSeen)) + " ago (" + p.LastSeen.Format("Mon 2 Jan 15:04") + ").")
		return
	}
	logins, err := w.store.RecentLogins(lastLogins)
	if err != nil {
		w.log.Error().Err(err).Msg("last: could not read logins")
		s.println("Sorry, that could not be looked up just now.")
		return
	}
	var lines []string
	whose := map[string]*player.Player{} // the accounts of the logins, looked up once each
	for _, l := range logins {
		if w.unseenLogin(s, l, whose) {
			continue
		}
		lines = append(lines, pad(l.Name, 18)+l.At.Format("Mon 2 Jan 15:04")+"  ("+ago(now.Sub(l.At))+" ago)")
	}
	if len(lines) == 0 {
		s.println("Nobody has logged in yet.")
		return
	}
	s.println("Recent logins, newest first:")
	for _, l := range lines {
		s.println(l)
	}
}

// unseenLogin says whether the login l was made unseen by viewer: by a
// member of staff above them, invisible now, after the last time everyone
// saw them (LastSeen: invisible logins and logouts leave it alone,
// invis.go), so that 'last' would give away that they were on. A login
// from before they turned invisible was seen, and is listed. whose keeps
// the accounts looked up (nil for one that is gone).
func (w *World) unseenLogin(viewer *Session, l store.Login, whose map[string]*player.Player) bool {
	key := player.Key(l.Name)
	p, ok := whose[key]
	if !ok {
		if o := w.online[key]; o != nil {
			p = o.Player
		} else if found, err := w.store.Player(l.Name); err == nil {
			p = found
		}
		whose[key] = p
	}
	return p != nil && comesAndGoesUnseen(p) && p.Key() != viewer.Player.Key() && viewer.Player.Rank < p.Rank &&
		l.At.After(p.LastSeen.Add(time.Second))
}

func (w *World) cmdTime(s *Session, _ string) {
	now := w.cfg.Now()
	s.println("It is " + now.Local().Format("Monday 2 January 2006, 15:04 MST") + " on " + w.cfg.Name + " (" + now.UTC().Format("15:04") + " UTC).")
	s.println("You have been on for " + ago(now.Sub(s.LoggedInAt)) + ".")
}

func (w *World) cmdVersion(s *Session, _ string) {
	s.println(w.cfg.Name + " is running talker version " + w.cfg.Version + ".")
}
