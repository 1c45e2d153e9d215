package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel"
	"talker/server/talkertest"
)

// liveAngel is a real angel process (this test binary through TestMain)
// watching real talker processes. The test process is a child subreaper,
// so talkers orphaned by a killed angel become its children: cleanup kills
// every child of the test process by pid and reaps it.
type liveAngel struct {
	t      *testing.T
	dir    string
	binary string
	good   string
	data   string
	addr   string
	args   []string
	out    *syncBuffer
	cmd    *exec.Cmd
}

func becomeSubreaper(t *testing.T) {
	subreaperOnce.Do(func() {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			t.Fatalf("cannot become a child subreaper: %v", err)
		}
	})
}

func newAngelDir(t *testing.T, extra ...string) *liveAngel {
	t.Helper()
	checkChildRaces(t)
	becomeSubreaper(t)
	dir := t.TempDir()
	la := &liveAngel{t: t, dir: dir, binary: filepath.Join(dir, "talker"), good: filepath.Join(dir, "talker.good"),
		data: filepath.Join(dir, "data"), addr: freePort(t), out: &syncBuffer{}}
	copyFile(t, os.Args[0], la.good, 0o755)
	copyFile(t, os.Args[0], la.binary, 0o755)
	la.args = append([]string{"--data", la.data, "--listen", la.addr, "--hash-cost", "4", "--max-per-address", "0", "--new-accounts-per-hour", "0",
		"--backoff", "50ms"}, extra...)
	t.Cleanup(la.cleanup)
	return la
}

// startAngel runs `talker angel` in the foreground (as a child of the test)
// and waits until its talker serves.
func startAngel(t *testing.T, extra ...string) *liveAngel {
	t.Helper()
	la := newAngelDir(t, extra...)
	la.cmd = la.command("angel")
	if err := la.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	la.waitServing(20 * time.Second)
	return la
}

func (la *liveAngel) command(sub string, extra ...string) *exec.Cmd {
	cmd := exec.Command(la.binary, append(append([]string{sub}, la.args...), extra...)...)
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = la.out, la.out
	return cmd
}

// cli runs a launcher command with this angel's data directory.
func (la *liveAngel) cli(args ...string) (string, int) {
	cmd := exec.Command(la.good, append(args[:1:1], append([]string{"--data", la.data}, args[1:]...)...)...)
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		la.t.Fatal(err)
	}
	return string(out), code
}

// talkerPID is the pid the running talker reports (0 if none answers).
func (la *liveAngel) talkerPID() int {
	out, code := la.cli("status")
	if code != 0 {
		return 0
	}
	i := strings.Index(out, "talker: running, pid ")
	if i < 0 {
		return 0
	}
	var pid int
	fmt.Sscanf(out[i+len("talker: running, pid "):], "%d", &pid)
	return pid
}

func (la *liveAngel) waitServing(within time.Duration) int {
	la.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if pid := la.talkerPID(); pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, _ := la.cli("status")
	la.t.Fatalf("no talker serving after %v:\n%s\n%s", within, out, la.out.String())
	return 0
}

// waitNewTalker waits until a talker other than old serves, and returns
// its pid and how long that took.
func (la *liveAngel) waitNewTalker(old int, within time.Duration) (int, time.Duration) {
	la.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if pid := la.talkerPID(); pid > 0 && pid != old {
			return pid, time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, _ := la.cli("status")
	la.t.Fatalf("no new talker within %v:\n%s\n%s", within, out, la.out.String())
	return 0, 0
}

func (la *liveAngel) status() string {
	out, _ := la.cli("status")
	return out
}

func (la *liveAngel) waitStatus(want string, within time.Duration) string {
	la.t.Helper()
	deadline := time.Now().Add(within)
	var out string
	for time.Now().Before(deadline) {
		if out = la.status(); strings.Contains(out, want) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	la.t.Fatalf("status never said %q:\n%s\n%s", want, out, la.out.String())
	return ""
}

// cleanup kills, by pid, every process that is our child (the angels and
// the talkers we started, and talkers orphaned to us), and reaps them.
func (la *liveAngel) cleanup() {
	killChildren(la.t)
	if la.t.Failed() {
		la.t.Logf("output:\n%s", la.out.String())
	}
}

// childrenOf lists the pids whose parent is ppid.
func childrenOf(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool { return processAlive(pid) }

// createAccounts makes accounts of one rank from the shell, each with the
// password "<lower-case name>-password", at hash cost 4.
func (la *liveAngel) createAccounts(t *testing.T, rank string, names ...string) {
	t.Helper()
	for _, name := range names {
		cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", name, "--rank", rank, "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		cmd.Stdin = strings.NewReader(strings.ToLower(name) + "-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
}

func (la *liveAngel) dialClient() *talkertest.Client {
	return talkertest.Dial(la.t, la.addr, talkertest.Options{Width: 200, Height: 50})
}

func isLocked(data string) bool { return angel.Locked(data + "/angel.lock") }

// swapTo replaces the binary the angel starts with a script.
func (la *liveAngel) swapTo(script string) {
	la.t.Helper()
	if err := os.WriteFile(la.binary+".new", []byte(script), 0o755); err != nil {
		la.t.Fatal(err)
	}
	if err := os.Rename(la.binary+".new", la.binary); err != nil {
		la.t.Fatal(err)
	}
}

// signalPID is syscall.Kill for one process the test found: it refuses a
// pid of 0 or less (a lookup that failed, as talkerPID's while the status
// has no pid), which would signal the test's whole process group, or every
// process, instead.
func signalPID(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("refusing to send %v to pid %d: no such single process", sig, pid)
	}
	return syscall.Kill(pid, sig)
}
