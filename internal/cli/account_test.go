package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/player"
	"talker/server/store"
	"talker/server/talkertest"
)

// account runs `talker account ARGS --data DATA` with stdin as its
// standard input, and returns its output.
func account(t *testing.T, data, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := talkerCmd(t, append(append([]string{"account"}, args...), "--data", data, "--hash-cost", "4")...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustAccount(t *testing.T, data, stdin string, args ...string) string {
	t.Helper()
	out, err := account(t, data, stdin, args...)
	if err != nil {
		t.Fatalf("talker account %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestAccountCommandsOnARunningTalker: `talker account` goes through the
// running talker, which tells those online: a new password, a one-time
// one (which the player must replace at the next login), a rename (the
// player carries on under the new name), a deletion (told and
// disconnected); list and show see who is on and where they logged in from.
func TestAccountCommandsOnARunningTalker(t *testing.T) {
	lt := startTalker(t)
	lt.createAccount("Boss", "boss-password", "admin")
	lt.createAccount("Alice", "alice-password", "resident")
	alice := lt.dial()
	alice.Login("Alice", "alice-password")

	// Enough accounts for the list to be far longer than a line of the
	// control protocol usually is.
	st, err := store.Open(lt.data)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ {
		name := "Filler" + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
		if err := st.CreatePlayer(&player.Player{Name: name, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	out := mustAccount(t, lt.data, "", "list")
	if n := strings.Count(out, "Filler"); n != 400 {
		t.Errorf("account list has %d of the 400 fillers", n)
	}
	if !regexp.MustCompile(`Alice +resident +\d{4}-\d\d-\d\d \d\d:\d\d \(on now\)`).MatchString(out) ||
		!regexp.MustCompile(`Boss +admin +never`).MatchString(out) {
		t.Errorf("account list:\n%s", out)
	}
	out = mustAccount(t, lt.data, "", "show", "alice")
	if !strings.Contains(out, "Alice: resident, on now") || !strings.Contains(out, "recent logins:") || !strings.Contains(out, "127.0.0.1") {
		t.Errorf("account show:\n%s", out)
	}

	mustAccount(t, lt.data, "alice-second\n", "passwd", "alice")
	alice.Expect("has changed your password.")
	// Her session (saved when she changes anything) keeps the new one.
	alice.Send("title the Twice")
	alice.Expect("Your title is now")
	lt.dial().Login("Alice", "alice-second")
	alice.Expect("logged in from another connection")

	out = mustAccount(t, lt.data, "one-time-pw\n", "passwd", "Alice", "--temporary")
	if !strings.Contains(out, "one-time") {
		t.Errorf("passwd --temporary: %s", out)
	}
	c := lt.dial()
	c.Expect("name: ")
	c.Send("alice")
	c.Expect("Password: ")
	c.Send("one-time-pw")
	c.Expect("You have logged in with a one-time password")
	c.Send("alice-third")
	c.Expect("New password again: ")
	c.Send("alice-third")
	c.Expect("Welcome back, Alice: you have taken over your session.") // the login before this one is still on
	c.Expect("Exits:")

	out = mustAccount(t, lt.data, "", "rename", "alice", "Carol")
	if !strings.Contains(out, "renamed alice to Carol") {
		t.Errorf("rename: %s", out)
	}
	c.Expect("has renamed you: you are now Carol.")
	c.Send("who")
	c.Expect("Carol the Twice")
	if out, err := account(t, lt.data, "", "rename", "carol", "Admin"); err == nil || !strings.Contains(out, "reserved") {
		t.Errorf("renamed to a reserved name: %v %s", err, out)
	}
	if out, err := account(t, lt.data, "", "delete", "boss"); err == nil || !strings.Contains(out, "last admin") {
		t.Errorf("deleted the last admin: %v %s", err, out)
	}
	if out, err := account(t, lt.data, "", "show", "nobody"); err == nil || !strings.Contains(out, "there is no account called nobody") {
		t.Errorf("show nobody: %v %s", err, out)
	}

	mustAccount(t, lt.data, "", "delete", "carol")
	c.Expect("Your account has been deleted by")
	c.WaitClosed()
	boss := lt.dial()
	boss.Login("Boss", "boss-password")
	boss.Send("stafflog 5")
	boss.Expect("(shell) deleteaccount Carol")
	if out := mustAccount(t, lt.data, "", "list"); strings.Contains(out, "Carol ") || strings.Contains(out, "Alice") {
		t.Errorf("list after the deletion:\n%s", out)
	}
}

// TestAccountCommandsOnAStoppedTalker: with no talker running, `talker
// account` changes the database itself.
func TestAccountCommandsOnAStoppedTalker(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	mustAccount(t, data, "boss-password\n", "create", "--name", "Boss", "--rank", "admin")
	mustAccount(t, data, "alice-password\n", "create", "--name", "Alice")
	mustAccount(t, data, "bob-password\n", "create", "--name", "Bob")

	if out := mustAccount(t, data, "", "list"); !strings.Contains(out, "NAME") || !regexp.MustCompile(`Alice +resident +never`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	if _, err := account(t, data, "short\n", "passwd", "alice"); err == nil {
		t.Error("a password the rules refuse was accepted")
	}
	mustAccount(t, data, "alice-new-pw\n", "passwd", "alice", "--temporary")
	if out := mustAccount(t, data, "", "show", "Alice"); !strings.Contains(out, "one-time password") || !strings.Contains(out, "no logins on record") {
		t.Errorf("show:\n%s", out)
	}
	if out := mustAccount(t, data, "", "rename", "alice", "carol"); !strings.Contains(out, "renamed alice to Carol") {
		t.Errorf("rename: %s", out)
	}
	if out, err := account(t, data, "", "rename", "carol", "bob"); err == nil || !strings.Contains(out, "already taken") {
		t.Errorf("renamed onto Bob: %v %s", err, out)
	}
	mustAccount(t, data, "", "delete", "bob")
	if out, err := account(t, data, "", "delete", "boss"); err == nil || !strings.Contains(out, "last admin") {
		t.Errorf("deleted the last admin: %v %s", err, out)
	}
	if out, err := account(t, data, "", "frobnicate"); err == nil || !strings.Contains(out, "usage: talker account") {
		t.Errorf("unknown subcommand: %v %s", err, out)
	}
	typo := filepath.Join(t.TempDir(), "typo")
	if out, err := account(t, typo, "", "list"); err == nil || !strings.Contains(out, "there is no talker in") {
		t.Errorf("list in a directory with no talker: %v %s", err, out)
	}
	if _, err := os.Stat(typo); err == nil {
		t.Error("a data directory was made for a mistyped --data")
	}

	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	carol, err := st.Player("carol")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := player.CheckPassword(carol.PasswordHash, "alice-new-pw", 4); err != nil {
		t.Errorf("Carol's password: %v", err)
	}
	if must, _ := st.MustChangePassword("carol"); !must {
		t.Error("not a one-time password")
	}
	if _, err := st.Player("bob"); err == nil {
		t.Error("Bob was not deleted")
	}
}

// TestRebootKeepsPasswordPrompts: players halfway through 'password' (at
// the old password, and at the new one's second prompt), through
// 'deleteaccount', and one choosing a new password after a one-time one,
// are at the same prompt after a reboot, echo still off, and finish.
func TestRebootKeepsPasswordPrompts(t *testing.T) {
	lt := startTalker(t)
	lt.createAccount("Carol", "carol-password", "resident")
	mustAccount(t, lt.data, "carol-one-time\n", "passwd", "carol", "--temporary")

	alice := lt.dial()
	alice.Register("Alice", "alice-password")
	alice.Send("password")
	alice.Expect("Old password: ")
	alice.Send("alice-password")
	alice.Expect("New password: ")
	alice.Send("alice-renewed")
	alice.Expect("New password again: ")
	bob := lt.dial()
	bob.Register("Bob", "bob-password")
	bob.Send("password")
	bob.Expect("Old password: ")
	dave := lt.dial()
	dave.Register("Dave", "dave-password")
	dave.Send("deleteaccount dave")
	dave.Expect("to delete your account: ")
	carol := lt.dial()
	carol.Expect("name: ")
	carol.Send("carol")
	carol.Expect("Password: ")
	carol.Send("carol-one-time")
	carol.Expect("New password: ")

	lt.reboot()
	for _, c := range []*talkertest.Client{alice, bob, dave, carol} {
		if !c.EchoOff() || c.Closed() {
			t.Fatal("echo back on, or disconnected, after the reboot")
		}
	}
	alice.Expect("Reboot complete")
	alice.Expect("New password again: ")
	alice.Send("alice-renewed")
	alice.Expect("Your password has been changed.")
	bob.Expect("Reboot complete")
	bob.Expect("Old password: ")
	bob.Send("bob-password")
	bob.Expect("New password: ")
	bob.Send("bob-renewed")
	bob.Expect("New password again: ")
	bob.Send("bob-renewed")
	bob.Expect("Your password has been changed.")
	dave.Expect("to delete your account: ")
	dave.Send("")
	dave.Expect("Your account is as it was.")
	carol.Send("carol-renewed")
	carol.Expect("New password again: ")
	carol.Send("carol-renewed")
	carol.Expect("Welcome, Carol!")
	for _, c := range []*talkertest.Client{alice, bob, dave, carol} {
		if c.EchoOff() {
			t.Error("echo still off after the prompts")
		}
	}
	for name, pw := range map[string]string{"Alice": "alice-renewed", "Bob": "bob-renewed", "Carol": "carol-renewed"} {
		lt.dial().Login(name, pw)
	}
}

// TestCrashKeepsPasswordPrompt: kill -9 of the talker while a player is at
// the second prompt of 'password': the angel's recovery puts them back at
// it, echo off, and the change completes.
func TestCrashKeepsPasswordPrompt(t *testing.T) {
	la := startAngel(t)
	dana := la.dialClient()
	dana.Register("Dana", "dana-password")
	dana.Send("password")
	dana.Expect("Old password: ")
	dana.Send("dana-password")
	dana.Expect("New password: ")
	dana.Send("dana-renewed")
	dana.Expect("New password again: ")
	time.Sleep(400 * time.Millisecond) // a checkpoint interval or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	dana.Expect("recovered")
	dana.Expect("New password again: ")
	if !dana.EchoOff() {
		t.Fatal("echo back on after the recovery")
	}
	dana.Send("dana-renewed")
	dana.Expect("Your password has been changed.")
	la.dialClient().Login("Dana", "dana-renewed")
}
