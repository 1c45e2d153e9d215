package server

import (
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"talker/config"
	"talker/player"
	"talker/server/store"
	"talker/server/talkertest"
)

// echoNegs lists the WILL ECHO / WONT ECHO a client got.
func echoNegs(c *talkertest.Client) string {
	var out []string
	for _, n := range c.Negotiations() {
		if strings.HasSuffix(n, " 1") {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

func TestPasswordChange(t *testing.T) {
	ts := startServer(t)
	alice := ts.newPlayer("Alice")
	alice.Send("prompt on")
	alice.Expect("> ")
	before := echoNegs(alice)

	// An empty line stops, a wrong password changes nothing.
	alice.Send("password")
	alice.Expect("Old password: ")
	if !alice.EchoOff() {
		t.Fatal("echo not off for the old password")
	}
	alice.Send("")
	alice.Expect("Your password is as it was.")
	if alice.EchoOff() {
		t.Fatal("echo still off after stopping")
	}
	alice.Send("password")
	alice.Expect("Old password: ")
	alice.Send("not-my-password")
	alice.Expect("Wrong password. Your password is as it was.")

	// The whole exchange: rules, a mismatch, then the new password.
	alice.Send("password")
	alice.Expect("Old password: ")
	if got := alice.Quiet(200 * time.Millisecond); got != "" {
		t.Errorf("the player's own prompt came after the password prompt: %q", got)
	}
	alice.Send("secret-Alice")
	alice.Expect("at least 6 characters")
	alice.Expect("New password: ")
	alice.Send("short")
	alice.Expect("Sorry, passwords must be at least 6 characters long.")
	alice.Expect("New password: ")
	alice.Send("first-try")
	alice.Expect("New password again: ")
	alice.Send("second-try")
	alice.Expect("The passwords did not match")
	alice.Expect("New password: ")
	if !alice.EchoOff() {
		t.Fatal("echo came back during the exchange")
	}
	alice.Send("brand-new-pw")
	alice.Expect("New password again: ")
	alice.Send("brand-new-pw")
	alice.Expect("Your password has been changed.")
	if alice.EchoOff() {
		t.Error("echo still off after the change")
	}
	// One WILL and one WONT per exchange, never flapping within one.
	if got := strings.TrimPrefix(echoNegs(alice), before+","); got != "WILL 1,WONT 1,WILL 1,WONT 1,WILL 1,WONT 1" {
		t.Errorf("echo negotiations for three exchanges: %s", got)
	}
	alice.Send("say still here")
	alice.Expect("You say 'still here'")
	if p := ts.player(t, "alice"); p.PasswordHash == "" || mustMatch(p.PasswordHash, "brand-new-pw") != nil {
		t.Error("the new password was not stored")
	}

	// The new password logs in (taking the session over); the old does not.
	old := ts.dial()
	old.Expect("name: ")
	old.Send("alice")
	old.Expect("Password: ")
	old.Send("secret-Alice")
	old.Expect("Wrong password.")
	ts.dial().Login("Alice", "brand-new-pw")
	alice.Expect("logged in from another connection")
}

func mustMatch(hash, pw string) error {
	_, err := player.CheckPassword(hash, pw, 4)
	return err
}

func TestWrongPasswordsInTheWorldAreCounted(t *testing.T) {
	ts := startServer(t)
	bob := ts.newPlayer("Bob")
	for i := 1; i <= 3; i++ {
		bob.Send("password")
		bob.Expect("Old password: ")
		bob.Send("guess-number-" + itoa(i))
		bob.Expect("Wrong password.")
	}
	bob.Expect("Too many attempts; goodbye.")
	bob.WaitClosed()
}

// otpIn finds the one-time password in a staff member's screen.
var otpIn = regexp.MustCompile(`one-time password for \w+ is: ([a-z0-9]+)`)

func TestResetPasswordForcesANewOneAtLogin(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.account("Boss", player.Admin)
	bob := ts.newPlayer("Bob")
	newt := ts.newPlayer("Newt")

	sue.Send("resetpassword boss")
	sue.Expect("You cannot reset the password of Boss, who is admin")
	sue.Send("resetpassword bo")
	sue.Expect("There is nobody called 'bo'")
	newt.Send("resetpassword bob")
	newt.Expect("Unknown command 'resetpassword'")

	sue.Send("resetpassword bob")
	m := otpIn.FindStringSubmatch(sue.Expect("their old password no longer works."))
	if m == nil {
		t.Fatal("no one-time password shown")
	}
	otp := m[1]
	bob.Expect("*** Sue has given you a one-time password")
	if strings.Contains(bob.Text(), otp) || strings.Contains(newt.Text(), otp) {
		t.Fatal("the one-time password was shown to someone other than the staff member")
	}
	// Saving Bob (he is on) must not put his old password back.
	bob.Send("title the Forgetful")
	bob.Expect("Your title is now")
	bob.Send("quit")
	bob.WaitClosed()
	sue.Send("stafflog 1")
	sue.Expect("Sue resetpassword Bob")

	c := ts.dial()
	c.Expect("name: ")
	c.Send("bob")
	c.Expect("Password: ")
	c.Send("secret-Bob")
	c.Expect("Wrong password.")
	c.Expect("Password: ")
	c.Send(otp)
	c.Expect("You have logged in with a one-time password")
	c.Expect("New password: ")
	if !c.EchoOff() {
		t.Fatal("echo on for the new password")
	}
	// It cannot be skipped: no command works, an empty line is no password.
	c.Send("quit")
	c.Expect("Sorry, passwords must be at least 6 characters long.")
	c.Send("")
	c.Expect("Sorry, passwords must be at least 6")
	c.Send("bobs-own-pw")
	c.Expect("New password again: ")
	c.Send("bobs-own-px")
	c.Expect("did not match")
	c.Send("bobs-own-pw")
	c.Expect("New password again: ")
	c.Send("bobs-own-pw")
	c.Expect("Your password has been changed.")
	c.Expect("Welcome back, Bob!")
	c.Expect("Exits:")
	if c.EchoOff() {
		t.Error("echo still off in the world")
	}
	if got := echoNegs(c); got != "WILL 1,WONT 1" {
		t.Errorf("echo negotiations: %s (want one WILL for the whole login)", got)
	}
	c.Send("quit")
	c.WaitClosed()

	// The one-time password is gone, the new one is Bob's, and he is not
	// asked again.
	if must, _ := ts.srv.Store().MustChangePassword("bob"); must {
		t.Error("still marked one-time")
	}
	again := ts.dial()
	again.Login("Bob", "bobs-own-pw")
	if strings.Contains(again.Text(), "one-time") {
		t.Error("asked for a new password again")
	}
	if p := ts.player(t, "bob"); p.Title != "the Forgetful" {
		t.Errorf("Bob's record lost what he set: %+v", p)
	}
}

func TestDeleteAccounts(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	carol := ts.account("Carol", player.Resident)

	// Alice has Bob as a friend and mail from him; Carol has a room,
	// where Alice is, and mail.
	alice.Send("friend bob")
	alice.Expect("Bob is now on your friend list.")
	bob.Send("mail send alice hello")
	bob.Expect("Mail sent to Alice.")
	alice.Send("mail send carol to carol")
	alice.Expect("Mail sent to Carol.")
	carol.Send("home")
	carol.Expect("Carol's Home")
	alice.Send("visit carol")
	alice.Expect("Carol's Home")

	// Who may delete whom.
	bob.Send("deleteaccount alice")
	bob.Expect("You can delete only your own account: 'deleteaccount Bob'.")
	sue.Send("deleteaccount boss")
	sue.Expect("You cannot delete the account of Boss, who is admin")
	sue.Send("deleteaccount bo")
	sue.Expect("There is nobody called 'bo'")
	boss.Send("deleteaccount boss")
	boss.Expect("Boss is the last admin; make another admin first.")

	// Staff delete Bob, who is on.
	sue.Send("deleteaccount bob spam")
	bob.Expect("*** Your account has been deleted by Sue (spam). Goodbye.")
	bob.WaitClosed()
	sue.Expect("The account Bob has been deleted.")
	alice.Send("friend")
	alice.Expect("Nobody is on your friend list.")
	if n, _, _ := ts.srv.Store().CountMail("alice"); n != 1 {
		t.Errorf("the mail Bob sent Alice went with him: %d", n)
	}
	boss.Expect("[staff] Sue deleteaccount Bob: spam")
	if _, err := ts.srv.Store().Player("bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Bob's account: %v", err)
	}
	if p := ts.player(t, "alice"); len(p.Lists) != 0 {
		t.Errorf("Alice's stored lists: %+v", p.Lists)
	}

	// Carol deletes her own: a wrong password changes nothing, then she
	// goes, her room with her, and Alice, who was in it, is moved.
	carol.Send("deleteaccount")
	carol.Expect("'deleteaccount Carol' deletes your account")
	carol.Send("deleteaccount carol")
	carol.Expect("Your password, to delete your account: ")
	if !carol.EchoOff() {
		t.Fatal("echo on for the password")
	}
	carol.Send("wrong-password")
	carol.Expect("Wrong password. Your account is as it was.")
	carol.Send("deleteaccount carol")
	carol.Expect("Your password, to delete your account: ")
	carol.Send("secret-Carol")
	carol.Expect("Your account has been deleted. Goodbye, Carol.")
	carol.WaitClosed()
	alice.Expect("The room you were in has gone; you are back in The Main Room.")
	alice.Send("look")
	alice.Expect("The Main Room (main)")
	if n, _, _ := ts.srv.Store().CountMail("carol"); n != 0 {
		t.Errorf("Carol's mail is still there: %d", n)
	}

	// The names are free again.
	c := ts.dial()
	c.Expect("name: ")
	c.Send("carol")
	c.Expect("Create a new account called Carol?")
}

func TestRenameAccount(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	bob.Send("friend alice")
	bob.Expect("Alice is now on your friend list.")
	bob.Send("mail send alice before the rename")
	bob.Expect("Mail sent to Alice.")
	alice.Send("home")
	alice.Expect("Alice's Home (alice.home)")
	alice.Send("title the Renamed")
	alice.Expect("Your title is now")

	for _, c := range []struct{ cmd, want string }{
		{"rename alice admin", `"admin" is reserved`},
		{"rename alice bob", "the name Bob is already taken"},
		{"rename alice x", "names are 2 to 16 letters long"},
		{"rename sue Susan", "You cannot rename yourself."},
		{"rename alice", "Usage: rename <name> <new name>"},
	} {
		sue.Send(c.cmd)
		sue.Expect(c.want)
	}
	sue.Send("rename alice Carol")
	sue.Expect("Alice is now called Carol.")
	alice.Expect("*** Sue has renamed you: you are now Carol.")

	// Carol carries on under the new name, with her room, title, mail and
	// Bob's friendship.
	alice.Send("who")
	alice.Expect("Carol the Renamed")
	alice.Send("look")
	alice.Expect("Carol's Home (carol.home)")
	alice.Send("mail")
	alice.Expect("before the rename")
	bob.Send("fwho")
	bob.Expect("Carol")
	alice.Send("quit")
	bob.Expect("Your friend Carol has disconnected")
	alice.WaitClosed()
	c := ts.dial()
	c.Login("carol", "secret-Alice")
	c.Send("home")
	c.Expect("You are already home.")
	old := ts.dial()
	old.Expect("name: ")
	old.Send("alice")
	old.Expect("Create a new account called Alice?")
}

func TestSiteShowsAddresses(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.account("Boss", player.Admin)
	ts.newPlayer("Alice").Send("quit")
	ts.newPlayer("Bob")
	ts.login("Alice")

	sue.Send("site alice")
	got := sue.Expect("Others who logged in from those addresses:")
	if strings.Count(got, "127.0.0.1") != 2 || !strings.Contains(got, "The last 2 logins of Alice:") {
		t.Errorf("site alice:\n%s", got)
	}
	sue.Expect("Bob")
	sue.Send("site 127.0.0.1")
	got = sue.Expect("Logged in from 127.0.0.1:")
	got += sue.Quiet(200 * time.Millisecond)
	for _, name := range []string{"Alice", "Bob", "Sue", "Boss"} {
		if !strings.Contains(got, name) {
			t.Errorf("site 127.0.0.1 lacks %s:\n%s", name, got)
		}
	}
	sue.Send("site boss")
	sue.Expect("only below your own rank")
	sue.Send("site 10.9.9.9")
	sue.Expect("Nobody has logged in from 10.9.9.9 lately.")
}

// testClock is a clock tests move forward.
type testClock struct{ off atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func TestIdleNewbiesExpireHourly(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-48 * time.Hour)
	create := func(st *store.Store, p *player.Player) {
		t.Helper()
		p.PasswordHash, _ = player.HashPassword("secret-"+p.Name, 4)
		if err := st.CreatePlayer(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*player.Player{
		{Name: "Stale", Rank: player.Newbie, CreatedAt: long, LastSeen: long},
		{Name: "Never", Rank: player.Newbie, CreatedAt: long},
		{Name: "Elder", Rank: player.Resident, CreatedAt: long, LastSeen: long},
		{Name: "Fresh", Rank: player.Newbie, CreatedAt: long, LastSeen: time.Now()},
	} {
		create(st, p)
	}
	st.Close()
	var clock testClock
	var log lockedBuffer
	ts := startServerIn(t, dir, func(c *Config) {
		c.Now, c.Log = clock.now, zerolog.New(&log)
		c.Apply(config.Default())
		c.HashCost, c.MaxPerAddress, c.NewbieExpiry = 4, 0, 2*time.Hour
	})
	exists := func(name string) bool {
		_, err := ts.srv.Store().Player(name)
		return err == nil
	}
	waitGone := func(name, why string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); exists(name); {
			if time.Now().After(deadline) {
				t.Fatalf("%s not expired %s", name, why)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitGone("stale", "at start")
	waitGone("never", "at start")
	if !exists("elder") || !exists("fresh") {
		t.Fatal("a resident or a recent newbie was expired")
	}
	if l := log.String(); !strings.Contains(l, `"player":"Stale"`) || !strings.Contains(l, "idle newbie account expired") {
		t.Errorf("the expiry was not logged by name:\n%s", l)
	}
	// Later becomes idle half an hour after the first look, but nobody
	// looks again until an hour has passed.
	fresh := ts.login("Fresh")
	create(ts.srv.Store(), &player.Player{Name: "Later", CreatedAt: long, LastSeen: clock.now().Add(-2*time.Hour + 10*time.Minute)})
	clock.advance(30 * time.Minute)
	time.Sleep(1500 * time.Millisecond) // more than a tick
	if !exists("later") {
		t.Fatal("looked again within the hour")
	}
	clock.advance(31 * time.Minute)
	waitGone("later", "an hour after the first look")
	// Fresh, on for longer than the expiry, is not expired when the next
	// look takes Last.
	create(ts.srv.Store(), &player.Player{Name: "Last", CreatedAt: long, LastSeen: long})
	clock.advance(3 * time.Hour)
	waitGone("last", "at the next hourly look")
	if !exists("fresh") || fresh.Closed() {
		t.Error("a newbie who is on was expired")
	}
}

// TestNewbieExpiryIsALiveSetting: the configuration file's
// accounts.newbie_expiry reaches the talker at start and at a reload.
func TestNewbieExpiryIsALiveSetting(t *testing.T) {
	s := config.Default()
	s.Accounts.NewbieExpiry = config.Duration(90 * 24 * time.Hour)
	var c Config
	c.Apply(s)
	if c.NewbieExpiry != 90*24*time.Hour {
		t.Fatalf("Apply: %v", c.NewbieExpiry)
	}
	ts := startServer(t)
	var rep ReloadReport
	ts.srv.world.do(func(w *World) {
		rep = w.applySettings(s)
		c.NewbieExpiry = w.cfg.NewbieExpiry
	})
	if c.NewbieExpiry != 90*24*time.Hour || len(rep.Applied) != 1 || rep.Applied[0].Key != "accounts.newbie_expiry" {
		t.Fatalf("reload: %v, %+v", c.NewbieExpiry, rep)
	}
}

// TestRebootDefersPasswordLinesInTheWorld: while a reboot is under way, a
// line at 'password' that would start a check waits (to be carried, or
// handled after a rollback), as a login's does; a one-time password a
// staff member asked for and that has not been made yet goes back to
// being the command, not the password, and is made after the rollback.
func TestRebootDefersPasswordLinesInTheWorld(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	ts.newPlayer("Bob")
	alice := ts.newPlayer("Alice")
	alice.Send("password")
	alice.Expect("Old password: ")
	held := func(name string) (lines []string) {
		ts.srv.world.do(func(w *World) {
			for _, ev := range w.online[player.Key(name)].held {
				lines = append(lines, string(ev.Line))
			}
		})
		return lines
	}
	ts.srv.world.do(func(w *World) { w.beginReboot(RebootRequest{Mode: "reboot"}) })
	alice.Send("secret-Alice")
	sue.Send("resetpassword bob")
	for deadline := time.Now().Add(2 * time.Second); len(held("Alice")) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Alice's password was not held")
		}
	}
	if got := alice.Quiet(100 * time.Millisecond); strings.Contains(got, "New password") {
		t.Fatal("the password was checked during the reboot")
	}
	ts.srv.world.do(func(w *World) { w.requeueHashesAsInput() }) // as the pause does
	if got := held("Sue"); len(got) != 1 || got[0] != "resetpassword Bob" {
		t.Fatalf("Sue's held input: %q", got)
	}
	ts.srv.world.do(func(w *World) { w.endReboot() })
	alice.Expect("New password: ")
	sue.Expect("The one-time password for Bob is: ")
	if strings.Count(sue.Text(), "one-time password for Bob") != 1 || strings.Contains(sue.Text(), "Unknown command") {
		t.Errorf("Sue's screen:\n%s", sue.Text())
	}
}
