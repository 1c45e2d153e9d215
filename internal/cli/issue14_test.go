package cli

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/server/store"
	"talker/server/talkertest"
)

// invisAndWrap sets up what a player sees that lives in the session: Sue,
// staff, invisible; Alice's text wrapped at 30 columns by hand, and a plan. It returns
// Alice, Sue and Bob (a resident, who must not see Sue).
func invisAndWrap(t *testing.T, dial func() *talkertest.Client, create func(name, pw, rank string)) (alice, sue, bob *talkertest.Client) {
	t.Helper()
	create("Sue", "sue-password", "staff")
	sue = dial()
	sue.Login("Sue", "sue-password")
	sue.Send("invis on")
	sue.Expect("You are now invisible")
	alice = dial()
	alice.Register("Alice", "alice-password")
	alice.Send("wrap 30")
	alice.Expect("wrapped at 30")
	alice.Send("plan tea at four")
	alice.Expect("Your plan is now")
	bob = dial()
	bob.Register("Bob", "bob-password")
	return alice, sue, bob
}

// checkInvisAndWrap checks both survived: Bob's who leaves Sue out, Sue's
// who marks her, and a long line reaches Alice wrapped at 30 columns.
func checkInvisAndWrap(t *testing.T, alice, sue, bob *talkertest.Client) {
	t.Helper()
	bob.Send("who")
	if got := bob.Expect("(* admin"); strings.Contains(got, "Sue") {
		t.Errorf("Sue is visible to a resident after the restart:\n%s", got)
	}
	sue.Send("who")
	sue.Expect("Sue (invisible)")
	bob.Send("say " + strings.Repeat("word ", 12) + "end")
	got := alice.Expect("end'")
	for _, l := range strings.Split(strings.ReplaceAll(got, "\r", ""), "\n") {
		if len(l) > 30 {
			t.Errorf("Alice got a line longer than her 30 columns: %q", l)
		}
	}
	alice.Send("wrap")
	alice.Expect("Your text is wrapped at 30\n")
	bob.Send("examine alice")
	bob.Expect("Plan: tea at four")
}

// TestRebootKeepsInvisAndWrap: a seamless reboot (real processes) keeps a
// member of staff invisible and a player's wrap width.
func TestRebootKeepsInvisAndWrap(t *testing.T) {
	lt := startTalker(t)
	alice, sue, bob := invisAndWrap(t, func() *talkertest.Client { return lt.dial() }, lt.createAccount)
	lt.reboot()
	for _, c := range []*talkertest.Client{alice, sue, bob} {
		c.Expect("Reboot complete")
	}
	checkInvisAndWrap(t, alice, sue, bob)
}

// TestCrashKeepsInvisAndWrap: the same across kill -9 of the talker and
// the angel's recovery.
func TestCrashKeepsInvisAndWrap(t *testing.T) {
	la := startAngel(t)
	create := func(name, pw, rank string) {
		cmd := talkerCmd(t, "account", "create", "--data", la.data, "--name", name, "--rank", rank, "--hash-cost", "4")
		cmd.Stdin = strings.NewReader(pw + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("account create %s: %v\n%s", name, err, out)
		}
	}
	alice, sue, bob := invisAndWrap(t, la.dialClient, create)
	time.Sleep(400 * time.Millisecond) // a checkpoint interval or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*talkertest.Client{alice, sue, bob} {
		c.Expect("recovered")
	}
	checkInvisAndWrap(t, alice, sue, bob)
}

// TestAccountCreateRefusesLookAlikes: 'talker account create' refuses a
// name that looks like an existing account's or like a staff title, with
// the words the login prompt uses, and creates nothing; an honest name
// still works.
func TestAccountCreateRefusesLookAlikes(t *testing.T) {
	data := t.TempDir()
	mustAccount(t, data, "alice-password\n", "create", "--name", "Alice")
	for name, want := range map[string]string{
		"AIice":     "AIice looks too much like Alice, who already has an account; please choose another name",
		"Sysadmin":  `"Sysadmin" looks like a staff title or a word the talker uses; please choose another name`,
		"Adrnin":    `"Adrnin" looks like a staff title`,
		"Moderator": `"Moderator" looks like a staff title`,
	} {
		out, err := account(t, data, "a-password\n", "create", "--name", name)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("create %s: %v\n%s\nwant %q", name, err, out, want)
		}
	}
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	names, err := st.PlayerNames()
	if err != nil || len(names) != 1 {
		t.Errorf("accounts after the refusals: %v %v", names, err)
	}
	st.Close()
	mustAccount(t, data, "bob-password\n", "create", "--name", "Bob")
}
