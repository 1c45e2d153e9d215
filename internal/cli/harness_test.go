package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"talker/config"
	"talker/server/talkertest"
)

// liveTalker is a real talker process (this test binary, re-exec'd through
// TestMain) started from its own copy of the binary, so that tests can swap
// the binary a reboot will run. The test process is a child subreaper, so
// every generation a reboot starts stays our child: cleanup kills each of
// them by pid and reaps it.
type liveTalker struct {
	t       *testing.T
	dir     string
	binary  string // the path the talker runs as, and re-execs on reboot
	good    string // an untouched copy of the binary
	data    string
	addr    string
	hooks   string // hook trace file
	cmd     *exec.Cmd
	out     *syncBuffer
	mu      sync.Mutex
	seenPID map[int]bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var subreaperOnce sync.Once

func startTalker(t *testing.T, extra ...string) *liveTalker {
	t.Helper()
	return startTalkerWith(t, "", extra...)
}

// startTalkerWith starts a talker whose data directory has the given
// configuration file; with one, the listen address is the file's (its
// first), not a flag.
func startTalkerWith(t *testing.T, configFile string, extra ...string) *liveTalker {
	t.Helper()
	checkChildRaces(t)
	becomeSubreaper(t)
	dir := t.TempDir()
	lt := &liveTalker{t: t, dir: dir, binary: filepath.Join(dir, "talker"), good: filepath.Join(dir, "talker.good"),
		data: filepath.Join(dir, "data"), addr: freePort(t), hooks: filepath.Join(dir, "hooks.log"),
		out: &syncBuffer{}, seenPID: map[int]bool{}}
	copyFile(t, os.Args[0], lt.good, 0o755)
	copyFile(t, os.Args[0], lt.binary, 0o755)
	args := []string{"serve", "--data", lt.data, "--hash-cost", "4",
		"--max-per-address", "0", "--new-accounts-per-hour", "0", "--line-rate", "0", "--byte-rate", "0", "--ready-timeout", "3s"}
	if configFile == "" {
		args = append(args, "--listen", lt.addr)
	} else {
		s, probs := config.Parse([]byte(configFile))
		if len(probs) > 0 {
			t.Fatalf("test configuration: %v", probs)
		}
		lt.addr = s.Listen[0]
		if err := os.MkdirAll(lt.data, 0o700); err != nil {
			t.Fatal(err)
		}
		lt.writeConfig(configFile)
	}
	args = append(args, extra...)
	lt.cmd = exec.Command(lt.binary, args...)
	lt.cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1", "TALKER_HOOK_TRACE="+lt.hooks)
	lt.cmd.Stdout, lt.cmd.Stderr = lt.out, lt.out
	if err := lt.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lt.seenPID[lt.cmd.Process.Pid] = true
	t.Cleanup(lt.kill)
	waitListening(t, lt.addr, 20*time.Second)
	lt.waitPID(lt.cmd.Process.Pid)
	return lt
}

// writeConfig replaces the data directory's configuration file, as an
// admin's editor would (a new file renamed into place).
func (lt *liveTalker) writeConfig(text string) {
	lt.t.Helper()
	p := filepath.Join(lt.data, config.FileName)
	if err := os.WriteFile(p+".new", []byte(text), 0o600); err != nil {
		lt.t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		lt.t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tmp := to + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	if err := os.Rename(tmp, to); err != nil { // never write over a running binary
		t.Fatal(err)
	}
}

// pid is the current generation's pid, from the pid file.
// logWhen waits (at most 5 s) until the talker's output satisfies ok, and
// returns it. What the talker logs reaches the test through a pipe, and may
// arrive after what it said to clients over TCP at the same moment.
func (lt *liveTalker) logWhen(ok func(log string) bool) string {
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := lt.out.String()
		if ok(log) || time.Now().After(deadline) {
			return log
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (lt *liveTalker) pid() int {
	b, _ := os.ReadFile(filepath.Join(lt.data, "talker.pid"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if n > 0 {
		lt.mu.Lock()
		lt.seenPID[n] = true
		lt.mu.Unlock()
	}
	return n
}

func (lt *liveTalker) waitPID(want int) {
	lt.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lt.pid() != want {
		if time.Now().After(deadline) {
			lt.t.Fatalf("pid file says %d, want %d\n%s", lt.pid(), want, lt.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends every generation this talker had, by pid, and reaps them.
func (lt *liveTalker) kill() {
	lt.pid()
	lt.mu.Lock()
	pids := make([]int, 0, len(lt.seenPID))
	for p := range lt.seenPID {
		pids = append(pids, p)
	}
	lt.mu.Unlock()
	for _, p := range pids {
		_ = signalPID(p, syscall.SIGKILL)
	}
	for _, p := range pids {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(p, &ws, 0, nil)
	}
	killChildren(lt.t) // anything else a generation left behind
	if lt.t.Failed() {
		lt.t.Logf("talker output:\n%s", lt.out.String())
	}
}

// reapExited collects generations that have exited (they are our children
// through the subreaper), so that they do not linger as zombies.
func (lt *liveTalker) reapExited() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// cli runs a talker command against this talker's data directory.
func (lt *liveTalker) cli(args ...string) (string, error) {
	cmd := exec.Command(lt.good, append(args[:1:1], append([]string{"--data", lt.data}, args[1:]...)...)...)
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// reboot runs `talker reboot` and fails the test unless it succeeds and a
// new generation is serving.
func (lt *liveTalker) reboot() string {
	lt.t.Helper()
	before := lt.pid()
	out, err := lt.cli("reboot")
	if err != nil {
		lt.t.Fatalf("talker reboot: %v\n%s\ntalker output:\n%s", err, out, lt.out.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for lt.pid() == before {
		if time.Now().After(deadline) {
			lt.t.Fatalf("pid did not change after reboot: %s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	lt.waitExit(before)
	return out
}

// waitExit waits for an old generation to exit (it is our child, directly
// or through the subreaper) and checks that it exited as "handed over".
func (lt *liveTalker) waitExit(pid int) {
	lt.t.Helper()
	var ws syscall.WaitStatus
	done := make(chan error, 1)
	go func() {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil && ws.ExitStatus() != 10 {
			lt.t.Errorf("old generation %d exited with %v, want status 10 (handed over)", pid, ws)
		}
	case <-time.After(10 * time.Second):
		lt.t.Fatalf("old generation %d did not exit", pid)
	}
}

func (lt *liveTalker) dial(opts ...talkertest.Options) *talkertest.Client {
	o := talkertest.Options{Width: 200, Height: 50}
	if len(opts) > 0 {
		o = opts[0]
	}
	return talkertest.Dial(lt.t, lt.addr, o)
}

// swapBinary replaces the binary a reboot will run.
func (lt *liveTalker) swapBinary(script string) {
	lt.t.Helper()
	tmp := lt.binary + ".new"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		lt.t.Fatal(err)
	}
	if err := os.Rename(tmp, lt.binary); err != nil {
		lt.t.Fatal(err)
	}
}

func (lt *liveTalker) restoreBinary() { copyFile(lt.t, lt.good, lt.binary, 0o755) }

// openFDs counts the descriptors a process has open.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// hookTrace returns the hook calls recorded so far as "pid name" lines.
func (lt *liveTalker) hookTrace() []string {
	b, _ := os.ReadFile(lt.hooks)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 {
			out = append(out, f[0]+" "+f[2])
		}
	}
	return out
}
