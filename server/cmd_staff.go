package server

import (
	"strconv"
	"strings"
	"time"

	"talker/player"
	"talker/server/store"
)

// Staff tools. The rule for every action on another player: you may act
// only on people of a lower rank than your own (staff cannot touch staff
// or admins; admins can act on staff, not on other admins). Every action
// is written to the staff log, which staff read with 'stafflog'.

const staffRank = player.Staff

func staffCommands() []*command {
	return []*command{
		{name: "promote", minRank: staffRank, category: "Staff", usage: "promote <name> [rank]",
			summary: "raise someone's rank",
			help: "Raises the person one rank (newbie, resident, staff, admin), or to the rank named, which may not be above your own. " +
				"Works whether they are on or not.",
			run: (*World).cmdPromote},
		{name: "demote", minRank: staffRank, category: "Staff", usage: "demote <name> [rank]",
			summary: "lower someone's rank",
			help: "Lowers the person one rank, or to the rank named. You can demote only people below your own rank: staff cannot demote " +
				"staff or admins, and admins cannot demote each other.",
			run: (*World).cmdDemote},
		{name: "kick", aliases: []string{"boot"}, minRank: staffRank, category: "Staff", usage: "kick <name> [reason]",
			summary: "disconnect someone, with a reason",
			help:    "Disconnects the person at once; they see who did it and the reason. They may log in again: 'ban name' keeps them out.",
			run:     (*World).cmdKick},
		{name: "gag", aliases: []string{"muzzle"}, minRank: staffRank, category: "Staff", usage: "gag <name> [reason]",
			summary: "stop someone talking to anyone",
			help: "A gagged player cannot say, emote, think, tell, remote, whisper, shout or send mail until ungagged; it lasts across " +
				"log-outs. 'ungag <name>' lifts it.",
			run: func(w *World, s *Session, args string) { w.cmdGag(s, args, true) }},
		{name: "ungag", aliases: []string{"unmuzzle"}, minRank: staffRank, category: "Staff", usage: "ungag <name>",
			summary: "let a gagged player talk again",
			help:    "Lifts a gag.",
			run:     func(w *World, s *Session, args string) { w.cmdGag(s, args, false) }},
		{name: "jail", minRank: staffRank, category: "Staff", usage: "jail <name> [reason]",
			summary: "lock someone in the jail",
			help: "Moves the person to the jail, a room with no exits, and keeps them there — across log-outs — until 'unjail'. " +
				"A jailed player cannot move or shout; they can still talk to whoever is in the jail and send tells.",
			run: func(w *World, s *Session, args string) { w.cmdJail(s, args, true) }},
		{name: "unjail", minRank: staffRank, category: "Staff", usage: "unjail <name>",
			summary: "let someone out of the jail",
			help:    "Releases the person from the jail to the main room.",
			run:     func(w *World, s *Session, args string) { w.cmdJail(s, args, false) }},
		{name: "ban", minRank: staffRank, category: "Staff", usage: "ban [name <name> | site <address|range>] [length] [reason]",
			summary: "keep a name or an address out, for a time or for good",
			help: "'ban name <name>' refuses the name at log-in (whether or not it has an account; not someone of your rank or above). " +
				"'ban site <address>' or 'ban site <range>' (CIDR, like 10.0.0.0/8) refuses connections from there with a message. " +
				"Either may be followed by a length — a number and s, m, h, d or w, like 30m, 2h or 7d; 'perm' or nothing for good — and a reason. " +
				"Banned players who are on are disconnected. 'ban' alone lists the bans; 'unban' lifts one.",
			run: (*World).cmdBan},
		{name: "unban", minRank: staffRank, category: "Staff", usage: "unban [name <name> | site <address|range> | <number>]",
			summary: "lift a ban",
			help: "'unban name <name>' and 'unban site <address or range>' lift a ban as 'ban' put it; 'unban <number>' lifts the ban " +
				"with that number, as 'ban' lists them. 'unban <name or site>' alone works too when only one ban fits.",
			run: (*World).cmdUnban},
		{name: "newbies", minRank: staffRank, category: "Staff", usage: "newbies [open | close]",
			summary: "open or close the talker to new players",
			help: "'newbies close' refuses new registrations (people at the name prompt are told the talker is not accepting new players " +
				"right now); existing players can still log in. 'newbies open' lets new players in again; 'newbies' alone shows which it is.",
			run: (*World).cmdNewbies},
		{name: "wall", minRank: staffRank, category: "Staff", usage: "wall <message>",
			summary: "announce something to everyone",
			help:    "Sends a message to everyone logged in, in every room, whatever they ignore and earmuffs or not.",
			run:     (*World).cmdWall},
		{name: "trans", minRank: staffRank, category: "Staff", usage: "trans <name> [room]",
			summary: "move someone (or yourself) to a room",
			help: "Moves the person to the room named, or to the room you are in; locks do not stop it. To move yourself, give your own name. " +
				"You can move only yourself and people below your own rank; a jailed player has to be unjailed first.",
			run: (*World).cmdTrans},
		{name: "stafflog", minRank: staffRank, category: "Staff", usage: "stafflog [n]",
			summary: "read the log of staff actions",
			help: "Shows the last n (20 unless you say) staff actions — promote, demote, kick, gag, jail, ban, unban, newbies, wall, " +
				"trans, shutdown, reboot, enable, disable, resetpassword, rename, deleteaccount — with when, who, to whom and why.",
			run: (*World).cmdStaffLog},
		{name: "shutdown", minRank: adminRank, category: "Staff", usage: "shutdown now | <seconds> | cancel [reason]",
			summary: "stop the talker (and the angel), now or after a countdown",
			help: "Stops the talker as 'talker stop' does: everyone is told and disconnected, the angel stops too, and the talker stays down " +
				"until someone runs 'talker start' on the server. 'shutdown now' stops at once; 'shutdown <seconds>' counts down first, " +
				"announcing every minute and then every 10 seconds; 'shutdown cancel' stops the countdown. 'shutdown' alone only explains. " +
				"('reboot' restarts without disconnecting anyone.)",
			run: (*World).cmdShutdown},
	}
}

// staffLog records a staff action in the database and the log, and tells
// the other staff who are on.
func (w *World) staffLog(s *Session, action, target, reason string) {
	w.staffLogBy(s.Player.Name, s, action, target, reason)
}

// staffLogBy is staffLog for an action by someone who may not be on (the
// console: 'talker account ...'); s, if not nil, is not told.
func (w *World) staffLogBy(actor string, s *Session, action, target, reason string) {
	w.staffLogFor(staffRank, actor, s, action, target, reason)
}

// staffLogFor is staffLogBy with the line shown only to those of rank min
// and above ('invis' by staff: invis.go).
func (w *World) staffLogFor(min player.Rank, actor string, s *Session, action, target, reason string) {
	a := store.StaffAction{At: w.cfg.Now(), Actor: actor, Action: action, Target: target, Reason: reason}
	if err := w.store.LogStaffAction(a); err != nil {
		w.log.Error().Err(err).Msg("could not write the staff log")
	}
	w.log.Info().Str("by", a.Actor).Str("action", action).Str("target", target).Str("reason", reason).Msg("staff action")
	line := "*** [staff] " + staffLogLine(a)
	for _, o := range w.online {
		if o != s && o.Player.Rank >= staffRank && o.Player.Rank >= min {
			o.println(line)
		}
	}
}

func staffLogLine(a store.StaffAction) string {
	line := a.Actor + " " + a.Action
	if a.Target != "" {
		line += " " + a.Target
	}
	if a.Reason != "" {
		line += ": " + a.Reason
	}
	return line
}

// outranks checks that the session's player may act on p, telling them
// why not.
func outranks(s *Session, p *player.Player, verb string) bool {
	switch {
	case p.Key() == s.Player.Key():
		s.println("You cannot " + verb + " yourself.")
		return false
	case p.Rank >= s.Player.Rank:
		s.println("You cannot " + verb + " " + p.Name + ", who is " + p.Rank.String() + ": only people below your own rank.")
		return false
	}
	return true
}

// nameAndReason splits "name the rest" into the name and a reason.
func nameAndReason(args string) (string, string) {
	name, reason, _ := strings.Cut(strings.TrimSpace(args), " ")
	return name, strings.TrimSpace(reason)
}

// because formats an optional reason for messages: " (reason)" or "".
func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func (w *World) cmdPromote(s *Session, args string) { w.changeRank(s, args, true) }
func (w *World) cmdDemote(s *Session, args string)  { w.changeRank(s, args, false) }

func (w *World) changeRank(s *Session, args string, up bool) {
	verb := map[bool]string{true: "promote", false: "demote"}[up]
	name, rankArg := nameAndReason(args)
	if name == "" {
		usage(s, verb, w)
		return
	}
	p, online, msg := w.findPlayer(name)
	if p == nil {
		s.println(msg)
		return
	}
	if !outranks(s, p, verb) {
		return
	}
	to, ok := stepRank(p.Rank, up)
	if rankArg != "" {
		r, err := player.ParseRank(rankArg)
		if err != nil {
			s.println("Sorry, " + err.Error() + ".")
			return
		}
		to, ok = r, true
	}
	switch {
	case !ok:
		s.println(p.Name + " is already " + p.Rank.String() + ", the " + map[bool]string{true: "highest", false: "lowest"}[up] + " rank.")
		return
	case up && to <= p.Rank:
		s.println(p.Name + " is " + p.Rank.String() + ": promoting means a higher rank.")
		return
	case !up && to >= p.Rank:
		s.println(p.Name + " is " + p.Rank.String() + ": demoting means a lower rank.")
		return
	case up && to > s.Player.Rank:
		s.println("You cannot promote anyone above your own rank.")
		return
	}
	from := p.Rank
	p.Rank = to
	if online != nil && online.room != nil {
		online.room.recountHidden() // an invisible member of staff no longer (or now) hidden
	}
	w.savePlayer(p, online)
	s.println(p.Name + " is now " + to.String() + " (was " + from.String() + ").")
	if online != nil {
		online.println("*** " + s.Player.Name + " has " + verb + "d you to " + to.String() + ".")
	}
	w.staffLog(s, verb, p.Name, from.String()+" -> "+to.String())
}

// stepRank is the rank next to r, up or down.
func stepRank(r player.Rank, up bool) (player.Rank, bool) {
	ranks := player.AllRanks()
	for i, x := range ranks {
		if x != r {
			continue
		}
		if up && i+1 < len(ranks) {
			return ranks[i+1], true
		}
		if !up && i > 0 {
			return ranks[i-1], true
		}
	}
	return r, false
}

func (w *World) cmdKick(s *Session, args string) {
	name, reason := nameAndReason(args)
	if name == "" {
		usage(s, "kick", w)
		return
	}
	o, msg := w.findOnline(name)
	if o == nil {
		s.println(msg)
		return
	}
	if !outranks(s, o.Player, "kick") {
		return
	}
	w.kick(o, "*** You have been kicked off "+w.cfg.Name+" by "+s.Player.Name+because(reason)+".", closeKicked, s.Player.Name)
	s.println("You have kicked " + o.Player.Name + " off the talker.")
	w.staffLog(s, "kick", o.Player.Name, reason)
}

// kick disconnects a session after telling it why.
func (w *World) kick(o *Session, tell string, reason closeReason, by string) {
	o.println(tell)
	w.log.Info().Str("player", o.name()).Stringer("reason", reason).Str("by", by).Msg("disconnected by staff")
	w.closeSession(o, reason)
}

// staffTarget reads "<name> [reason]" for a staff command acting on a
// player (online or not), telling the staff member what is wrong if the
// name is missing, unknown, or of a rank they may not act on.
func (w *World) staffTarget(s *Session, args, verb string) (p *player.Player, online *Session, reason string, ok bool) {
	name, reason := nameAndReason(args)
	if name == "" {
		usage(s, verb, w)
		return nil, nil, "", false
	}
	p, online, msg := w.findPlayer(name)
	if p == nil {
		s.println(msg)
		return nil, nil, "", false
	}
	if !outranks(s, p, verb) {
		return nil, nil, "", false
	}
	return p, online, reason, true
}

func (w *World) cmdGag(s *Session, args string, gag bool) {
	verb := map[bool]string{true: "gag", false: "ungag"}[gag]
	p, online, reason, ok := w.staffTarget(s, args, verb)
	if !ok {
		return
	}
	if p.Gagged == gag {
		s.println(p.Name + " is " + map[bool]string{true: "already", false: "not"}[gag] + " gagged.")
		return
	}
	p.Gagged = gag
	w.savePlayer(p, online)
	if gag {
		s.println(p.Name + " is gagged.")
		if online != nil {
			online.println("*** You have been gagged by " + s.Player.Name + because(reason) + ": you cannot talk to anyone until you are ungagged.")
		}
	} else {
		s.println(p.Name + " is no longer gagged.")
		if online != nil {
			online.println("*** " + s.Player.Name + " has ungagged you: you can talk again.")
		}
	}
	w.staffLog(s, verb, p.Name, reason)
}

func (w *World) cmdJail(s *Session, args string, jail bool) {
	verb := map[bool]string{true: "jail", false: "unjail"}[jail]
	p, online, reason, ok := w.staffTarget(s, args, verb)
	if !ok {
		return
	}
	if p.Jailed == jail {
		s.println(p.Name + " is " + map[bool]string{true: "already", false: "not"}[jail] + " in jail.")
		return
	}
	p.Jailed = jail
	to := w.jail()
	if !jail {
		to = w.rooms[w.cfg.StartRoom]
	}
	if online != nil {
		if jail {
			online.println("*** You have been jailed by " + s.Player.Name + because(reason) + ".")
			w.moveTo(online, to, p.Name+" is dragged off to the jail.", p.Name+" is thrown into the jail.")
		} else {
			online.println("*** " + s.Player.Name + " has let you out of the jail.")
			w.moveTo(online, to, p.Name+" is let out of the jail.", p.Name+" arrives, blinking, from the jail.")
		}
	} else {
		p.Room = to.ID
	}
	w.savePlayer(p, online)
	s.println(p.Name + map[bool]string{true: " is in jail.", false: " is out of jail."}[jail])
	w.staffLog(s, verb, p.Name, reason)
}

func (w *World) cmdBan(s *Session, args string) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	kind = strings.ToLower(kind)
	if kind == "" {
		w.listBans(s)
		return
	}
	target, rest, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if target == "" || kind != store.BanName && kind != store.BanSite {
		usage(s, "ban", w)
		return
	}
	rest = strings.TrimSpace(rest)
	var length time.Duration
	if first, after, _ := strings.Cut(rest, " "); first != "" {
		if d, ok := parseBanLength(first); ok {
			length, rest = d, strings.TrimSpace(after)
		}
	}
	now := w.cfg.Now()
	b := store.Ban{Kind: kind, Reason: rest, By: s.Player.Name, CreatedAt: now}
	if length > 0 {
		b.ExpiresAt = now.Add(length)
	}
	if kind == store.BanName {
		valid, err := player.ValidateName(target)
		if err != nil {
			s.println("That is not a name: " + err.Error() + ".")
			return
		}
		if p, _, _ := w.findPlayer(valid); p != nil && !outranks(s, p, "ban") {
			return
		}
		b.Pattern = player.Key(valid)
		if w.nameBan(valid) != nil {
			s.println(valid + " is already banned; 'unban name " + b.Pattern + "' first to change the ban.")
			return
		}
	} else {
		site, ok := parseSite(target)
		if !ok {
			s.println("'" + target + "' is not an address or a range like 10.0.0.0/8.")
			return
		}
		b.Pattern = site
	}
	if err := w.store.AddBan(&b); err != nil {
		w.log.Error().Err(err).Msg("could not store a ban")
		s.println("Sorry, the ban could not be stored.")
		return
	}
	w.bans = append(w.bans, b)
	what := "the name " + b.Pattern
	if kind == store.BanSite {
		what = "the site " + b.Pattern
	}
	until := " for good"
	if length > 0 {
		until = " for " + ago(length)
	}
	s.println("Banned " + what + until + " (ban #" + strconv.FormatInt(b.ID, 10) + ").")
	// Those it covers who are on now go (but never the banner or anyone
	// of their rank or above).
	for _, o := range w.playing() {
		covered := kind == store.BanName && o.Player.Key() == b.Pattern ||
			kind == store.BanSite && w.siteBan(o.Addr) != nil
		if covered && o.Player.Rank < s.Player.Rank {
			msg := nameBanMessage(w, &b)
			if kind == store.BanSite {
				msg = siteBanMessage(w, &b)
			}
			w.kick(o, "*** "+msg, closeBanned, s.Player.Name)
			s.println(o.Player.Name + " has been disconnected.")
		}
	}
	reason := b.Reason
	if length > 0 {
		reason = strings.TrimSpace("for " + ago(length) + " " + reason)
	}
	w.staffLog(s, "ban "+kind, b.Pattern, reason)
}

func (w *World) listBans(s *Session) {
	bans := w.activeBans()
	if len(bans) == 0 {
		s.println("Nobody and nowhere is banned.")
		return
	}
	now := w.cfg.Now()
	s.println("Bans:")
	for _, b := range bans {
		line := "  #" + strconv.FormatInt(b.ID, 10) + " " + b.Kind + " " + b.Pattern + ", by " + b.By + ", "
		if b.ExpiresAt.IsZero() {
			line += "for good"
		} else {
			line += ago(b.ExpiresAt.Sub(now).Round(time.Second)) + " left"
		}
		s.println(line + because(b.Reason))
	}
}

// cmdUnban lifts a ban: 'unban name <name>' and 'unban site <site>', as
// 'ban' puts them, or 'unban <number>' as 'ban' lists them; 'unban <name
// or site>' alone still works when only one ban fits.
func (w *World) cmdUnban(s *Session, args string) {
	arg := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(args), "#"))
	kind := ""
	if k, rest, ok := strings.Cut(arg, " "); ok && (k == store.BanName || k == store.BanSite) {
		kind, arg = k, strings.TrimSpace(rest)
	}
	if arg == "" {
		usage(s, "unban", w)
		return
	}
	site, isSite := parseSite(arg)
	var found []store.Ban
	for _, b := range w.activeBans() {
		if kind != "" && b.Kind != kind {
			continue
		}
		if kind == "" && strconv.FormatInt(b.ID, 10) == arg || b.Pattern == arg || isSite && b.Pattern == site {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		s.println("There is no ban on '" + strings.TrimSpace(kind+" "+arg) + "'. ('ban' lists them.)")
		return
	case 1:
	default:
		s.println("'" + arg + "' could be more than one ban; say 'unban name " + arg + "', 'unban site " + arg + "' or the ban's number ('ban' lists them).")
		return
	}
	b := found[0]
	if err := w.store.RemoveBan(b.ID); err != nil {
		w.log.Error().Err(err).Msg("could not remove a ban")
		s.println("Sorry, the ban could not be lifted.")
		return
	}
	for i := range w.bans {
		if w.bans[i].ID == b.ID {
			w.bans = append(w.bans[:i], w.bans[i+1:]...)
			break
		}
	}
	s.println("The ban on " + b.Kind + " " + b.Pattern + " is lifted.")
	w.staffLog(s, "unban "+b.Kind, b.Pattern, "")
}

func (w *World) cmdNewbies(s *Session, args string) {
	var closed bool
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "":
		s.println("The talker is " + map[bool]string{true: "closed", false: "open"}[w.newbiesClosed] + " to new players.")
		return
	case "open", "on":
		closed = false
	case "close", "closed", "off":
		closed = true
	default:
		usage(s, "newbies", w)
		return
	}
	if closed == w.newbiesClosed {
		s.println("The talker is already " + map[bool]string{true: "closed", false: "open"}[closed] + " to new players.")
		return
	}
	if err := w.store.SetMeta(metaNewbiesClosed, map[bool]string{true: "1", false: "0"}[closed]); err != nil {
		w.log.Error().Err(err).Msg("could not store the newbie lock")
		s.println("Sorry, that could not be changed just now.")
		return
	}
	w.newbiesClosed = closed
	if closed {
		s.println("The talker is now closed to new players.")
		w.staffLog(s, "newbies", "", "closed")
	} else {
		s.println("The talker is open to new players again.")
		w.staffLog(s, "newbies", "", "opened")
	}
}

func (w *World) cmdWall(s *Session, args string) {
	if args == "" {
		usage(s, "wall", w)
		return
	}
	lines := newLineCache("*** Announcement from "+s.Player.Name+": "+args+"^N ***", true)
	for _, o := range w.online {
		lines.sendTo(o)
	}
	w.staffLog(s, "wall", "", args)
}

func (w *World) cmdTrans(s *Session, args string) {
	name, roomName := nameAndReason(args)
	if name == "" {
		usage(s, "trans", w)
		return
	}
	o, msg := w.findOnline(name)
	if o == nil {
		s.println(msg)
		return
	}
	if o != s && !outranks(s, o.Player, "move") {
		return
	}
	to := s.room
	if roomName != "" {
		if to, msg = w.findRoom(roomName, nil); to == nil {
			s.println(msg)
			return
		}
	}
	switch {
	case to == o.room:
		s.println(o.Player.Name + " is already in " + to.Name + ".")
		return
	case o.Player.Jailed && to.ID != jailRoom:
		s.println(o.Player.Name + " is in jail; 'unjail' them first.")
		return
	}
	n := o.Player.Name
	if o != s {
		o.println("*** " + s.Player.Name + " has moved you to " + to.Name + ".")
	}
	w.moveTo(o, to, n+" vanishes.", n+" appears in a puff of smoke.")
	w.touch(o) // its room is part of its checkpoint
	if o != s {
		s.println("You have moved " + n + " to " + to.Name + ".")
	}
	w.staffLog(s, "trans", n, "to "+to.ID)
}

func (w *World) cmdStaffLog(s *Session, args string) {
	n := 20
	if args != "" {
		v, err := strconv.Atoi(args)
		if err != nil || v < 1 {
			usage(s, "stafflog", w)
			return
		}
		n = min(v, 500)
	}
	entries, err := w.store.StaffLog(n)
	if err != nil {
		w.log.Error().Err(err).Msg("could not read the staff log")
		s.println("Sorry, the staff log could not be read just now.")
		return
	}
	if len(entries) == 0 {
		s.println("The staff log is empty.")
		return
	}
	s.println("The last " + plural(len(entries), "staff action") + ":")
	for _, a := range entries {
		if !w.invisLogHidden(s, a) { // invis.go
			s.println(a.At.Format("2006-01-02 15:04") + "  " + staffLogLine(a))
		}
	}
}
