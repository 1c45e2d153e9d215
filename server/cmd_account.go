package server

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"math/big"
	"net/netip"
	"strings"

	"talker/player"
	"talker/server/store"
)

// Account commands: 'password' and 'deleteaccount' for everyone, and the
// staff's 'resetpassword', 'rename', 'deleteaccount <name>' and 'site'.
//
// The prompts of 'password' and 'deleteaccount', and the new password a
// player must choose after logging in with a one-time one, are login
// stages (StageOldPassword and on): they travel in the session's record
// across a reboot or a crash like the login prompts do, so a player
// halfway through is at the same prompt afterwards, echo still off. A line
// that checks or hashes a password goes through the world's hash path
// (startHash) and leaves the stage as it is until the answer is in, so
// that the same line can be handled again if a reboot carries it.

// The prompts.
const (
	promptOldPassword    = "Old password: "
	promptChangePassword = "New password: "
	promptChangeConfirm  = "New password again: "
	promptDeletePassword = "Your password, to delete your account: "
)

func accountCommands() []*command {
	return []*command{
		{name: "password", category: "Yourself", usage: "password",
			summary: "change your password",
			help: "Asks for your password, then for the new one twice; what you type at these prompts is not shown. " +
				"An empty line at any of them leaves your password as it was. Passwords are at least " +
				itoa(player.MinPasswordLen) + " characters long.",
			run: (*World).cmdPassword},
		{name: "deleteaccount", category: "Yourself", usage: "deleteaccount <your name>",
			summary: "delete your account for good",
			help: "'deleteaccount' followed by your own name, in full, deletes your account after asking for your password: " +
				"your mail, rooms and lists go with it and you are disconnected. It cannot be undone. " +
				"Staff: 'deleteaccount <name> [reason]' deletes someone else's (below your rank), telling them if they are on; " +
				"the last admin's cannot be deleted.",
			run: (*World).cmdDeleteAccount},
		{name: "resetpassword", minRank: staffRank, category: "Staff", usage: "resetpassword <name>",
			summary: "give someone who forgot their password a one-time one",
			help: "Makes a new, random password for the person and shows it to you alone: give it to them privately. " +
				"They log in with it and must then choose a password of their own before they can do anything else. " +
				"Their old password no longer works.",
			run: (*World).cmdResetPassword},
		{name: "rename", minRank: staffRank, category: "Staff", usage: "rename <name> <new name>",
			summary: "give someone's account a new name",
			help: "Renames the account (whoever is below your rank): the new name follows the rules of registration. " +
				"Their friends' and ignore lists, mail and rooms follow; if they are on they are told and carry on " +
				"under the new name.",
			run: (*World).cmdRename},
		{name: "site", minRank: staffRank, category: "Staff", usage: "site <name | address>",
			summary: "see where someone logs in from, and who else does",
			help: "Shows the addresses and times of the person's last " + itoa(store.KeptLogins) + " logins, and who else " +
				"has logged in from those addresses. With an address, shows who has logged in from it.",
			run: (*World).cmdSite},
	}
}

// startsHash reports whether a line typed at the stage starts a password
// check or hash (so a reboot under way makes it wait: see mustDefer).
func (st Stage) startsHash() bool {
	switch st {
	case StagePassword, StageConfirmPassword, StageOldPassword, StageChangeConfirm, StageDeletePassword, StageForcedConfirm:
		return true
	}
	return false
}

func (w *World) cmdPassword(s *Session, _ string) {
	s.Login.Stage = StageOldPassword
	s.sendRaw(s.Telnet.SetPasswordMode(true))
	s.println("To change your password: your password now, then the new one twice. An empty line stops.")
	s.prompt(promptOldPassword)
}

// passwordLine handles a line typed at the prompts of 'password' and
// 'deleteaccount' (in the world), or when choosing a new password after a
// one-time one (at login, s.Player nil: no way out but a new password).
func (w *World) passwordLine(s *Session, raw []byte) {
	pw := string(raw)
	s.println("") // the client did not echo the newline
	if pw == "" && s.Player != nil {
		if s.Login.Stage == StageDeletePassword {
			w.endPasswordPrompt(s, "Your account is as it was.")
		} else {
			w.endPasswordPrompt(s, "Your password is as it was.")
		}
		return
	}
	switch s.Login.Stage {
	case StageOldPassword:
		w.startHash(s, hashJob{password: pw, hash: s.Player.PasswordHash, cost: w.cfg.HashCost, then: (*World).oldPasswordChecked})
	case StageDeletePassword:
		w.startHash(s, hashJob{password: pw, hash: s.Player.PasswordHash, cost: w.cfg.HashCost, then: (*World).deletePasswordChecked})
	case StageChangePassword, StageForcedPassword:
		if err := player.ValidatePassword(pw); err != nil {
			s.println("Sorry, " + err.Error() + ".")
			s.prompt(promptChangePassword)
			return
		}
		s.Login.Salt = randomHex(16)
		s.Login.Digest = digest(s.Login.Salt, pw)
		s.Login.Stage = map[Stage]Stage{StageChangePassword: StageChangeConfirm, StageForcedPassword: StageForcedConfirm}[s.Login.Stage]
		s.prompt(promptChangeConfirm)
	case StageChangeConfirm, StageForcedConfirm:
		if subtle.ConstantTimeCompare([]byte(digest(s.Login.Salt, pw)), []byte(s.Login.Digest)) != 1 {
			s.Login.Salt, s.Login.Digest = "", ""
			s.Login.Stage = map[Stage]Stage{StageChangeConfirm: StageChangePassword, StageForcedConfirm: StageForcedPassword}[s.Login.Stage]
			s.println("The passwords did not match; please choose one again.")
			s.prompt(promptChangePassword)
			return
		}
		// The digest stays until the new password is stored, so that this
		// line can be handled again if a reboot carries it.
		w.startHash(s, hashJob{register: true, password: pw, cost: w.cfg.HashCost, then: (*World).newPasswordHashed})
	}
}

// endPasswordPrompt takes a player in the world back from a password
// prompt: echo on, a last word, their prompt.
func (w *World) endPasswordPrompt(s *Session, msg string) {
	s.Login = LoginState{Stage: StagePlaying, Name: s.Player.Name, Failures: s.Login.Failures}
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	s.println(msg)
	w.sendPrompt(s)
}

// wrongPassword is a wrong password at an in-game prompt: counted like a
// login's, so that an unattended session cannot be used to guess it.
func (w *World) wrongPassword(s *Session, res hashResult, msg string) {
	if !errors.Is(res.err, player.ErrWrongPassword) {
		w.log.Error().Err(res.err).Str("player", s.Player.Name).Msg("password check failed")
	}
	s.Login.Failures++
	w.log.Warn().Str("addr", s.Addr).Str("player", s.Player.Name).Int("failures", s.Login.Failures).Msg("wrong password in the world")
	if s.Login.Failures >= w.cfg.MaxLoginFailures {
		s.sendRaw(s.Telnet.SetPasswordMode(false))
		s.println("Wrong password. Too many attempts; goodbye.")
		w.closeSession(s, closeWrongPasswords)
		return
	}
	w.endPasswordPrompt(s, "Wrong password. "+msg)
}

func (w *World) oldPasswordChecked(s *Session, res hashResult) {
	if s.Player == nil || s.Login.Stage != StageOldPassword {
		return
	}
	if res.err != nil {
		w.wrongPassword(s, res, "Your password is as it was.")
		return
	}
	s.Login.Stage = StageChangePassword
	s.println("Your new password must be at least " + itoa(player.MinPasswordLen) + " characters long.")
	s.prompt(promptChangePassword)
}

func (w *World) newPasswordHashed(s *Session, res hashResult) {
	if s.Login.Stage != StageChangeConfirm && s.Login.Stage != StageForcedConfirm {
		return
	}
	s.Login.Salt, s.Login.Digest = "", ""
	if s.Player == nil {
		w.forcedPasswordHashed(s, res)
		return
	}
	if res.err == nil {
		res.err = w.store.SetPassword(s.Player.Name, res.newHash, false)
	}
	if res.err != nil {
		w.log.Error().Err(res.err).Str("player", s.Player.Name).Msg("could not change a password")
		w.endPasswordPrompt(s, "Sorry, something went wrong: your password is as it was.")
		return
	}
	s.Player.PasswordHash = res.newHash
	w.log.Info().Str("player", s.Player.Name).Str("addr", s.Addr).Msg("password changed")
	w.endPasswordPrompt(s, "Your password has been changed.")
}

// mustChangePassword is called when a login's password was right: a
// player whose password is a one-time one (see 'resetpassword') is sent to
// choose a new one before entering, echo still off, and it reports true.
// So is an account deleted while its password was being checked (which
// must not be entered).
func (w *World) mustChangePassword(s *Session, p *player.Player) bool {
	must, err := w.store.MustChangePassword(p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.sendRaw(s.Telnet.SetPasswordMode(false))
		s.println("Sorry, that account is not available.")
		s.Login = LoginState{}
		s.prompt(promptName)
		return true
	case err != nil:
		w.log.Error().Err(err).Str("player", p.Name).Msg("could not read whether a password is a one-time one")
		return false // the password was right: let them in
	case !must:
		return false
	}
	w.guard.succeed(s.Addr, s.Login.Name)
	w.log.Info().Str("player", p.Name).Str("addr", s.Addr).Msg("logged in with a one-time password")
	s.Login.Stage = StageForcedPassword
	s.println("You have logged in with a one-time password: please choose a password of your own now.")
	s.println("Your new password must be at least " + itoa(player.MinPasswordLen) + " characters long.")
	s.prompt(promptChangePassword)
	return true
}

// forcedPasswordHashed stores the new password of a login that used a
// one-time one, and lets the player in.
func (w *World) forcedPasswordHashed(s *Session, res hashResult) {
	var p *player.Player
	if res.err == nil {
		// Loaded afresh: the account may have changed (or gone) since the
		// one-time password was checked.
		if p, res.err = w.store.Player(s.Login.Name); res.err == nil {
			res.err = w.store.SetPassword(p.Name, res.newHash, false)
		}
	}
	if res.err != nil {
		if !errors.Is(res.err, store.ErrNotFound) {
			w.log.Error().Err(res.err).Str("player", s.Login.Name).Msg("could not store a new password")
		}
		s.sendRaw(s.Telnet.SetPasswordMode(false))
		s.println("Sorry, something went wrong; please log in again.")
		s.Login = LoginState{}
		s.prompt(promptName)
		return
	}
	p.PasswordHash = res.newHash
	s.sendRaw(s.Telnet.SetPasswordMode(false))
	s.println("Your password has been changed.")
	w.log.Info().Str("player", p.Name).Str("addr", s.Addr).Msg("one-time password replaced")
	if old := w.online[p.Key()]; old != nil {
		old.Player.PasswordHash = p.PasswordHash // or the session taken over would save the old one
		w.takeOver(old, s)
		return
	}
	if p.LastSeen.IsZero() {
		s.println("Welcome, " + p.Name + "!")
	} else {
		s.println("Welcome back, " + p.Name + "! You were last here " + ago(w.cfg.Now().Sub(p.LastSeen)) + " ago, from " + p.LastAddress + ".")
	}
	w.enter(s, p, false)
}

func (w *World) cmdDeleteAccount(s *Session, args string) {
	name, reason := nameAndReason(args)
	me := s.Player
	switch {
	case name == "":
		s.println("'deleteaccount " + me.Name + "' deletes your account for good, after asking for your password.")
		if me.Rank >= staffRank {
			s.println("'deleteaccount <name> [reason]' deletes someone else's.")
		}
		return
	case player.Key(name) == me.Key():
		if err := deletable(w.store, me); err != nil {
			s.println("Sorry, " + err.Error() + ".")
			return
		}
		s.Login.Stage = StageDeletePassword
		s.sendRaw(s.Telnet.SetPasswordMode(true))
		s.println("This deletes your account, " + me.Name + ", for good: your mail, rooms and lists go with it. An empty line keeps it.")
		s.prompt(promptDeletePassword)
		return
	case me.Rank < staffRank:
		s.println("You can delete only your own account: 'deleteaccount " + me.Name + "'.")
		return
	}
	p, ok := w.staffAccountTarget(s, name, "delete the account of")
	if !ok {
		return
	}
	if err := w.deleteAccountBy(p, me.Name, reason, s); err != nil {
		s.println("Sorry, " + err.Error() + ".")
		return
	}
	s.println("The account " + p.Name + " has been deleted.")
}

func (w *World) deletePasswordChecked(s *Session, res hashResult) {
	if s.Player == nil || s.Login.Stage != StageDeletePassword {
		return
	}
	if res.err != nil {
		w.wrongPassword(s, res, "Your account is as it was.")
		return
	}
	p := s.Player
	if err := w.deleteAccount(p, "Your account has been deleted. Goodbye, "+p.Name+"."); err != nil {
		w.endPasswordPrompt(s, "Sorry, "+err.Error()+".")
	}
}

// staffAccountTarget finds the account a staff command acts on by its
// whole name (no prefix of someone online: these change an account for
// good) and checks the staff member's rank against it.
func (w *World) staffAccountTarget(s *Session, name, verb string) (*player.Player, bool) {
	p, err := w.account(name)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			w.log.Error().Err(err).Str("name", name).Msg("player lookup failed")
		}
		s.println("There is nobody called '" + name + "' on " + w.cfg.Name + " (type the whole name).")
		return nil, false
	}
	return p, outranks(s, p, verb)
}

func (w *World) cmdResetPassword(s *Session, args string) {
	name, _ := nameAndReason(args)
	if name == "" {
		usage(s, "resetpassword", w)
		return
	}
	p, ok := w.staffAccountTarget(s, name, "reset the password of")
	if !ok {
		return
	}
	otp, key := oneTimePassword(), p.Key()
	// If a reboot takes the job back before it runs, the command is asked
	// again there (a new password: this one was never shown).
	w.startHash(s, hashJob{register: true, password: otp, cost: w.cfg.HashCost, replay: "resetpassword " + p.Name,
		then: func(w *World, s *Session, res hashResult) {
			p, err := w.account(key)
			if err == nil {
				err = res.err
			}
			if err == nil {
				err = w.setPasswordBy(p, res.newHash, true, s.Player.Name, s)
			}
			if err != nil {
				s.println("Sorry, the password could not be reset: " + err.Error() + ".")
			} else {
				s.println("The one-time password for " + p.Name + " is: " + otp)
				s.println("Give it to them privately. They log in with it and must then choose their own; their old password no longer works.")
			}
			w.sendPrompt(s)
		}})
}

// otpLetters are those of one-time passwords: no 0/o, 1/l/i to mistake
// when one is read out.
const otpLetters = "abcdefghjkmnpqrstuvwxyz23456789"

// oneTimePassword is a random password of 10 of otpLetters (49 bits).
func oneTimePassword() string {
	b := make([]byte, 10)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(otpLetters))))
		if err != nil {
			panic(err) // crypto/rand does not fail on Linux
		}
		b[i] = otpLetters[n.Int64()]
	}
	return string(b)
}

func (w *World) cmdRename(s *Session, args string) {
	f := strings.Fields(args)
	if len(f) != 2 {
		usage(s, "rename", w)
		return
	}
	p, ok := w.staffAccountTarget(s, f[0], "rename")
	if !ok {
		return
	}
	old := p.Name
	name, err := w.renameAccountBy(p, f[1], s.Player.Name, s)
	if err != nil {
		s.println("Sorry, " + err.Error() + ".")
		return
	}
	s.println(old + " is now called " + name + ".")
}

func (w *World) cmdSite(s *Session, args string) {
	arg := strings.TrimSpace(args)
	if arg == "" {
		usage(s, "site", w)
		return
	}
	if _, err := netip.ParseAddr(arg); err == nil {
		from, err := w.store.LoginsFrom([]string{arg}, "")
		if err != nil {
			w.log.Error().Err(err).Msg("could not read logins")
			s.println("Sorry, that could not be looked up just now.")
			return
		}
		if len(from) == 0 {
			s.println("Nobody has logged in from " + arg + " lately.")
			return
		}
		s.println("Logged in from " + arg + ":")
		for _, l := range from {
			s.println("  " + pad(l.Name, player.MaxNameLen+1) + "last " + l.At.Format("2006-01-02 15:04"))
		}
		return
	}
	p, _, msg := w.findPlayer(arg)
	if p == nil {
		s.println(msg)
		return
	}
	if p.Key() != s.Player.Key() && p.Rank >= s.Player.Rank {
		s.println("You can see where people log in from only below your own rank.")
		return
	}
	logins, err := w.store.Logins(p.Name)
	var others []store.Login
	if err == nil {
		var addrs []string
		seen := map[string]bool{}
		for _, l := range logins {
			if !seen[l.Addr] {
				seen[l.Addr] = true
				addrs = append(addrs, l.Addr)
			}
		}
		others, err = w.store.LoginsFrom(addrs, p.Name)
	}
	if err != nil {
		w.log.Error().Err(err).Msg("could not read logins")
		s.println("Sorry, that could not be looked up just now.")
		return
	}
	if len(logins) == 0 {
		s.println(p.Name + " has no logins on record.")
		return
	}
	s.println("The last " + plural(len(logins), "login") + " of " + p.Name + ":")
	for _, l := range logins {
		s.println("  " + l.At.Format("2006-01-02 15:04") + "  " + l.Addr)
	}
	if len(others) == 0 {
		s.println("Nobody else has logged in from those addresses.")
		return
	}
	s.println("Others who logged in from those addresses:")
	for _, l := range others {
		s.println("  " + pad(l.Name, player.MaxNameLen+1) + "from " + l.Addr + ", last " + l.At.Format("2006-01-02 15:04"))
	}
}

// inWorld reports whether a session at the stage is a player in the
// world: playing, or at a prompt of 'password' or 'deleteaccount'.
func (st Stage) inWorld() bool {
	return st == StagePlaying || st >= StageOldPassword && st <= StageDeletePassword
}
