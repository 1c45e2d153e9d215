package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKill9KeepsEveryoneConnected: the angel holds a duplicate of every
// socket and a checkpoint of every session, so kill -9 of the talker with
// clients connected and chatting disconnects nobody: they stay logged in
// and can chat again within two seconds. A client that quit before the
// kill was really disconnected (EOF), not held open by the angel.
func TestKill9KeepsEveryoneConnected(t *testing.T) {
	la := startAngel(t)
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	bob := la.dialClient()
	bob.Register("Bob", "bob-pw-12")
	bob.Send("go lounge")
	bob.Expect("The Lounge")
	bob.Send("title the Steadfast")
	bob.Expect("Your title is now")
	carol := la.dialClient()
	carol.Register("Carol", "carol-pw")
	carol.Send("quit")
	carol.Expect("Goodbye")
	carol.WaitClosed() // really closed: EOF, although the angel holds dups
	pending := la.dialClient()
	pending.Expect("enter your name: ")
	pending.Send("alice")
	pending.Expect("Password: ")
	for i := 0; i < 5; i++ {
		alice.Send(fmt.Sprintf("tell bob before %d", i))
		bob.Expect(fmt.Sprintf("Alice tells you 'before %d'", i))
	}
	time.Sleep(400 * time.Millisecond) // a checkpoint interval or two
	// The admin can see that crash protection covers everyone connected.
	la.waitStatus("holding 3 connections for crash recovery", 5*time.Second)

	victim := la.talkerPID()
	killedAt := time.Now()
	if err := signalPID(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	alice.Expect("tripped over something and recovered")
	bob.Expect("tripped over something and recovered")
	alice.Send("tell bob after")
	bob.Expect("Alice tells you 'after'")
	if d := time.Since(killedAt); d > 2*time.Second {
		t.Errorf("chatting again took %v after kill -9", d)
	}
	bob.Send("look")
	bob.Expect("The Lounge")
	bob.Send("who")
	bob.Expect("Bob the Steadfast")
	bob.Send("reply back at you")
	alice.Expect("Bob tells you 'back at you'")
	pending.Expect("Password: ")
	pending.Send("alice-pw")
	pending.Expect("taken over your session")
	alice.Expect("logged in from another connection")
	for name, c := range map[string]interface{ Closed() bool }{"bob": bob, "pending": pending} {
		if c.Closed() {
			t.Errorf("%s was disconnected by kill -9", name)
		}
	}
	st := la.waitStatus("talker running", 5*time.Second)
	if !strings.Contains(st, "last recover") || !strings.Contains(st, "last exit: killed by SIGKILL") {
		t.Errorf("status after recovery:\n%s", st)
	}
	// And again, in the recovered generation.
	second := la.talkerPID()
	signalPID(second, syscall.SIGKILL)
	bob.Expect("tripped over something and recovered")
	bob.Send("tell alice still here")
	pending.Expect("Bob tells you 'still here'")
	// Two crash recoveries, counted apart from seamless reboots.
	bob.Send("uptime")
	bob.Expect("(0 seamless reboots, 2 crash recoveries)")
	bob.Expect("Last crash recovery")
}

// TestCrashLoopTellsHeldPlayersAndCloses: when the angel gives up, the
// players it holds are told and disconnected cleanly.
func TestCrashLoopTellsHeldPlayersAndCloses(t *testing.T) {
	la := startAngel(t, "--crash-limit", "3", "--backoff", "1s")
	c := la.dialClient()
	c.Register("Patient", "patient-pw")
	time.Sleep(400 * time.Millisecond)
	copyFile(t, la.good, la.binary+".bak", 0o755)
	la.swapTo("#!/bin/sh\nexit 1\n")
	signalPID(la.talkerPID(), syscall.SIGKILL)
	c.Expect("The talker is restarting; please hold on")
	c.Expect("could not be restarted")
	c.WaitClosed()
}

// TestFatalErrorIsRecoveredAndTraced: a Go fatal error cannot be caught in
// the process; the angel restarts the talker with every connection, and
// the fatal error's trace reaches the angel's log.
func TestFatalErrorIsRecoveredAndTraced(t *testing.T) {
	la := startAngel(t)
	cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", "Boss", "--rank", "admin", "--hash-cost", "4")
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("boss-password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	boss := la.dialClient()
	boss.Login("Boss", "boss-password")
	other := la.dialClient()
	other.Register("Other", "other-pw")
	time.Sleep(300 * time.Millisecond)
	boss.Send("crash fatal")
	other.Expect("tripped over something and recovered")
	boss.Expect("tripped over something and recovered")
	other.Send("say fine")
	boss.Expect("Other says 'fine'")
	logs := la.logs()
	if !strings.Contains(logs, "talker crash output") || !strings.Contains(logs, "sync.(*Mutex).Unlock") {
		t.Errorf("the fatal error's trace is not in the angel's log:\n%s", logs)
	}
	// The reason, which the runtime writes to stderr only, is in both the
	// angel's log and the crash log.
	const reason = "fatal error: sync: unlock of unlocked mutex"
	if b, _ := os.ReadFile(filepath.Join(la.data, "log", "angel.log")); !strings.Contains(string(b), `"reason":"`+reason) {
		t.Errorf("the angel's log lacks the reason %q", reason)
	}
	if b, _ := os.ReadFile(filepath.Join(la.data, "log", "talker-crash.log")); !strings.Contains(string(b), reason) {
		t.Errorf("the crash log lacks the reason %q:\n%s", reason, b)
	}
}

// TestRefusedCheckpointsEndAtTheLoginPrompt: a new generation that refuses
// the checkpoints of the one that died (as a binary that cannot read them
// would, every time) is offered the sockets alone next: its players are
// sent to the login prompt, still connected, instead of being held until
// the crash-loop limit and then disconnected.
func TestRefusedCheckpointsEndAtTheLoginPrompt(t *testing.T) {
	la := startAngel(t)
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	time.Sleep(400 * time.Millisecond) // a checkpoint interval or two
	la.waitStatus("holding 1 connections for crash recovery", 5*time.Second)
	// From now on every generation refuses checkpoints.
	script := fmt.Sprintf("#!/bin/sh\nTALKER_FAULT=reject-checkpoint exec %s \"$@\"\n", la.good)
	if err := os.WriteFile(la.binary+".new", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(la.binary+".new", la.binary); err != nil {
		t.Fatal(err)
	}
	victim := la.talkerPID()
	if err := signalPID(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	alice.Expect("your session could not be carried")
	alice.Expect("enter your name: ")
	alice.Login("Alice", "alice-pw")
	alice.Send("say back again")
	alice.Expect("You say 'back again'")
	b, _ := os.ReadFile(filepath.Join(la.data, "log", "angel.log"))
	if !strings.Contains(string(b), "offering the sockets alone") {
		t.Errorf("the angel's log does not say it offered the sockets alone")
	}
}

// TestLastGoodBinaryAfterTwoCrashes: a new build passes a reboot and then
// crashes soon after starting, every time. After two such crashes the
// angel recovers with the last good binary, kept in memory, and everyone
// is still connected; the players are told.
func TestLastGoodBinaryAfterTwoCrashes(t *testing.T) {
	la := startAngel(t, "--good-after", "2s")
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	la.waitLog("kept a copy of this generation's executable", 10*time.Second)
	script := fmt.Sprintf("#!/bin/sh\nTALKER_FAULT=crash-soon exec %s \"$@\"\n", la.good)
	if err := os.WriteFile(la.binary+".new", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(la.binary+".new", la.binary); err != nil {
		t.Fatal(err)
	}
	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("the bad build's reboot failed: %s", out)
	}
	alice.Expect("going back to the previous one")
	alice.Expect("recovered")
	alice.Send("say still here")
	alice.Expect("You say 'still here'")
	pid := la.talkerPID()
	time.Sleep(1500 * time.Millisecond) // past the bad build's crash
	if now := la.talkerPID(); now != pid || alice.Closed() {
		t.Fatalf("the talker did not stay up on the last good binary (pid %d, then %d)", pid, now)
	}
	if out, _ := la.cli("status"); !strings.Contains(out, "on the last good binary") {
		t.Errorf("status does not say the last good binary runs:\n%s", out)
	}
}

// waitLog waits until the angel's log holds want.
func (la *liveAngel) waitLog(want string, within time.Duration) {
	la.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(la.data, "log", "angel.log")); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	la.t.Fatalf("the angel's log did not say %q within %v", want, within)
}

// TestKilledLineRunsOnceMore: a signal sent from outside (an admin's kill
// -SEGV or kill -9, the OOM killer) while a line runs did not come from
// that line, so the next
// generation runs it once more rather than losing it; a second death while
// running it makes it poison, skipped and said. The line here is 'crash
// hang', which stops the world so that the kills land while it runs.
func TestKilledLineRunsOnceMore(t *testing.T) {
	la := startAngel(t, "--hang-timeout", "60s")
	la.createAccounts(t, "admin", "Boss")
	boss := la.dialClient()
	boss.Login("Boss", "boss-password")
	other := la.dialClient()
	other.Register("Other", "other-pw")
	la.waitStatus("holding 2 connections for crash recovery", 5*time.Second)
	hung := "deliberate hang"
	killWhenHung := func(times int, sig syscall.Signal) {
		t.Helper()
		// A hung talker does not answer 'talker status': its pid is
		// taken from its log line.
		lines := la.waitTalkerLog(hung, times, 10*time.Second)
		var entry struct{ PID int }
		if err := json.Unmarshal([]byte(lines[times-1]), &entry); err != nil {
			t.Fatal(err)
		}
		if err := signalPID(entry.PID, sig); err != nil {
			t.Fatal(err)
		}
	}
	boss.Send("crash hang")
	killWhenHung(1, syscall.SIGSEGV) // sent, not a fault: the runtime's dump says sigcode=0
	killWhenHung(2, syscall.SIGKILL) // it ran once more
	boss.Expect("Your last command was not run again")
	other.Send("say fine")
	boss.Expect("Other says 'fine'")
	if n := la.countTalkerLog(hung); n != 2 {
		t.Errorf("'crash hang' ran %d times; want 2 (once, and once more after the first kill)", n)
	}
}

// TestHungLineIsNotRunAgain: a line the angel had to kill the talker for
// (no heartbeat within the hang timeout) is what hung it: the next
// generation does not run it again.
func TestHungLineIsNotRunAgain(t *testing.T) {
	la := startAngel(t, "--hang-timeout", "1s")
	la.createAccounts(t, "admin", "Boss")
	boss := la.dialClient()
	boss.Login("Boss", "boss-password")
	la.waitStatus("holding 1 connections for crash recovery", 5*time.Second)
	victim := la.talkerPID()
	boss.Send("crash hang")
	la.waitNewTalker(victim, 15*time.Second)
	boss.Expect("Your last command was not run again")
	boss.Send("say fine")
	boss.Expect("You say 'fine'")
	if n := la.countTalkerLog("deliberate hang"); n != 1 {
		t.Errorf("'crash hang' ran %d times; want 1", n)
	}
}

// talkerLogLines is the talker log's lines holding want.
func (la *liveAngel) talkerLogLines(want string) []string {
	b, _ := os.ReadFile(filepath.Join(la.data, "log", "talker.log"))
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, want) {
			found = append(found, line)
		}
	}
	return found
}

func (la *liveAngel) countTalkerLog(want string) int { return len(la.talkerLogLines(want)) }

// waitTalkerLog waits until the talker's log holds want on n lines, and
// returns those lines.
func (la *liveAngel) waitTalkerLog(want string, n int, within time.Duration) []string {
	la.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if lines := la.talkerLogLines(want); len(lines) >= n {
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
	la.t.Fatalf("the talker's log did not say %q %d times within %v", want, n, within)
	return nil
}
