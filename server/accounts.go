package server

import (
	"errors"
	"fmt"
	"time"

	"talker/player"
	"talker/server/store"
)

// Accounts as a whole: setting a password, deleting, renaming, listing and
// showing them, and expiring idle newbies. The part that changes the
// database is a function of a store, which is what `talker account ...`
// runs on a stopped talker; the World's versions (in-game commands, and
// the control socket while the talker runs) call it and then put right
// what the world holds, so that nothing it saves later undoes the change:
// those online are told, a deleted player is disconnected first, a renamed
// one carries on under the new name, other players' lists, the friends
// index and rooms follow.

// AccountInfo is an account as 'talker account list' and 'show' print it.
type AccountInfo struct {
	Name        string
	Rank        string
	CreatedAt   time.Time
	LastLogin   time.Time `json:",omitempty"` // zero: none on record
	LastSeen    time.Time `json:",omitempty"`
	LastAddress string    `json:",omitempty"`
	Logins      int
	TimeOnline  time.Duration
	Online      bool          `json:",omitempty"`
	OneTime     bool          `json:",omitempty"` // the password is a one-time one, to be changed at the next login
	Recent      []store.Login `json:",omitempty"` // show: the newest logins
}

func accountInfo(p *player.Player) AccountInfo {
	return AccountInfo{Name: p.Name, Rank: p.Rank.String(), CreatedAt: p.CreatedAt, LastSeen: p.LastSeen,
		LastAddress: p.LastAddress, Logins: p.Logins, TimeOnline: p.TimeOnline}
}

// noAccount is the error for a name with no account (a store.ErrNotFound).
type noAccount struct{ name string }

func (e noAccount) Error() string { return "there is no account called " + e.name }
func (e noAccount) Unwrap() error { return store.ErrNotFound }

// lookupErr says which name has no account.
func lookupErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return noAccount{name}
	}
	return err
}

// ListAccounts lists every account, by name.
func ListAccounts(st *store.Store) ([]AccountInfo, error) {
	players, err := st.Players()
	if err != nil {
		return nil, err
	}
	last, err := st.LastLogins()
	if err != nil {
		return nil, err
	}
	out := make([]AccountInfo, len(players))
	for i, p := range players {
		out[i] = accountInfo(p)
		out[i].LastLogin = last[p.Key()]
	}
	return out, nil
}

// ShowAccount describes one account, with its recent logins.
func ShowAccount(st *store.Store, name string) (*AccountInfo, error) {
	p, err := st.Player(name)
	if err != nil {
		return nil, lookupErr(name, err)
	}
	a := accountInfo(p)
	if a.OneTime, err = st.MustChangePassword(p.Name); err != nil {
		return nil, err
	}
	if a.Recent, err = st.Logins(p.Name); err != nil {
		return nil, err
	}
	if len(a.Recent) > 0 {
		a.LastLogin = a.Recent[0].At
	}
	return &a, nil
}

// deletable checks that an account may be deleted: never the last admin,
// or nobody could run the talker from inside it.
func deletable(st *store.Store, p *player.Player) error {
	if p.Rank < player.Admin {
		return nil
	}
	n, err := st.CountPlayersWithRank(player.Admin)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fmt.Errorf("%s is the last admin; make another admin first", p.Name)
	}
	return nil
}

// DeleteAccount deletes an account from a database: with its mail, rooms
// and logins, and from other players' lists (store.DeletePlayer). Never
// the last admin.
func DeleteAccount(st *store.Store, name string) error {
	p, err := st.Player(name)
	if err != nil {
		return lookupErr(name, err)
	}
	if err := deletable(st, p); err != nil {
		return err
	}
	return lookupErr(name, st.DeletePlayer(p.Name))
}

// RenameAccount renames an account in a database, checking the new name
// as registration does (letters, length, not reserved, not banned, not
// taken); what refers to the account follows (store.RenamePlayer). It
// returns the new name as registered and the rooms whose id changed.
func RenameAccount(st *store.Store, name, newName string, now time.Time) (string, map[string]string, error) {
	p, err := st.Player(name)
	if err != nil {
		return "", nil, lookupErr(name, err)
	}
	valid, err := player.ValidateName(newName)
	if err != nil {
		return "", nil, err
	}
	if valid == p.Name {
		return "", nil, fmt.Errorf("%s is already called that", p.Name)
	}
	if err := nameLooksTaken(st, valid, p.Name); err != nil {
		return "", nil, err
	}
	bans, err := st.Bans()
	if err != nil {
		return "", nil, err
	}
	for _, b := range bans {
		if b.Kind == store.BanName && b.Pattern == player.Key(valid) && !b.Expired(now) {
			return "", nil, fmt.Errorf("the name %s is banned", valid)
		}
	}
	moved, err := st.RenamePlayer(p.Name, valid)
	return valid, moved, lookupErr(name, err)
}

// nameLooksTaken refuses a new name (for a new account, or a rename of
// the account called except) that looks like a staff title or like an
// existing account's name (player.Skeleton).
func nameLooksTaken(st *store.Store, name, except string) error {
	if err := player.LooksLikeStaff(name); err != nil {
		return err
	}
	names, err := st.PlayerNames()
	if err != nil {
		return err
	}
	for i, n := range names {
		if player.Key(n) == player.Key(except) {
			names[i] = name // the account being renamed does not count
		}
	}
	if other := player.LookAlike(name, names); other != "" {
		return fmt.Errorf("%s looks too much like %s, who already has an account; please choose another name", name, other)
	}
	return nil
}

// SetAccountPassword gives an account a new password, already hashed;
// temporary makes it a one-time one, to be changed at the next login.
func SetAccountPassword(st *store.Store, name, hash string, temporary bool) error {
	return lookupErr(name, st.SetPassword(name, hash, temporary))
}

// AccountCommand runs an account command of the control protocol
// (account-list, -show, -passwd, -delete, -rename) on the database of a
// talker that is not running: `talker account ...` then needs nobody's
// permission and tells nobody.
func AccountCommand(st *store.Store, req ControlRequest) ControlReply {
	var reply ControlReply
	var err error
	switch req.Cmd {
	case "account-passwd":
		err = SetAccountPassword(st, req.Name, req.Hash, req.Temporary)
	case "account-delete":
		err = DeleteAccount(st, req.Name)
	case "account-rename":
		reply.Name, _, err = RenameAccount(st, req.Name, req.NewName, time.Now())
	default:
		reply.Accounts, err = readAccounts(st, req, func(string) bool { return false })
	}
	return answer(reply, err)
}

// accountControl runs an account command from the shell on the world's
// goroutine, while the talker runs.
func (s *Server) accountControl(req ControlRequest, by string) ControlReply {
	var reply ControlReply
	var err error
	s.world.do(func(w *World) {
		if w.phase != phaseServing {
			err = fmt.Errorf("the talker is %s: try again when that is over", w.phase)
			return
		}
		var p *player.Player
		switch req.Cmd {
		case "account-passwd", "account-delete", "account-rename":
			if p, err = w.account(req.Name); err != nil {
				return
			}
		}
		switch req.Cmd {
		case "account-passwd":
			err = w.setPasswordBy(p, req.Hash, req.Temporary, by, nil)
		case "account-delete":
			err = w.deleteAccountBy(p, by, "", nil)
		case "account-rename":
			reply.Name, err = w.renameAccountBy(p, req.NewName, by, nil)
		default:
			reply.Accounts, err = readAccounts(w.store, req, func(key string) bool { return w.online[key] != nil })
		}
	})
	return answer(reply, err)
}

// readAccounts answers account-list and account-show, online saying who is
// on; any other command is unknown.
func readAccounts(st *store.Store, req ControlRequest, online func(key string) bool) ([]AccountInfo, error) {
	var list []AccountInfo
	switch req.Cmd {
	case "account-list":
		var err error
		if list, err = ListAccounts(st); err != nil {
			return nil, err
		}
	case "account-show":
		a, err := ShowAccount(st, req.Name)
		if err != nil {
			return nil, err
		}
		list = []AccountInfo{*a}
	default:
		return nil, fmt.Errorf("unknown command %q", req.Cmd)
	}
	for i := range list {
		list[i].Online = online(player.Key(list[i].Name))
	}
	return list, nil
}

func answer(reply ControlReply, err error) ControlReply {
	if err != nil {
		return ControlReply{Error: err.Error()}
	}
	reply.OK = true
	return reply
}

// account finds an account by its exact name: the player an online
// session plays, or the stored record.
func (w *World) account(name string) (*player.Player, error) {
	if o := w.online[player.Key(name)]; o != nil {
		return o.Player, nil
	}
	p, err := w.store.Player(name)
	return p, lookupErr(name, err)
}

// setPasswordBy gives p a new password (hashed): a one-time one if
// temporary. If p is on, their record in memory gets it too (or their
// next save would put the old one back) and they are told.
func (w *World) setPasswordBy(p *player.Player, hash string, temporary bool, by string, except *Session) error {
	if err := SetAccountPassword(w.store, p.Name, hash, temporary); err != nil {
		return err
	}
	action := "password"
	if temporary {
		action = "resetpassword"
	}
	if o := w.online[p.Key()]; o != nil {
		o.Player.PasswordHash = hash
		w.touch(o)
		if temporary {
			o.println("*** " + by + " has given you a one-time password: the next time you log in, use it and then choose a new one.")
		} else {
			o.println("*** " + by + " has changed your password.")
		}
	}
	w.log.Info().Str("player", p.Name).Str("by", by).Bool("one_time", temporary).Msg("password set")
	w.staffLogBy(by, except, action, p.Name, "")
	return nil
}

// deleteAccountBy deletes p's account (see deleteAccount), telling them
// who did it and why if they are on, and writes it in the staff log.
func (w *World) deleteAccountBy(p *player.Player, by, reason string, except *Session) error {
	name := p.Name
	if err := w.deleteAccount(p, "*** Your account has been deleted by "+by+because(reason)+". Goodbye."); err != nil {
		return err
	}
	w.staffLogBy(by, except, "deleteaccount", name, reason)
	return nil
}

// deleteAccount deletes p's account (never the last admin). If they are
// on they are told (tell) and disconnected first, as any logout (saved,
// announced); then the database (store.DeletePlayer), and what the world
// holds about them goes too.
func (w *World) deleteAccount(p *player.Player, tell string) error {
	if err := deletable(w.store, p); err != nil {
		return err
	}
	key, rooms := p.Key(), len(w.ownedRooms(p.Key())) > 0
	if o := w.online[key]; o != nil {
		o.sendRaw(o.Telnet.SetPasswordMode(false))
		if tell != "" {
			o.println(tell)
		}
		w.closeSession(o, closeDeleted)
	}
	if err := w.store.DeletePlayer(p.Name); err != nil {
		return lookupErr(p.Name, err)
	}
	for _, o := range w.online {
		changed := false
		if _, ok := o.Player.Lists[key]; ok {
			w.unindexFriends(o)
			delete(o.Player.Lists, key)
			w.indexFriends(o)
			changed = true
		}
		if o.ReplyTo == key {
			o.ReplyTo, changed = "", true
		}
		if changed {
			w.touch(o)
		}
	}
	if rooms {
		w.reloadRooms(nil)
	}
	w.log.Info().Str("player", p.Name).Str("rank", p.Rank.String()).Msg("account deleted")
	return nil
}

// renameAccountBy renames p (see renameAccount), telling them and those
// in their room if they are on, and writes it in the staff log.
func (w *World) renameAccountBy(p *player.Player, newName, by string, except *Session) (string, error) {
	old := p.Name
	name, err := w.renameAccount(p, newName)
	if err != nil {
		return "", err
	}
	if o := w.online[player.Key(name)]; o != nil {
		o.println("*** " + by + " has renamed you: you are now " + name + ".")
		if o.room != nil {
			w.toRoom(o.room, o, old+" is now known as "+name+".")
		}
	}
	w.staffLogBy(by, except, "rename", old, "to "+name)
	return name, nil
}

// renameAccount renames p's account in the database (RenameAccount), then
// in the world: an online player carries on under the new name, and the
// lists, replies and logins in progress of everyone else, and the rooms,
// follow.
func (w *World) renameAccount(p *player.Player, newName string) (string, error) {
	oldKey, oldName := p.Key(), p.Name
	name, moved, err := RenameAccount(w.store, p.Name, newName, w.cfg.Now())
	if err != nil {
		return "", err
	}
	key := player.Key(name)
	p.Name = name
	if o := w.online[oldKey]; o != nil {
		delete(w.online, oldKey)
		w.online[key] = o
		o.Login.Name = name
		w.touch(o)
	}
	for _, o := range w.online {
		if e, ok := o.Player.Lists[oldKey]; ok {
			w.unindexFriends(o)
			delete(o.Player.Lists, oldKey)
			e.Name = name
			o.Player.Lists[key] = e
			w.indexFriends(o)
			w.touch(o)
		}
		if o.ReplyTo == oldKey {
			o.ReplyTo = key
			w.touch(o)
		}
	}
	for _, s := range w.sessions {
		if s.Player == nil && player.Key(s.Login.Name) == oldKey {
			s.Login.Name = name // at the password prompt, or choosing a new one
			w.touch(s)
		}
	}
	w.reloadRooms(moved)
	w.log.Info().Str("player", name).Str("was", oldName).Msg("account renamed")
	return name, nil
}

// reloadRooms brings the rooms the world holds in line with the database
// after an account's rooms were deleted, or renamed (moved: old id to new):
// each room keeps its members; those of a room that has gone are taken to
// the start room; the room and home ids of those online follow.
func (w *World) reloadRooms(moved map[string]string) {
	stored, err := w.store.Rooms()
	if err != nil {
		w.log.Error().Err(err).Msg("could not reload the rooms")
		return
	}
	byID := make(map[string]*store.Room, len(stored))
	for _, r := range stored {
		byID[r.ID] = r
	}
	var homeless []*Session
	for _, id := range w.roomIDs() {
		r, to := w.rooms[id], id
		if n, ok := moved[id]; ok {
			to = n
		}
		sr := byID[to]
		if sr == nil {
			if id == w.cfg.StartRoom || id == jailRoom {
				continue // never an account's
			}
			delete(w.rooms, id)
			delete(w.review, id)
			homeless = append(homeless, r.Members...)
			continue
		}
		r.Room = *sr
		if to != id {
			delete(w.rooms, id)
			w.rooms[to] = r
			if lines, ok := w.review[id]; ok {
				delete(w.review, id)
				w.review[to] = lines
			}
		}
	}
	start := w.rooms[w.cfg.StartRoom]
	for _, s := range homeless {
		s.room = nil
		s.println("*** The room you were in has gone; you are back in " + start.Name + ".")
		w.moveTo(s, start, "", s.Player.Name+" "+arriveText(s.Player))
	}
	for _, s := range w.online {
		p := s.Player
		home, room := p.Home, p.Room
		if n, ok := moved[p.Home]; ok {
			p.Home = n
		} else if w.rooms[p.Home] == nil {
			p.Home = ""
		}
		if s.room != nil {
			p.Room = s.room.ID
		}
		if p.Home != home || p.Room != room {
			w.touch(s)
		}
	}
}

// expireNewbies deletes the newbie accounts nobody has used for
// Config.NewbieExpiry (if set), looking at most once an hour: at a
// generation's first tick, then hourly, never at every tick.
func (w *World) expireNewbies(now time.Time) {
	if w.cfg.NewbieExpiry <= 0 || w.phase != phaseServing || !w.expiredAt.IsZero() && now.Sub(w.expiredAt) < time.Hour {
		return
	}
	w.expiredAt = now
	idle, err := w.store.IdleNewbies(now.Add(-w.cfg.NewbieExpiry))
	if err != nil {
		w.log.Error().Err(err).Msg("could not look for idle newbie accounts")
		return
	}
	n := 0
	for _, p := range idle {
		if w.online[p.Key()] != nil {
			continue // on for longer than the expiry
		}
		if err := w.deleteAccount(p, ""); err != nil {
			w.log.Error().Err(err).Str("player", p.Name).Msg("could not delete an idle newbie account")
			continue
		}
		w.log.Info().Str("player", p.Name).Time("created", p.CreatedAt).Time("last_seen", p.LastSeen).
			Dur("expiry", w.cfg.NewbieExpiry).Msg("idle newbie account expired")
		n++
	}
	if n > 0 {
		w.log.Info().Int("accounts", n).Dur("expiry", w.cfg.NewbieExpiry).Msg("idle newbie accounts expired")
	}
}

// noteLogin keeps the address of a login (store.NoteLogin), for 'site'.
func (w *World) noteLogin(s *Session, p *player.Player) {
	if err := w.store.NoteLogin(p.Name, s.Addr, w.cfg.Now()); err != nil {
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not record a login")
	}
}
