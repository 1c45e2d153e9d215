package cli

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/reboot"
)

// takenPort listens on a port for the whole test, so that a talker cannot.
func takenPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// runFor runs cmd and returns its combined output and exit code, failing
// the test if it is still running after within (cleanup then kills it).
func runFor(t *testing.T, cmd *exec.Cmd, within time.Duration) (string, int, time.Duration) {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode(), time.Since(start)
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0, time.Since(start)
	case <-time.After(within):
		t.Fatalf("%v still running after %v:\n%s", cmd.Args, within, out.String())
	}
	return "", 0, 0
}

// TestRunOnATakenPortExitsWithTheReason: `talker run` whose talker cannot
// listen does not sit in the foreground with no talker: the angel sees the
// first talker exit with the configuration code and stops with it.
func TestRunOnATakenPortExitsWithTheReason(t *testing.T) {
	becomeSubreaper(t)
	t.Cleanup(func() { killChildren(t) })
	data := filepath.Join(t.TempDir(), "data")
	run := talkerCmd(t, "run", "--data", data, "--listen", takenPort(t), "--hash-cost", "4")
	out, code, _ := runFor(t, run, 20*time.Second)
	if code != reboot.ExitConfig || !strings.Contains(out, "address already in use") || !strings.Contains(out, "the angel stops") {
		t.Errorf("talker run on a taken port: exit %d, want %d, and the reason:\n%s", code, reboot.ExitConfig, out)
	}
	if isLocked(data) {
		t.Error("an angel still holds the lock")
	}
}

// TestStartOnATakenPortSaysWhyAndLeavesNoAngel: `talker start` reports the
// talker's reason at once, and no idle angel is left behind.
func TestStartOnATakenPortSaysWhyAndLeavesNoAngel(t *testing.T) {
	la := newAngelDir(t)
	la.args[3] = takenPort(t) // --listen
	out, code, took := runFor(t, la.startCmd("--timeout", "20s"), 30*time.Second)
	if code == 0 || !strings.Contains(out, "cannot listen on "+la.args[3]) || !strings.Contains(out, "address already in use") {
		t.Errorf("start on a taken port: exit %d:\n%s", code, out)
	}
	if took > 10*time.Second {
		t.Errorf("start took %v to say so", took)
	}
	if isLocked(la.data) {
		t.Error("start left an angel running")
	}
	if kids := childrenOf(os.Getpid()); len(kids) > 0 {
		t.Errorf("processes left behind: %v", kids)
	}
}

// startCmd is `talker start` with this angel's flags and extra ones.
func (la *liveAngel) startCmd(extra ...string) *exec.Cmd {
	cmd := exec.Command(la.good, append(append([]string{"start"}, la.args...), extra...)...)
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	return cmd
}

// TestStartReportsAnAngelThatCannotRun: a data directory whose path is too
// long for its sockets makes the angel exit at once; `talker start` says
// so at once, naming the path and the limit, and so do run and serve.
func TestStartReportsAnAngelThatCannotRun(t *testing.T) {
	la := newAngelDir(t)
	la.data = filepath.Join(la.dir, strings.Repeat("d", max(1, 100-len(la.dir))))
	la.args[1] = la.data
	sock := filepath.Join(la.data, "run", "angel.sock")
	if len(sock) <= 107 {
		t.Fatalf("test path %s not long enough", sock)
	}
	out, code, took := runFor(t, la.startCmd("--timeout", "20s"), 30*time.Second)
	if code == 0 || !strings.Contains(out, "angel exited at once") || !strings.Contains(out, "too long") ||
		!strings.Contains(out, sock) || !strings.Contains(out, "107") {
		t.Errorf("start with a data path too long: exit %d:\n%s", code, out)
	}
	if took > 10*time.Second {
		t.Errorf("start took %v to say so", took)
	}
	for _, sub := range []string{"run", "serve"} {
		out, code, _ := runFor(t, talkerCmd(t, sub, "--data", la.data, "--listen", la.addr), 20*time.Second)
		if code == 0 || !strings.Contains(out, sock) || !strings.Contains(out, "107") {
			t.Errorf("%s with a data path too long: exit %d:\n%s", sub, code, out)
		}
	}
}

// TestAccountCreateSaysWhenItMakesADataDirectory: only a new directory is
// announced, by its absolute path.
func TestAccountCreateSaysWhenItMakesADataDirectory(t *testing.T) {
	dir := t.TempDir()
	create := func(name string) string {
		cmd := talkerCmd(t, "account", "create", "--data", "data", "--name", name, "--hash-cost", "4")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("a-password\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("account create: %v\n%s", err, out)
		}
		return string(out)
	}
	real, _ := filepath.EvalSymlinks(dir)
	out := create("First")
	if !strings.Contains(out, "creating a new data directory at "+filepath.Join(real, "data")+"\n") &&
		!strings.Contains(out, "creating a new data directory at "+filepath.Join(dir, "data")+"\n") {
		t.Errorf("first account create does not say where it makes the data directory:\n%s", out)
	}
	if out := create("Second"); strings.Contains(out, "creating") {
		t.Errorf("account create in an existing data directory:\n%s", out)
	}
}

// TestStatusJSON: the monitoring format's fields, and its exit code: 0
// while the talker serves, 1 when it does not.
func TestStatusJSON(t *testing.T) {
	la := startAngel(t)
	status := func() (map[string]map[string]any, int) {
		t.Helper()
		out, code := la.cli("status", "--json")
		var j map[string]map[string]any
		if err := json.Unmarshal([]byte(out), &j); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("status --json is not one JSON object (%v):\n%s", err, out)
		}
		return j, code
	}
	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("reboot: %s", out)
	}
	talker := la.waitServing(5 * time.Second)
	j, code := status()
	a, tk := j["angel"], j["talker"]
	for _, k := range []string{"running", "pid", "state", "detail", "restarts", "last_exit", "error"} {
		if _, ok := a[k]; !ok {
			t.Errorf("angel.%s missing: %v", k, a)
		}
	}
	for _, k := range []string{"running", "pid", "version", "generation", "players", "connections", "listening",
		"uptime_seconds", "reboots", "last_reboot_pause_ms", "countdown", "error"} {
		if _, ok := tk[k]; !ok {
			t.Errorf("talker.%s missing: %v", k, tk)
		}
	}
	if code != 0 || a["running"] != true || a["pid"] != float64(la.cmd.Process.Pid) || a["state"] != "running" {
		t.Errorf("angel while serving (exit %d): %v", code, a)
	}
	if tk["running"] != true || tk["pid"] != float64(talker) || tk["generation"] != float64(2) || tk["reboots"] != float64(1) ||
		tk["players"] != float64(0) || tk["version"] == "" || tk["error"] != "" {
		t.Errorf("talker while serving: %v", tk)
	}
	if l, _ := tk["listening"].([]any); len(l) != 1 || l[0] != la.addr {
		t.Errorf("talker.listening: %v, want [%s]", tk["listening"], la.addr)
	}
	if p, ok := tk["last_reboot_pause_ms"].(float64); !ok || p <= 0 {
		t.Errorf("talker.last_reboot_pause_ms after a reboot: %v", tk["last_reboot_pause_ms"])
	}
	if u, ok := tk["uptime_seconds"].(float64); !ok || u < 0 {
		t.Errorf("talker.uptime_seconds: %v", tk["uptime_seconds"])
	}
	if out, code := la.cli("stop"); code != 0 {
		t.Fatalf("stop: %s", out)
	}
	la.cmd.Wait()
	j, code = status()
	if code != 1 || j["angel"]["running"] != false || j["talker"]["running"] != false || j["talker"]["error"] == "" ||
		j["talker"]["last_reboot_pause_ms"] != nil {
		t.Errorf("status --json with nothing running: exit %d, %v", code, j)
	}
}

// TestStatusSaysWhetherTheTalkerRuns: with no angel, the talker's own line
// says whether it runs, and a talker that is there but does not answer is
// not called "not running".
func TestStatusSaysWhetherTheTalkerRuns(t *testing.T) {
	lt := startTalker(t)
	out, err := lt.cli("status")
	if err != nil || !strings.Contains(out, "angel: not running") || !strings.Contains(out, "talker: running, pid "+strconv.Itoa(lt.pid())) {
		t.Errorf("status of a talker without an angel: %v\n%s", err, out)
	}
	signalPID(lt.pid(), syscall.SIGSTOP)
	out, err = lt.cli("status", "--timeout", "1s")
	signalPID(lt.pid(), syscall.SIGCONT)
	if err == nil || !strings.Contains(out, "angel: not running") || !strings.Contains(out, "talker: not answering") {
		t.Errorf("status of a stopped talker: %v\n%s", err, out)
	}
	lt.kill()
	out, err = lt.cli("status")
	if err == nil || !strings.Contains(out, "talker: not running (nothing answers at "+filepath.Join(lt.data, "run", "talker.sock")+")") {
		t.Errorf("status with nothing running: %v\n%s", err, out)
	}
}

// TestPlantedSymlinks plants, at each file the angel and
// the talker write in the data directory, a symbolic link to a file
// outside it. The outside file is never touched: a file that is replaced
// (the pid file, the stop marker) replaces the link; one that is appended
// to or locked is refused, and `talker start` says why.
func TestPlantedSymlinks(t *testing.T) {
	for _, c := range []struct {
		path   string
		refuse bool // else: start succeeds and the link is replaced
	}{
		{"angel.lock", true},
		{"log/talker-stderr.log", true},
		{"log/talker-crash.log", true},
		{"log/talker.log", true}, // server/logging's own refusal
		{"log/angel.log", true},
		{"talker.pid", false},
		{"stopped", false}, // planted after the start: written at the stop
	} {
		// (the base name: a longer test name makes the data path too long for its sockets)
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			la := newAngelDir(t)
			victim := filepath.Join(la.dir, "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(la.data, c.path)
			plant := func() {
				t.Helper()
				if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(victim, link); err != nil {
					t.Fatal(err)
				}
			}
			if c.path != "stopped" {
				plant()
			}
			out, code, _ := runFor(t, la.startCmd("--timeout", "30s"), 40*time.Second)
			if c.refuse {
				if code == 0 || !strings.Contains(out, link+" is a symbolic link") {
					t.Errorf("start with %s a symbolic link: exit %d, want a refusal naming it:\n%s", c.path, code, out)
				}
			} else {
				if code != 0 {
					t.Fatalf("start: %d\n%s", code, out)
				}
				if c.path == "stopped" {
					plant()
				}
				// the pid file is written at the start, the stop marker at the stop
				if c.path == "stopped" {
					if out, code := la.cli("stop"); code != 0 {
						t.Fatalf("stop: %d %s", code, out)
					}
				}
				if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("%s is not a regular file: %v %v", c.path, fi, err)
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Errorf("the file outside the data directory was written through %s: %q", c.path, b)
			}
		})
	}
}
