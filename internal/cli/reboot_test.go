package cli

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

func (lt *liveTalker) createAccount(name, pw, rank string) {
	lt.t.Helper()
	cmd := talkerCmd(lt.t, "account", "create", "--data", lt.data, "--name", name, "--rank", rank, "--hash-cost", "4")
	cmd.Stdin = strings.NewReader(pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		lt.t.Fatalf("account create %s: %v\n%s", name, err, out)
	}
}

// TestRebootKeepsEveryone is the reason the project exists: clients at every
// stage of the login exchange and in the world, one typing during the
// reboot, one with a line split across it, one with a burst of output backed
// up; afterwards every one of them is connected, in the same state, and
// every line was handled exactly once.
func TestRebootKeepsEveryone(t *testing.T) {
	lt := startTalker(t)
	lt.createAccount("Known", "known-password", "resident")
	lt.createAccount("Boss", "boss-password", "admin")

	atName := lt.dial()
	atName.Expect("enter your name: ")

	atPassword := lt.dial()
	atPassword.Expect("enter your name: ")
	atPassword.Send("known")
	atPassword.Expect("Password: ")

	atNewPassword := lt.dial()
	atNewPassword.Expect("enter your name: ")
	atNewPassword.Send("Newbie")
	atNewPassword.Expect("(yes/no): ")
	atNewPassword.Send("yes")
	atNewPassword.Expect("Choose a password: ")

	atConfirm := lt.dial()
	atConfirm.Expect("enter your name: ")
	atConfirm.Send("Halfway")
	atConfirm.Expect("(yes/no): ")
	atConfirm.Send("yes")
	atConfirm.Expect("Choose a password: ")
	atConfirm.Send("halfway-pw")
	atConfirm.Expect("Type the password again: ")

	narrow := lt.dial(talkertest.Options{Width: 30, Height: 20, TTypes: []string{"TINTIN++", "XTERM", "MTTS 9"}})
	narrow.Expect("name: ")
	narrow.Send("Narrow")
	narrow.Expect("(yes/no): ")
	narrow.Send("yes")
	narrow.Expect("password: ")
	narrow.Send("narrow-pw")
	narrow.Expect("again: ")
	narrow.Send("narrow-pw")
	narrow.Expect("Exits:")

	boss := lt.dial()
	boss.Login("Boss", "boss-password")
	boss.Send("title the Boss")
	boss.Expect("Your title is now")
	boss.Send("go lounge")
	boss.Expect("The Lounge")

	talker := lt.dial()
	talker.Register("Talky", "talky-pw")
	listener := lt.dial(talkertest.Options{Width: 200, Height: 50, ReadBuffer: 4096})
	listener.Register("Listener", "listener-pw")

	splitter := lt.dial()
	splitter.Register("Splitter", "splitter-pw")
	splitter.SendRaw([]byte("say half of a li")) // the rest comes after the reboot

	// The listener stops reading and a burst of output backs up for it.
	listener.Hold()
	burst := strings.Repeat("b", 400)
	for i := 0; i < 100; i++ {
		talker.Send(fmt.Sprintf("say burst %03d %s", i, burst))
	}
	talker.Expect("You say 'burst 099")

	// Talky keeps talking through the reboot, a line every few ms.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sent := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ; ; sent++ {
			select {
			case <-stop:
				return
			default:
			}
			talker.Send(fmt.Sprintf("say seq %04d", sent))
			time.Sleep(3 * time.Millisecond)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	oldPID := lt.pid()
	out := lt.reboot()
	if !strings.Contains(out, "reboot done") || !strings.Contains(out, "sessions carried") {
		t.Errorf("talker reboot output: %q", out)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if lt.pid() == oldPID {
		t.Fatal("still the old process")
	}

	// The split line is completed in the new generation and arrives whole.
	splitter.Send("ne, and the rest")
	talker.Expect("Splitter says 'half of a line, and the rest'")

	// Every seq line exactly once, in order, for the speaker and a listener.
	talker.Send("say seq done")
	talker.Expect("You say 'seq done'")
	listener.Release()
	listener.Expect("Talky says 'seq done'")
	for name, c := range map[string]*talkertest.Client{"talker": talker, "listener": listener} {
		text := c.Text()
		for i := 0; i < sent; i++ {
			want := fmt.Sprintf("seq %04d'", i)
			if n := strings.Count(text, want); n != 1 {
				t.Errorf("%s saw line %d %d times", name, i, n)
			}
		}
		last := -1
		for _, l := range talkertest.Lines(text) {
			var n int
			if _, err := fmt.Sscanf(l[strings.Index(l, "'")+1:], "seq %04d", &n); err == nil && strings.Contains(l, "seq ") {
				if n != last+1 {
					t.Errorf("%s: line %d after %d", name, n, last)
				}
				last = n
			}
		}
	}
	// The burst reached the listener exactly once, in order.
	text := listener.Text()
	for i := 0; i < 100; i++ {
		if n := strings.Count(text, fmt.Sprintf("'burst %03d", i)); n != 1 {
			t.Errorf("listener saw burst line %d %d times", i, n)
		}
	}
	if strings.Index(text, "burst 099") < strings.Index(text, "burst 000") {
		t.Error("burst out of order")
	}

	// Login stages continue where they were; no password was skipped.
	atName.Send("Latecomer")
	atName.Expect("Create a new account called Latecomer? (yes/no): ")
	atPassword.Send("wrong-password")
	atPassword.Expect("Wrong password.")
	atPassword.Expect("Password: ")
	// The echo state crossed: the prompt still hid input after the
	// reboot, and the new generation, knowing it had asked the client not
	// to echo, gave echo back with the login.
	if !atPassword.EchoOff() {
		t.Error("the password prompt shows typing after the reboot")
	}
	atPassword.Send("known-password")
	atPassword.Expect("Welcome, Known!")
	if atPassword.EchoOff() {
		t.Error("echo not given back after logging in across a reboot")
	}
	atNewPassword.Send("newbie-pw")
	atNewPassword.Expect("Type the password again: ")
	atNewPassword.Send("newbie-pw")
	atNewPassword.Expect("Your account has been created. Welcome, Newbie!")
	atConfirm.Send("halfway-pw")
	atConfirm.Expect("Your account has been created. Welcome, Halfway!")

	// Logged-in players are where they were, with their state.
	boss.Expect("Reboot complete")
	boss.Expect("[staff] reboot by")
	boss.Send("look")
	boss.Expect("The Lounge")
	boss.Send("who")
	boss.Expect("Boss the Boss")
	// Telnet state crossed too: the narrow client is still wrapped at 30.
	narrow.Expect("Reboot")
	narrow.Send("description " + strings.Repeat("wrap ", 20))
	narrow.Expect("description is")
	for _, l := range talkertest.Lines(narrow.Quiet(300 * time.Millisecond)) {
		if len(l) > 30 {
			t.Errorf("narrow client got a %d-column line after the reboot: %q", len(l), l)
		}
	}
	st, _ := lt.cli("status")
	if !strings.Contains(st, "generation 2") || !strings.Contains(st, "1 seamless reboots") {
		t.Errorf("status after one reboot:\n%s", st)
	}
	for _, c := range []*talkertest.Client{atName, atPassword, atNewPassword, atConfirm, narrow, boss, talker, listener, splitter} {
		if c.Closed() {
			t.Error("a client was disconnected by the reboot")
		}
	}
}

// TestRebootHookOrder checks the hooks of a cold start, a reboot, a reset,
// a restart and a shutdown, in the processes they belong to.
func TestRebootHookOrder(t *testing.T) {
	lt := startTalker(t)
	gen1 := lt.pid()
	lt.reboot()
	gen2 := lt.pid()
	if out, err := lt.cli("reset"); err != nil {
		t.Fatalf("reset: %v %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for lt.pid() == gen2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	gen3 := lt.pid()
	lt.waitExit(gen2)
	c := lt.dial()
	c.Register("Restarted", "restart-pw")
	if out, err := lt.cli("restart"); err != nil || !strings.Contains(out, "restart done") {
		t.Fatalf("restart: %v %s", err, out)
	}
	c.Expect("you will be disconnected")
	c.WaitClosed()
	deadline = time.Now().Add(10 * time.Second)
	for lt.pid() == gen3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	gen4 := lt.pid()
	lt.waitExit(gen3)
	again := lt.dial()
	again.Login("Restarted", "restart-pw")
	if out, err := lt.cli("stop"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	want := []string{
		fmt.Sprint(gen1, " init"), fmt.Sprint(gen1, " cold_start"), fmt.Sprint(gen1, " start"),
		fmt.Sprint(gen1, " reload_stop"), fmt.Sprint(gen1, " stop"),
		fmt.Sprint(gen2, " init"), fmt.Sprint(gen2, " reload_start"), fmt.Sprint(gen2, " start"),
		fmt.Sprint(gen2, " cold_stop"), fmt.Sprint(gen2, " stop"),
		fmt.Sprint(gen3, " init"), fmt.Sprint(gen3, " cold_start"), fmt.Sprint(gen3, " start"),
		fmt.Sprint(gen3, " cold_stop"), fmt.Sprint(gen3, " stop"),
		fmt.Sprint(gen4, " init"), fmt.Sprint(gen4, " cold_start"), fmt.Sprint(gen4, " start"),
		fmt.Sprint(gen4, " cold_stop"), fmt.Sprint(gen4, " stop"),
	}
	if got := lt.hookTrace(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("hook trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRebootUnreadableRecordCostsOnlyThatSession makes one player's record
// unreadable in the new generation: that connection stays open and goes
// back to the login prompt with an apology; everyone else is untouched.
func TestRebootUnreadableRecordCostsOnlyThatSession(t *testing.T) {
	lt := startTalker(t)
	victim := lt.dial()
	victim.Register("Victim", "victim-pw")
	other := lt.dial()
	other.Register("Other", "other-pw")
	lt.swapBinary(fmt.Sprintf("#!/bin/sh\nTALKER_FAULT=corrupt-session:victim exec %s \"$@\"\n", lt.good))
	out := lt.reboot()
	if !strings.Contains(out, "1 could not be restored") {
		t.Errorf("reboot output does not count the lost session: %s", out)
	}
	victim.Expect("could not be carried across the reboot.")
	// The record's own bytes were damaged: the decoder found it unreadable.
	if log := lt.logWhen(func(log string) bool { return strings.Contains(log, "unexpected EOF") }); !strings.Contains(log, "unreadable session record") || !strings.Contains(log, "unexpected EOF") {
		t.Errorf("the damaged record did not fail in decoding:\n%s", log)
	}
	victim.Expect("enter your name: ")
	victim.Send("victim")
	victim.Expect("Password: ")
	victim.Send("victim-pw")
	victim.Expect("Welcome back, Victim!")
	other.Expect("Reboot complete")
	other.Send("say fine here")
	other.Expect("You say 'fine here'")
	victim.Expect("Other says 'fine here'")
}

// TestRebootCountdownCancelAndSignal drives reboots from in-game (with a
// countdown, cancelled, then run) and from SIGHUP.
func TestRebootCountdownCancelAndSignal(t *testing.T) {
	lt := startTalker(t)
	lt.createAccount("Boss", "boss-password", "admin")
	boss := lt.dial()
	boss.Login("Boss", "boss-password")
	pleb := lt.dial()
	pleb.Register("Pleb", "pleb-pw")
	pleb.Send("reboot")
	pleb.Expect("Unknown command 'reboot'")

	boss.Send("reboot 30 new features")
	pleb.Expect("The talker will reboot in 30 seconds; you will stay connected. (new features)")
	boss.Send("reboot cancel")
	pleb.Expect("countdown has been cancelled by Boss")
	gen1 := lt.pid()
	boss.Send("reboot 1 quick one")
	pleb.Expect("will reboot in 1 second")
	pleb.Expect("The talker is rebooting, hold on... (quick one)")
	pleb.Expect("Reboot complete in")
	boss.Expect("[staff] reboot by Boss: prepare ")
	// The admin sees each phase, the new binary's start among them.
	if got := boss.Expect("; before the pause)"); !strings.Contains(got, "(exec ") || strings.Contains(got, "exec 0.0 ms") {
		t.Errorf("the exec phase is missing from the admin's timings: %q", got)
	}
	lt.waitExit(gen1)
	gen2 := lt.pid()
	if gen2 == gen1 {
		t.Fatal("no new generation")
	}
	if err := signalPID(gen2, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	pleb.Expect("Reboot complete in")
	lt.waitExit(gen2)
	boss.Send("uptime")
	boss.Expect("this is generation 3 (2 seamless reboots, 0 crash recoveries)")
}

// TestRebootLeavesNothingReadableBehind: after reboots, nothing in the data
// directory is readable by other users (directories 0700, files and
// sockets 0600), and no handoff state file or socket is left in it.
func TestRebootLeavesNothingReadableBehind(t *testing.T) {
	lt := startTalker(t)
	c := lt.dial()
	c.Register("Alice", "alice-pw")
	lt.reboot()
	lt.reboot()
	c.Send("say still here")
	c.Expect("You say 'still here'")
	err := filepath.WalkDir(lt.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by others", path, fi.Mode().Perm())
		}
		name := d.Name()
		if strings.HasPrefix(name, "state-") || strings.HasPrefix(name, "handoff-") {
			t.Errorf("%s left behind by a handoff", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
