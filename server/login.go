package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"talker/player"
	"talker/server/store"
	"talker/server/text"
)

// Stage is where a connection is in the login exchange.
type Stage uint8

// Login stages. The values are carried across reboots: append only.
const (
	StageName            Stage = iota // waiting for a name
	StagePassword                     // existing account: waiting for its password
	StageConfirmNew                   // unknown name: waiting for "yes" to register it
	StageNewPassword                  // registering: waiting for the password
	StageConfirmPassword              // registering: waiting for the password again
	StagePlaying                      // logged in
	// In the world (Player set), at a prompt of 'password' or
	// 'deleteaccount' (cmd_account.go). From here on the state format's
	// version 5 (state.LastStageV4).
	StageOldPassword    // 'password': waiting for the current password
	StageChangePassword // 'password': waiting for the new password
	StageChangeConfirm  // 'password': waiting for the new password again
	StageDeletePassword // 'deleteaccount': waiting for the password
	// Logged in with a one-time password (no Player yet): choosing a new
	// password before entering the world, which cannot be skipped.
	StageForcedPassword // waiting for the new password
	StageForcedConfirm  // waiting for it again
)

// LoginState is a connection's progress through the login exchange. It
// holds no password: during registration only a salted digest of the first
// entry is kept, to compare with the second.
type LoginState struct {
	Stage    Stage
	Name     string // the name being logged in or registered
	Failures int    // wrong passwords on this connection
	Salt     string `json:",omitempty"`
	Digest   string `json:",omitempty"` // hex sha256(salt + first password entry)
}

// The exact prompts, documented in the README for scripts and bots.
const (
	promptName        = "Please enter your name: "
	promptPassword    = "Password: "
	promptNewPassword = "Choose a password: "
	promptConfirmPass = "Type the password again: "
)

// defaultGreeting is shown before the name prompt when DATA/text/greeting.txt
// is missing; a new talker's setup writes it there to be edited.
const defaultGreeting = "\nWelcome to {talker}!\nNew here? Type the name you would like to be known by. Type 'quit' to leave.\n"

// greet welcomes a new connection: the greeting file, then the name
// prompt, which stays in code because scripts and bots wait for it.
func (w *World) greet(s *Session) {
	showText(s, w.textVars(w.texts.get(textGreeting, defaultGreeting)))
	s.prompt(promptName)
}

// loginLine handles a line typed before the session is logged in.
func (w *World) loginLine(s *Session, raw []byte) {
	switch s.Login.Stage {
	case StageName:
		if w.webResume(s, raw) { // a browser page resuming its session (webresume.go)
			return
		}
		w.loginName(s, text.Clean(raw))
	case StagePassword:
		w.loginPassword(s, string(raw))
	case StageConfirmNew:
		w.loginConfirmNew(s, strings.ToLower(text.Clean(raw)))
	case StageNewPassword:
		w.loginNewPassword(s, string(raw))
	case StageConfirmPassword:
		w.loginConfirmPassword(s, string(raw))
	case StageForcedPassword, StageForcedConfirm:
		w.passwordLine(s, raw)
	}
}

func (w *World) loginName(s *Session, name string) {
	if name == "" {
		s.prompt(promptName)
		return
	}
	if strings.EqualFold(name, msspRequest) {
		w.answerMSSPRequest(s)
		return
	}
	if strings.EqualFold(name, "quit") {
		s.println("Goodbye!")
		w.closeSession(s, closeQuitAtLogin)
		return
	}
	valid, err := player.ValidateName(name)
	if err != nil {
		s.println("Sorry, " + err.Error() + ".")
		s.prompt(promptName)
		return
	}
	if b := w.nameBan(valid); b != nil {
		w.log.Warn().Str("addr", s.Addr).Str("name", valid).Msg("login refused: banned name")
		s.println(nameBanMessage(w, b))
		w.closeSession(s, closeBannedName)
		return
	}
	exists, err := w.store.PlayerExists(valid)
	if err != nil {
		w.log.Error().Err(err).Msg("player lookup failed")
		s.println("Sorry, something went wrong looking that name up. Please try again.")
		s.prompt(promptName)
		return
	}
	s.Login.Name = valid
	if exists {
		s.Login.Stage = StagePassword
		s.sendRaw(s.Telnet.SetPasswordMode(true))
		s.prompt(promptPassword)
		return
	}
	if w.newbiesClosed {
		s.println(newbiesClosedMessage(w))
		s.Login = LoginState{}
		s.prompt(promptName)
		return
	}
	if err := w.nameLooksTaken(valid); err != nil {
		s.println("Sorry, " + err.Error() + ".")
		s.Login = LoginState{}
		s.prompt(promptName)
		return
	}
	s.Login.Stage = StageConfirmNew
	s.prompt("There is nobody called " + valid + " here. Create a new account called " + valid + "? (yes/no): ")
}

func (w *World) loginConfirmNew(s *Session, answer string) {
	switch {
	case (answer == "y" || answer == "yes") && w.newbiesClosed:
		// Closed while this player was being asked.
		s.println(newbiesClosedMessage(w))
		s.Login = LoginState{}
		s.prompt(promptName)
	case (answer == "y" || answer == "yes") && !w.guard.mayRegister(s.Addr, w.cfg.NewAccountsPerHour, w.cfg.Now()):
		w.log.Warn().Str("addr", s.Addr).Str("name", s.Login.Name).Int("limit", w.cfg.NewAccountsPerHour).Msg("registration refused: too many new accounts from this address")
		s.println("Sorry, too many new accounts have been made from your address in the last hour. " +
			"Please try again later, or log in with an existing name.")
		s.Login = LoginState{}
		s.prompt(promptName)
	case answer == "y" || answer == "yes":
		s.Login.Stage = StageNewPassword
		s.println("Your password must be at least " + itoa(player.MinPasswordLen) + " characters long.")
		s.sendRaw(s.Telnet.SetPasswordMode(true))
		s.prompt(promptNewPassword)
	case answer == "n" || answer == "no":
		s.Login = LoginState{}
		s.prompt(promptName)
	default:
		s.prompt("Please answer yes or no: ")
	}
}

func (w *World) loginNewPassword(s *Session, pw string) {
	s.println("") // the client did not echo the newline
	if err := player.ValidatePassword(pw); err != nil {
		s.println("Sorry, " + err.Error() + ".")
		s.prompt(promptNewPassword)
		return
	}
	s.Login.Salt = randomHex(16)
	s.Login.Digest = digest(s.Login.Salt, pw)
	s.Login.Stage = StageConfirmPassword
	s.prompt(promptConfirmPass)
}

func (w *World) loginConfirmPassword(s *Session, pw string) {
	s.println("")
	if subtle.ConstantTimeCompare([]byte(digest(s.Login.Salt, pw)), []byte(s.Login.Digest)) != 1 {
		s.Login.Stage, s.Login.Salt, s.Login.Digest = StageNewPassword, "", ""
		s.println("The passwords did not match; please choose one again.")
		s.prompt(promptNewPassword)
		return
	}
	// The digest stays until the account exists: a job still queued when
	// a reboot pauses goes back to being this line, checked again.
	w.startHash(s, hashJob{register: true, password: pw, cost: w.cfg.HashCost, addr: s.Addr, name: s.Login.Name})
}

func (w *World) loginPassword(s *Session, pw string) {
	s.println("")
	now := w.cfg.Now()
	p, err := w.store.Player(s.Login.Name)
	if err != nil {
		// The account vanished (deleted meanwhile) or the database failed.
		if !errors.Is(err, store.ErrNotFound) {
			w.log.Error().Err(err).Msg("player load failed")
		}
		s.sendRaw(s.Telnet.SetPasswordMode(false))
		s.println("Sorry, that account is not available.")
		s.Login = LoginState{}
		s.prompt(promptName)
		return
	}
	// An address the owner last logged in from is not held up by
	// failures on the name from elsewhere.
	trusted := p.LastAddress != "" && p.LastAddress == s.Addr
	if wait := w.guard.blocked(s.Addr, s.Login.Name, trusted, now); wait > 0 {
		w.refuseThrottled(s, wait)
		return
	}
	if b := w.nameBan(s.Login.Name); b != nil {
		// Banned while this player was typing the password.
		s.sendRaw(s.Telnet.SetPasswordMode(false))
		s.println(nameBanMessage(w, b))
		w.closeSession(s, closeBannedName)
		return
	}
	// Counted as a failure from when it starts until it is known not to
	// be one, so that guesses sent at once cannot all start before the
	// first fails: the queue holds back a check the guard says must wait
	// for those in flight (guardqueue.go).
	w.startHash(s, hashJob{password: pw, hash: p.PasswordHash, cost: w.cfg.HashCost, player: p,
		addr: s.Addr, name: s.Login.Name, guarded: true, trusted: trusted})
}

// refuseThrottled ends a login the guard holds up for wait.
func (w *World) refuseThrottled(s *Session, wait time.Duration) {
	w.log.Warn().Str("addr", s.Addr).Str("name", s.Login.Name).Msg("login refused: too many failures")
	s.println("Too many failed logins; please try again in " + ago(wait.Round(time.Second)) + ".")
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	w.closeSession(s, closeLoginThrottled)
}

// hashJob is a password hash or check, run off the world goroutine because
// it deliberately takes a noticeable fraction of a second.
type hashJob struct {
	register bool
	password string
	hash     string
	cost     int
	player   *player.Player
	addr     string // where it came from (the queue's turns, the guard)
	name     string
	guarded  bool // a login's check: counted in the guard while it runs
	trusted  bool // guarded: from the address of the owner's last login
	counted  bool // guarded: started, so counted in the guard (until checkOver)
	// then, if set, takes the result instead of the login's code: a
	// password changed or checked in the world (cmd_account.go).
	then func(w *World, s *Session, res hashResult)
	// replay, if set, is the line a reboot hands back as the session's
	// input if the job has not run (otherwise the password, as typed).
	replay string
}

type hashResult struct {
	sessionID uint64
	job       hashJob
	newHash   string // register: the hash; login: a rehash at the current cost, if wanted
	err       error
}

func (w *World) hashDone(res hashResult) {
	if w.hashJobs--; w.hashJobs == 0 && w.reboot != nil && w.reboot.hashesIdle != nil {
		close(w.reboot.hashesIdle)
		w.reboot.hashesIdle = nil
	}
	w.checkOver(res.job)
	defer w.dispatchHashes() // a CPU is free
	s := w.sessions[res.sessionID]
	if s == nil {
		return // disconnected while waiting
	}
	if len(w.entering) > 0 && w.joinsBatchBadly(res.job) {
		w.flushEntries()
	}
	s.checking = false
	w.touch(s)
	switch {
	case res.job.then != nil:
		res.job.then(w, s, res)
	case res.job.register:
		w.finishRegistration(s, res)
	default:
		w.finishLogin(s, res)
	}
	// Replay what the player typed while the check ran (a login waiting
	// for its writes: once they are done, entered).
	if w.sessions[s.ID] == s && !w.isEntering(s) {
		w.replay(s)
	}
}

func (w *World) finishRegistration(s *Session, res hashResult) {
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	if res.err != nil {
		w.log.Error().Err(res.err).Msg("password hashing failed")
		s.Login.Salt, s.Login.Digest = "", ""
		s.println("Sorry, something went wrong creating your account. Please try again.")
		s.Login = LoginState{}
		s.prompt(promptName)
		return
	}
	s.Login.Salt, s.Login.Digest = "", ""
	now := w.cfg.Now()
	p := &player.Player{Name: s.Login.Name, PasswordHash: res.newHash, Rank: player.Newbie,
		CreatedAt: now, Room: w.cfg.StartRoom}
	// Checked again: someone may have taken a look-alike name while this
	// player chose a password.
	if err := w.nameLooksTaken(p.Name); err != nil {
		w.registrationFailed(s, p.Name, err)
		return
	}
	// The account is made as it is once logged in, with the login's
	// record, in one transaction (enter does not write it again),
	// and committed before the player is told it exists (entered).
	w.stampEntry(s, p)
	w.queueEntry(pendingEntry{s: s, p: p, isNew: true, at: now})
}

func (w *World) registrationFailed(s *Session, name string, err error) {
	w.log.Warn().Err(err).Str("name", name).Msg("registration failed")
	s.println("Sorry, " + err.Error() + ". Please choose another name.")
	s.Login = LoginState{}
	s.prompt(promptName)
}

func (w *World) finishLogin(s *Session, res hashResult) {
	now := w.cfg.Now()
	if res.err != nil {
		if !errors.Is(res.err, player.ErrWrongPassword) {
			w.log.Error().Err(res.err).Str("name", s.Login.Name).Msg("password check failed")
		}
		w.guard.fail(s.Addr, s.Login.Name, now)
		s.Login.Failures++
		w.log.Warn().Str("addr", s.Addr).Str("name", s.Login.Name).Int("failures", s.Login.Failures).Msg("wrong password")
		if s.Login.Failures >= w.cfg.MaxLoginFailures {
			s.sendRaw(s.Telnet.SetPasswordMode(false))
			s.println("Wrong password. Too many attempts; goodbye.")
			w.closeSession(s, closeWrongPasswords)
			return
		}
		s.println("Wrong password.")
		s.prompt(promptPassword)
		return
	}
	if w.mustChangePassword(s, res.job.player) {
		return // a one-time password: a new one first, echo still off
	}
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	w.guard.succeed(s.Addr, s.Login.Name)
	p := res.job.player
	if res.newHash != "" {
		p.PasswordHash = res.newHash
	}
	if old := w.online[p.Key()]; old != nil {
		w.takeOver(old, s)
		return
	}
	welcome := "Welcome, " + p.Name + "!"
	if last := p.LastSeen; !last.IsZero() {
		welcome = "Welcome back, " + p.Name + "! You were last here " + ago(now.Sub(last)) + " ago, from " + p.LastAddress + "."
	}
	w.stampEntry(s, p)
	w.queueEntry(pendingEntry{s: s, p: p, welcome: welcome, at: now})
}

// maxLoginBatch is the most logins written in one transaction.
const maxLoginBatch = 64

// pendingEntry is a login (or registration) whose password is checked,
// waiting for its writes: the account stamped by stampEntry, and the
// login's record. They go in one transaction with the other logins ready
// at the same moment (flushEntries), and the player is let in (entered)
// only once it is committed.
type pendingEntry struct {
	s       *Session
	p       *player.Player
	isNew   bool   // a registration: the account is made
	welcome string // a login: said once it is written
	at      time.Time
}

// queueEntry adds a login to the batch being gathered; outside of one
// (World.batching: see batchLogins), it is written at once.
func (w *World) queueEntry(e pendingEntry) {
	w.entering = append(w.entering, e)
	if !w.batching || len(w.entering) >= maxLoginBatch {
		w.flushEntries()
	}
}

// isEntering says whether s has a login waiting for its writes.
func (w *World) isEntering(s *Session) bool {
	for _, e := range w.entering {
		if e.s == s {
			return true
		}
	}
	return false
}

// joinsBatchBadly says whether a hash result must not be handled while
// the logins gathered wait for their writes: one for an account among
// them (it would not see the other online, and log in twice), a
// registration of a name that looks like one being made (it would not
// see the other taken), or a job that is not a login (password changes
// and the like expect the world as it is).
func (w *World) joinsBatchBadly(job hashJob) bool {
	if job.then != nil || job.name == "" {
		return true
	}
	key := player.Key(job.name)
	alike := player.AlikeKeys(job.name)
	for _, e := range w.entering {
		if e.p.Key() == key {
			return true
		}
		if e.isNew && job.register {
			for _, k := range player.AlikeKeys(e.p.Name) {
				if slices.Contains(alike[:], k) {
					return true
				}
			}
		}
	}
	return false
}

// flushEntries writes the logins gathered, in one transaction
// (store.EnterPlayers), and lets in those written.
func (w *World) flushEntries() {
	batch := w.entering
	if len(batch) == 0 {
		return
	}
	w.entering = nil
	es := make([]store.Entry, len(batch))
	for i, e := range batch {
		es[i] = store.Entry{Player: e.p, Create: e.isNew, Addr: e.s.Addr, At: e.at}
	}
	w.store.EnterPlayers(es)
	var made []string
	for i, e := range batch {
		if es[i].Err == nil && e.isNew {
			made = append(made, e.p.Name)
		}
	}
	w.registered(made...)
	for i, e := range batch {
		w.safely("login", func() { w.entered(e, es[i].Err) })
	}
}

// entered ends a login once its writes are done (err nil) or have failed:
// a login whose writes failed is not let in, whatever they were.
func (w *World) entered(e pendingEntry, err error) {
	s, p := e.s, e.p
	if w.sessions[s.ID] != s {
		return // gone meanwhile
	}
	switch {
	case err != nil && e.isNew:
		w.registrationFailed(s, p.Name, err)
	case err != nil:
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not record a login; refused")
		s.println("Sorry, something went wrong logging you in. Please try again.")
		s.Login = LoginState{}
		s.prompt(promptName)
	case e.isNew:
		w.log.Info().Str("player", p.Name).Str("addr", s.Addr).Msg("new account registered")
		s.println("Your account has been created. Welcome, " + p.Name + "!")
		w.enterWorld(s, p, true)
	default:
		s.println(e.welcome)
		w.enterWorld(s, p, false)
	}
	if w.sessions[s.ID] == s {
		w.replay(s) // what the player typed meanwhile
	}
}

// stampEntry sets what a login changes in the account.
func (w *World) stampEntry(s *Session, p *player.Player) {
	p.Logins++
	p.LastAddress = s.Addr
	if !comesAndGoesUnseen(p) { // invis.go
		p.LastSeen = w.cfg.Now()
	}
}

// enter puts a freshly logged-in player into the world. isNew: just
// registered, its account stamped and written with its login
// (store.EnterPlayer); otherwise that is done here, in one transaction.
// The login dialogue's own logins go through queueEntry instead, and are
// let in only once written (entered).
func (w *World) enter(s *Session, p *player.Player, isNew bool) {
	if !isNew {
		w.stampEntry(s, p)
		if err := w.store.EnterPlayer(p, false, s.Addr, w.cfg.Now()); err != nil {
			w.log.Error().Err(err).Str("player", p.Name).Msg("could not save player")
		}
	}
	w.enterWorld(s, p, isNew)
}

// enterWorld puts a logged-in player, whose login is written, into the
// world.
func (w *World) enterWorld(s *Session, p *player.Player, isNew bool) {
	now := w.cfg.Now()
	s.Player = p
	s.Login = LoginState{Stage: StagePlaying, Name: p.Name}
	s.LoggedInAt, s.LastInput = now, now
	w.online[p.Key()] = s
	w.indexFriends(s)
	w.log.Info().Str("player", p.Name).Str("addr", s.Addr).Uint64("conn", s.ID).Msg("logged in")
	room := w.rooms[p.Room]
	switch {
	case p.Jailed:
		room = w.jail()
	case room == nil || !w.mayEnter(p, room):
		room = w.rooms[w.cfg.StartRoom]
	}
	w.motd(s) // before the room, so that the room and the prompt end the screen
	w.announceLogin(s, true)
	w.gmcpLogin(s) // Char.Name, Char.Status; the room's messages come with moveTo (gmcp.go)
	w.moveTo(s, room, "", p.Name+" "+arriveText(p))
	if isNew {
		s.println("Type 'help' to see what you can do here. 'who' shows who is around.")
	}
	w.mailNotice(s)
	w.newsNotice(s) // cmd_news.go
	if p.Jailed {
		s.println("You are in jail; only staff can let you out.")
	}
	w.sendPrompt(s)
	w.touchNow(s)
}

// announceLogin tells everyone that a player has connected (in) or
// disconnected, their friends as friends; not those who ignore them. On a
// talker with more than Config.AnnounceAll players online only friends are
// told: telling everyone about everyone makes logins cost N² and buries
// the conversation (the room still sees arrivals and departures).
func (w *World) announceLogin(s *Session, in bool) { w.announceLoginTo(s, in, len(w.online), nil) }

// takeOver gives a logged-in player's session to a new connection that has
// just given the right password: they keep their room and everything else,
// whether the old connection is still there (it is closed) or the session
// was link-dead (what was missed is shown). See resumeSession.
func (w *World) takeOver(old, s *Session) { w.resumeSession(old, s) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func digest(salt, pw string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + pw))
	return hex.EncodeToString(sum[:])
}

// loginGuard throttles failed logins. After a few failures, further
// attempts are refused for a time that doubles with each failure, up to a
// cap. It is world-owned data, carried across reboots. Failures count
//
//   - per name at an address (ByPair): the guesser of a name's password
//     is slowed down, and the owner, at another address, is not;
//   - per address (ByAddr), whatever the names: one address trying name
//     after name;
//   - per name from everywhere (ByName), for guessing spread over many
//     addresses: it holds up only addresses with none of the owner's
//     logins, and only once failures came from several addresses.
//
// A check still running counts as a failure (inFlight) until it is known
// not to be one, so guesses sent at once on many connections cannot all
// start before the first has failed. A successful login clears its name's
// counts; it does not clear its address's failures on other names.
type loginGuard struct {
	ByAddr map[string]*failures
	ByName map[string]*failures
	ByPair map[string]*failures // pairKey(name, addr)
	// NewAccounts counts registrations per address; Until ends the hour
	// they are counted in.
	NewAccounts map[string]*failures
}

type failures struct {
	Count int
	Last  time.Time
	Until time.Time
	// Not carried: checks in flight (none are, across a reboot's pause),
	// and the addresses a name's failures came from (up to guardAddrs).
	inFlight int
	addrs    map[string]bool
}

const (
	guardFree     = 3                // failures allowed before any wait
	guardBaseWait = 5 * time.Second  // the first wait
	guardMaxWait  = 10 * time.Minute // the longest wait
	guardForget   = 30 * time.Minute // failures older than this are forgotten
	// A name's failures hold up strangers' addresses once this many came
	// from at least guardSpread addresses.
	guardNameFree = 10
	guardSpread   = 3
	guardAddrs    = 64
)

func newLoginGuard() loginGuard {
	return loginGuard{ByAddr: map[string]*failures{}, ByName: map[string]*failures{},
		ByPair: map[string]*failures{}, NewAccounts: map[string]*failures{}}
}

func pairKey(name, addr string) string { return player.Key(name) + "@" + addr }

// blocked says how long addr must wait before trying name's password;
// trusted: the owner's last login came from addr.
func (g *loginGuard) blocked(addr, name string, trusted bool, now time.Time) time.Duration {
	var wait time.Duration
	check := func(f *failures, free int) {
		if f == nil {
			return
		}
		if f.Until.After(now) {
			wait = max(wait, f.Until.Sub(now))
		}
	}
	g.counts(addr, name, trusted, check)
	return wait
}

// busy says whether a check of name's password from addr must wait for
// checks in flight to end: counted as failures, they would reach the free
// tries (past them, one at a time). An honest crowd behind one address
// (a NAT, the load generator) waits here a moment instead of being
// refused, as it was when this refused like blocked: 4,571 of 10,000
// logins from one address at once were.
func (g *loginGuard) busy(addr, name string, trusted bool) bool {
	busy := false
	g.counts(addr, name, trusted, func(f *failures, free int) {
		if f != nil && f.inFlight > 0 && f.Count+f.inFlight >= free {
			busy = true
		}
	})
	return busy
}

// counts calls check with each count that may hold up addr trying name's
// password (nil when there is none), and the failures it allows free.
func (g *loginGuard) counts(addr, name string, trusted bool, check func(f *failures, free int)) {
	check(g.ByPair[pairKey(name, addr)], guardFree)
	check(g.ByAddr[addr], guardFree)
	if f := g.ByName[player.Key(name)]; !trusted && f != nil && len(f.addrs) >= guardSpread {
		check(f, guardNameFree)
	}
}

// entries gives (creating them) the three counts a login touches.
func (g *loginGuard) entries(addr, name string) []*failures {
	get := func(tab map[string]*failures, key string) *failures {
		f := tab[key]
		if f == nil {
			f = &failures{}
			tab[key] = f
		}
		return f
	}
	return []*failures{get(g.ByPair, pairKey(name, addr)), get(g.ByAddr, addr), get(g.ByName, player.Key(name))}
}

// begin counts a check that has started; end, one that is over (before
// fail or succeed records how).
func (g *loginGuard) begin(addr, name string) {
	for _, f := range g.entries(addr, name) {
		f.inFlight++
	}
}

func (g *loginGuard) end(addr, name string) {
	for _, f := range g.entries(addr, name) {
		f.inFlight = max(0, f.inFlight-1)
	}
}

func (g *loginGuard) fail(addr, name string, now time.Time) {
	es := g.entries(addr, name)
	for i, f := range es {
		f.Count++
		f.Last = now
		free := guardFree
		if i == 2 { // ByName
			free = guardNameFree
			if f.addrs == nil {
				f.addrs = map[string]bool{}
			}
			if len(f.addrs) < guardAddrs {
				f.addrs[addr] = true
			}
		}
		if f.Count >= free {
			wait := guardBaseWait << min(f.Count-free, 16)
			f.Until = now.Add(min(wait, guardMaxWait))
		}
	}
}

// succeed: the owner has proved who they are; the address's failures on
// other names stand.
func (g *loginGuard) succeed(addr, name string) {
	key := pairKey(name, addr)
	if f := g.ByPair[key]; f != nil && f.inFlight == 0 {
		delete(g.ByPair, key)
	}
	if f := g.ByName[player.Key(name)]; f != nil && f.inFlight == 0 {
		delete(g.ByName, player.Key(name))
	}
}

// mayRegister says whether addr may start another registration within
// its hourly limit (0: unlimited), and counts it if so.
func (g *loginGuard) mayRegister(addr string, limit int, now time.Time) bool {
	if limit <= 0 {
		return true
	}
	f := g.NewAccounts[addr]
	if f == nil || !now.Before(f.Until) {
		f = &failures{Until: now.Add(time.Hour)}
		g.NewAccounts[addr] = f
	}
	if f.Count >= limit {
		return false
	}
	f.Count++
	f.Last = now
	return true
}

func (g *loginGuard) expire(now time.Time) {
	for _, tab := range []map[string]*failures{g.ByAddr, g.ByName, g.ByPair} {
		for k, f := range tab {
			if now.Sub(f.Last) > guardForget && now.After(f.Until) && f.inFlight == 0 {
				delete(tab, k)
			}
		}
	}
	for k, f := range g.NewAccounts {
		if !now.Before(f.Until) {
			delete(g.NewAccounts, k)
		}
	}
}
