package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestAngelRestartsKilledTalkerAndFollowsReboots: kill -9 of the talker is
// followed by a new generation within a second or two; a seamless reboot
// is followed, not counted as a crash.
func TestAngelRestartsKilledTalkerAndFollowsReboots(t *testing.T) {
	la := startAngel(t)
	first := la.talkerPID()
	if err := signalPID(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second, took := la.waitNewTalker(first, 5*time.Second)
	if took > 2*time.Second {
		t.Errorf("a new generation took %v after kill -9", took)
	}
	st := la.waitStatus("talker running", 5*time.Second)
	if !strings.Contains(st, "1 restarts; last exit: killed by SIGKILL") {
		t.Errorf("status after a kill -9:\n%s", st)
	}
	// Seamless reboots change the pid: the angel follows, and counts no crash.
	for i := 0; i < 3; i++ {
		if out, code := la.cli("reboot"); code != 0 {
			t.Fatalf("reboot: %s", out)
		}
	}
	third := la.waitServing(5 * time.Second)
	if third == second {
		t.Fatal("pid did not change across reboots")
	}
	// generation 1, recovered from kill -9 as 2, then three reboots.
	st = la.waitStatus("generation 5", 5*time.Second)
	if !strings.Contains(st, "3 seamless reboots") {
		t.Errorf("the crash recovery was counted as a reboot:\n%s", st)
	}
	if !strings.Contains(st, "angel: 1 restarts") || !strings.Contains(st, "talker running") {
		t.Errorf("reboots were counted as crashes or not followed:\n%s", st)
	}
	// The last retirement is logged when the angel reaps the process,
	// which may be a moment after the new generation answers.
	var logs string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if logs = la.logs(); strings.Count(logs, "previous generation retired") >= 3 {
			break
		}
	}
	if n := strings.Count(logs, "previous generation retired"); n != 3 {
		t.Errorf("%d generations retired, want 3:\n%s", n, logs)
	}
	if strings.Count(logs, "crashed") != 1 { // the kill -9, and nothing else
		t.Errorf("a reboot was judged a crash:\n%s", logs)
	}
	// The retired generations were reaped: no zombies among our children.
	for _, pid := range childrenOf(la.cmd.Process.Pid) {
		if !alive(pid) {
			t.Errorf("zombie %d under the angel", pid)
		}
	}
	if out, code := la.cli("stop"); code != 0 || !strings.Contains(out, "talker stopped") {
		t.Fatalf("stop: %d %s", code, out)
	}
	la.cmd.Wait()
	if kids := childrenOf(os.Getpid()); len(kids) != 0 {
		t.Errorf("processes left after talker stop: %v", kids)
	}
}

func (la *liveAngel) logs() string {
	out, _ := la.cli("log", "-n", "0")
	return out
}

// TestAngelSingleInstance starts 20 angels at once: exactly one stays.
func TestAngelSingleInstance(t *testing.T) {
	la := newAngelDir(t)
	var cmds []*exec.Cmd
	outs := make([]*syncBuffer, 20)
	for i := range outs {
		outs[i] = &syncBuffer{}
		c := la.command("angel")
		c.Stdout, c.Stderr = outs[i], outs[i]
		cmds = append(cmds, c)
	}
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func(c *exec.Cmd) { defer wg.Done(); c.Start() }(c)
	}
	wg.Wait()
	la.waitServing(20 * time.Second)
	exited := 0
	for i, c := range cmds {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("a second angel exited with %v", err)
			}
			if !strings.Contains(outs[i].String(), "angel already running (pid ") {
				t.Errorf("a second angel said %q", outs[i].String())
			}
			exited++
		case <-time.After(2 * time.Second):
			la.cmd = c // the one that runs
		}
	}
	if exited != 19 {
		t.Fatalf("%d of 20 angels exited, want 19", exited)
	}
	// A cron-style --detach start while one runs also just says so.
	out, code := la.cli("angel", "--detach")
	if code != 0 || !strings.Contains(out, "angel already running") {
		t.Errorf("angel --detach with one running: %d %s", code, out)
	}
	// After a deliberate stop, cron's angel does not undo it; start does.
	if out, code := la.cli("stop"); code != 0 {
		t.Fatalf("stop: %s", out)
	}
	out, code = la.cli("angel", "--detach")
	if code != 0 || !strings.Contains(out, "stopped deliberately") {
		t.Errorf("angel after a deliberate stop: %d %s", code, out)
	}
	if pid := la.talkerPID(); pid != 0 {
		t.Errorf("cron's angel restarted a deliberately stopped talker (pid %d)", pid)
	}
}

// TestAngelNotFooledByStalePIDFiles points the pid file and the lock file
// at an unrelated live process: the angel starts its own talker and leaves
// that process alone.
func TestAngelNotFooledByStalePIDFiles(t *testing.T) {
	la := newAngelDir(t)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	os.MkdirAll(la.data, 0o700)
	pid := fmt.Sprint(sleeper.Process.Pid)
	os.WriteFile(la.data+"/talker.pid", []byte(pid), 0o600)
	os.WriteFile(la.data+"/angel.lock", []byte(pid), 0o600)
	out, code := la.cli("status")
	if code == 0 || !strings.Contains(out, "angel: not running") {
		t.Errorf("status believed a stale pid file: %d %s", code, out)
	}
	la.cmd = la.command("angel")
	if err := la.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	talker := la.waitServing(20 * time.Second)
	if talker == sleeper.Process.Pid {
		t.Fatal("the angel took an unrelated process for the talker")
	}
	if !alive(sleeper.Process.Pid) {
		t.Fatal("the angel killed an unrelated process named in a stale pid file")
	}
}

// TestAngelReplacesHungTalker stops the talker with SIGSTOP: no heartbeat,
// so the angel dumps and kills it and starts another.
func TestAngelReplacesHungTalker(t *testing.T) {
	la := startAngel(t, "--hang-timeout", "1s")
	hung := la.talkerPID()
	if err := signalPID(hung, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	la.waitNewTalker(hung, 10*time.Second)
	st := la.waitStatus("talker running", 5*time.Second)
	if !strings.Contains(st, "hung (no heartbeat)") {
		t.Errorf("status does not say why:\n%s", st)
	}
	if alive(hung) {
		t.Error("the hung talker is still there")
	}
}

// TestAngelGivesUpOnCrashLoop makes every new talker crash at once: after
// the limit the angel stops restarting and says so; `talker start` tries
// again once the binary is fixed.
func TestAngelGivesUpOnCrashLoop(t *testing.T) {
	la := startAngel(t, "--crash-limit", "3", "--crash-window", "1m")
	first := la.talkerPID()
	copyFile(t, la.good, la.binary+".bak", 0o755)
	if err := os.WriteFile(la.binary+".new", []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Rename(la.binary+".new", la.binary)
	signalPID(first, syscall.SIGKILL)
	st := la.waitStatus("talker crash-loop", 10*time.Second)
	if !strings.Contains(st, "3 crashes within 1m0s") || !strings.Contains(st, "talker: not running") {
		t.Errorf("crash-loop status:\n%s", st)
	}
	time.Sleep(300 * time.Millisecond)
	if again := la.status(); !strings.Contains(again, "crash-loop") {
		t.Errorf("the angel kept restarting:\n%s", again)
	}
	os.Rename(la.binary+".bak", la.binary)
	out, code := la.cli("start")
	if code != 0 || !strings.Contains(out, "talker started") {
		t.Fatalf("start after fixing the binary: %d %s", code, out)
	}
}

// TestAngelKilledTalkerKeepsServingNewAngelAdopts: kill -9 of the angel
// leaves the talker serving; a new angel adopts it rather than starting a
// second one, and restarts it when it is killed.
func TestAngelKilledTalkerKeepsServingNewAngelAdopts(t *testing.T) {
	la := startAngel(t)
	talker := la.talkerPID()
	c := la.dialClient()
	c.Register("Stayer", "stayer-pw")
	la.cmd.Process.Kill()
	la.cmd.Wait()
	c.Send("say still serving")
	c.Expect("You say 'still serving'")
	if st := la.status(); !strings.Contains(st, "angel: not running") || !strings.Contains(st, fmt.Sprintf("pid %d", talker)) {
		t.Errorf("status with a dead angel:\n%s", st)
	}
	la.cmd = la.command("angel")
	if err := la.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st := la.waitStatus("talker running", 10*time.Second)
	if !strings.Contains(st, "adopted") || la.talkerPID() != talker {
		t.Errorf("the new angel did not adopt the running talker:\n%s", st)
	}
	c.Send("say adopted")
	c.Expect("You say 'adopted'")
	// The adopted talker is not the new angel's child: its death is still
	// noticed and repaired.
	signalPID(talker, syscall.SIGKILL)
	_, took := la.waitNewTalker(talker, 5*time.Second)
	if took > 2*time.Second {
		t.Errorf("restart of an adopted talker took %v", took)
	}
}

// TestLauncherWithNothingRunning runs every launcher command with the
// talker stopped and the angel dead.
func TestLauncherWithNothingRunning(t *testing.T) {
	la := newAngelDir(t)
	out, code := la.cli("status")
	if code != 3 || !strings.Contains(out, "angel: not running") || !strings.Contains(out, "talker: not running") {
		t.Errorf("status: %d %s", code, out)
	}
	out, code = la.cli("stop")
	if code != 0 || !strings.Contains(out, "not running") {
		t.Errorf("stop: %d %s", code, out)
	}
	for _, cmd := range []string{"reboot", "reset", "restart"} {
		start := time.Now()
		out, code = la.cli(cmd)
		if code == 0 || !strings.Contains(out, "not running") || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %d %s", cmd, code, out)
		}
	}
	out, code = la.cli("log")
	if code == 0 {
		t.Errorf("log with no logs: %d %s", code, out)
	}
	out, code = la.cli(append([]string{"start"}, la.args[2:]...)...)
	if code != 0 || !strings.Contains(out, "talker started: pid") {
		t.Fatalf("start: %d %s", code, out)
	}
	out, code = la.cli("start")
	if code != 0 || !strings.Contains(out, "talker started") {
		t.Errorf("second start: %d %s", code, out)
	}
	out, _ = la.cli("log", "-n", "0")
	if !strings.Contains(out, " angel ") || !strings.Contains(out, " talker ") || !strings.Contains(out, "talker generation is up") {
		t.Errorf("merged log lacks angel or talker lines:\n%s", out)
	}
	out, code = la.cli("stop")
	if code != 0 || !strings.Contains(out, "talker stopped") {
		t.Fatalf("stop: %d %s", code, out)
	}
	// start detaches the angel (a new session): it is not our child, so
	// look for it by the lock.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (alive(readPID(la.data+"/talker.pid")) || isLocked(la.data)) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(readPID(la.data+"/talker.pid")) || isLocked(la.data) {
		t.Error("talker stop left a process behind")
	}
}
