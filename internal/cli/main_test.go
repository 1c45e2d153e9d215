package cli

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

// The test binary doubles as the talker: with TALKER_TEST_MAIN set it runs
// the real command line instead of the tests, so the tests below start real
// child processes without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("TALKER_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], Options{}))
	}
	os.Setenv("GORACE", childRaceOptions(raceOptionsForChildren(os.Getenv("GORACE"))))
	os.Exit(finishChildRaces(m.Run())) // childrace_test.go
}

// raceOptionsForChildren is the GORACE value the talker processes these
// tests start inherit. Under -race every process that exits with more than
// one goroutine alive first sleeps atexit_sleep_ms, 1000 ms by default, so
// that other goroutines can finish a race report. Every `talker reboot`
// the tests run, and every old generation a reboot retires (reboot waits
// for its exit), cost that second: it was about half of this package's
// time under -race (488 s before, 304 s after, measured). Races are still
// found and reported as they happen (to a file the test checks, see
// childrace_test.go), and a child
// that raced exits with status 66 where it would have exited 0; only the
// wait for a report a goroutine is still writing at the moment of exit is
// given up. A developer's own atexit_sleep_ms in GORACE is kept.
func raceOptionsForChildren(gorace string) string {
	if strings.Contains(gorace, "atexit_sleep_ms") {
		return gorace
	}
	return strings.TrimSpace(gorace + " atexit_sleep_ms=0")
}

func talkerCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	checkChildRaces(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
	return cmd
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s after %v", addr, within)
}

// killChildren kills, by pid, every process that is still our child (run's
// angel, and its talker if orphaned to us), and reaps it.
func killChildren(t *testing.T) {
	// Killing an angel makes its talkers our children (we are a subreaper):
	// go round until nobody is left.
	for round := 0; round < 20; round++ {
		kids := childrenOf(os.Getpid())
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			_ = signalPID(pid, syscall.SIGKILL)
		}
		for _, pid := range kids {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil)
		}
	}
	t.Errorf("processes still running after cleanup: %v", childrenOf(os.Getpid()))
}

// TestAccountCreateRunAndStop: an admin account from a script, `talker run`
// (angel and talker in the foreground), a login, and SIGTERM stopping both.
func TestAccountCreateRunAndStop(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	create := talkerCmd(t, "account", "create", "--data", data, "--name", "Boss", "--rank", "admin", "--hash-cost", "4")
	create.Stdin = strings.NewReader("boss-password\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("account create: %v\n%s", err, out)
	}
	dup := talkerCmd(t, "account", "create", "--data", data, "--name", "boss", "--hash-cost", "4")
	dup.Stdin = strings.NewReader("other-password\n")
	if out, err := dup.CombinedOutput(); err == nil || !strings.Contains(string(out), "already exists") {
		t.Errorf("duplicate account create: err %v, output %s", err, out)
	}
	nopw := talkerCmd(t, "account", "create", "--data", data, "--name", "Quiet")
	nopw.Stdin = strings.NewReader("")
	if out, err := nopw.CombinedOutput(); err == nil || !strings.Contains(string(out), "no password") {
		t.Errorf("account create without a password: err %v, output %s", err, out)
	}

	becomeSubreaper(t)
	t.Cleanup(func() { killChildren(t) })
	addr := freePort(t)
	run := talkerCmd(t, "run", "--data", data, "--listen", addr, "--hash-cost", "4")
	stderr, _ := run.StderrPipe()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()

	console := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			console <- sc.Text()
		}
		close(console)
	}()
	waitListening(t, addr, 15*time.Second)

	c := talkertest.Dial(t, addr, talkertest.Options{Width: 120, Height: 40})
	c.Login("Boss", "boss-password")
	c.Send("say hello from the admin")
	c.Expect("You say 'hello from the admin'")

	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.Expect("shutting down")
	c.WaitClosed()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("talker run exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("talker run did not exit after SIGTERM")
	}
	// The terminal log is human-readable, not JSON.
	var lines []string
	for l := range console {
		lines = append(lines, l)
	}
	if len(lines) == 0 || strings.HasPrefix(lines[0], "{") {
		t.Errorf("console log is not human-readable: %q", lines)
	}
	// The file log is JSON, and every file is private.
	logPath := filepath.Join(data, "log", "talker.log")
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(first), &rec); err != nil || rec["level"] == nil {
		t.Errorf("log file line is not structured JSON: %q (%v)", first, err)
	}
	for path, want := range map[string]os.FileMode{data: 0o700, logPath: 0o600, filepath.Join(data, "talker.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestUnknownCommandAndUsage(t *testing.T) {
	out, err := talkerCmd(t, "frobnicate").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown command") {
		t.Errorf("unknown command: %v %s", err, out)
	}
	out, _ = talkerCmd(t, "help").CombinedOutput()
	for _, want := range []string{"run", "start", "stop", "reboot", "reset", "restart", "status", "log", "angel", "account"} {
		if !strings.Contains(string(out), "  "+want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}
