package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// talkerProc is the talker under load: its address and how to find its
// current pid (which changes at every seamless reboot). In managed mode it
// also starts and stops the talker.
type talkerProc struct {
	cfg  *Config
	addr string

	mu       sync.Mutex
	child    *exec.Cmd
	childPID int
	exited   chan struct{} // closed when the child has been reaped
	started  time.Time     // when the managed talker was started
	exits    []string      // how managed children ended
}

// pidFile is where a talker with reboot support writes its current pid.
func (t *talkerProc) pidFile() string {
	if t.cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(t.cfg.DataDir, "talker.pid")
}

// pid is the talker's current pid, or 0 if unknown: Config.PID, else the
// pid file (if it names a live process and, in managed mode, was written
// since the talker was started), else the managed child.
func (t *talkerProc) pid() int {
	if t.cfg.PID != nil {
		return t.cfg.PID()
	}
	if f := t.pidFile(); f != "" {
		if st, err := os.Stat(f); err == nil {
			t.mu.Lock()
			started := t.started
			t.mu.Unlock()
			if started.IsZero() || !st.ModTime().Before(started.Add(-time.Second)) {
				// A talker that writes a pid file: it is the talker (the
				// managed child may be its angel), and a dead pid there
				// means the talker is down.
				if b, err := os.ReadFile(f); err == nil {
					if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && alive(p) {
						return p
					}
				}
				return 0
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child != nil && alive(t.childPID) {
		select {
		case <-t.exited:
		default:
			return t.childPID
		}
	}
	return 0
}

// alive reports whether process p exists and is not a zombie.
func alive(p int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// freePort finds a free loopback TCP port.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// start runs `talker run` in managed mode and waits until it accepts
// connections.
func (t *talkerProc) start(ctx context.Context) error {
	if t.addr == "" {
		addr, err := freePort()
		if err != nil {
			return err
		}
		t.addr = addr
	}
	if p := t.pid(); p > 0 {
		return fmt.Errorf("a talker (pid %d) is already running with data directory %s", p, t.cfg.DataDir)
	}
	if err := os.MkdirAll(t.cfg.DataDir, 0o755); err != nil {
		return err
	}
	// Every client comes from 127.0.0.1: lift the limit on new accounts
	// an address may make. It goes in the configuration file rather than
	// a flag so that builds from before the setting (a cross-build
	// reboot's) still start; an admin's own file is left alone.
	if f, err := os.OpenFile(filepath.Join(t.cfg.DataDir, "talker.toml"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_, werr := f.WriteString("# written by the load generator: every client is 127.0.0.1\n[logins]\nnew_accounts_per_hour = 0\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	if t.cfg.needsAdmin() && t.started.IsZero() {
		name := t.cfg.Admin
		if name == "" {
			name = defaultAdmin
		}
		if err := t.makeAdmin(name); err != nil {
			return err
		}
	}
	args := []string{"run", "--data", t.cfg.DataDir, "--listen", t.addr,
		"--hash-cost", strconv.Itoa(t.cfg.HashCost), "--max-per-address", "0"}
	if t.cfg.LineRate != 0 {
		args = append(args, "--line-rate", strconv.FormatFloat(t.cfg.LineRate, 'g', -1, 64))
	}
	if t.cfg.TLSAddr != "" {
		args = append(args, "--listen-tls", t.cfg.TLSAddr) // the -tls clients' door
	}
	if t.cfg.WebAddr != "" {
		args = append(args, "--listen-web", t.cfg.WebAddr) // the -ws clients' door
	}
	if t.cfg.WSSAddr != "" {
		args = append(args, "--listen-tls", t.cfg.WSSAddr) // the -wss clients' door
	}
	args = append(args, t.cfg.TalkerArgs...)
	cmd := exec.Command(t.cfg.Talker, args...)
	cmd.Stdin = nil // /dev/null: no terminal, so no question about an admin
	out := t.cfg.TalkerLog
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that Ctrl-C on the load generator does not
	// reach it before the report is written; we stop it ourselves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.mu.Lock()
	t.started = time.Now()
	t.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	t.mu.Lock()
	t.child, t.childPID, t.exited = cmd, cmd.Process.Pid, exited
	t.mu.Unlock()
	go func() {
		err := cmd.Wait()
		t.mu.Lock()
		t.exits = append(t.exits, fmt.Sprintf("talker pid %d exited: %v", cmd.Process.Pid, errOrZero(err)))
		t.mu.Unlock()
		close(exited)
	}()
	return t.waitAccepting(ctx, 30*time.Second, exited)
}

func errOrZero(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// waitAccepting polls the talker's port until it accepts a connection.
func (t *talkerProc) waitAccepting(ctx context.Context, limit time.Duration, exited chan struct{}) error {
	deadline := time.Now().Add(limit)
	for {
		nc, err := net.DialTimeout("tcp", t.addr, time.Second)
		if err == nil {
			nc.Close()
			return nil
		}
		if exited != nil {
			select {
			case <-exited:
				return fmt.Errorf("the talker exited before accepting connections: %s", strings.Join(t.exitLog(), "; "))
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the talker is not accepting on %s after %v: %v", t.addr, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (t *talkerProc) exitLog() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.exits...)
}

// childAlive reports whether the process we started is still running.
func (t *talkerProc) childAlive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child == nil {
		return false
	}
	select {
	case <-t.exited:
		return false
	default:
		return alive(t.childPID)
	}
}

// waitBack waits, after the talker pid old died, for a talker to be back:
// another live pid (when a pid file or the managed child tells it) and the
// port accepting connections.
func (t *talkerProc) waitBack(ctx context.Context, old int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if p := t.pid(); p > 0 && p != old {
			return t.waitAccepting(ctx, time.Until(deadline), nil)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no new talker process within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the managed talker: SIGTERM to its current pid, then waits
// (SIGKILL after a minute: a talker that has just seen thousands of
// clients leave may still be telling everyone about it). A talker that a seamless reboot re-parented to us
// (we are a child subreaper) is reaped too.
func (t *talkerProc) stop() error {
	if !t.cfg.managed() {
		return nil
	}
	// `talker run` is an angel with the talker under it: stopping the
	// angel stops both (stopping the talker alone would have it restarted).
	// Without an angel the process we started may have handed over to a
	// new generation at a reboot and gone: then stop the current pid.
	p := t.pid()
	if t.childAlive() {
		t.mu.Lock()
		p = t.childPID
		t.mu.Unlock()
	}
	if p <= 0 {
		return nil
	}
	talker := t.pid()
	if err := unix.Kill(p, unix.SIGTERM); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	if t.waitGone(p, time.Minute) && (talker == p || talker <= 0 || t.waitGone(talker, 10*time.Second)) {
		// Our child's exec.Cmd finishes once nothing holds its output
		// any more (a reboot's new generation inherits it).
		t.mu.Lock()
		exited := t.exited
		t.mu.Unlock()
		if exited != nil {
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
			}
		}
		return nil
	}
	_ = unix.Kill(p, unix.SIGKILL)
	t.waitGone(p, 5*time.Second)
	return fmt.Errorf("talker pid %d did not stop within a minute of SIGTERM; killed", p)
}

// waitGone waits for process p to end, reaping it if it was re-parented
// to us (our own child is reaped by its exec.Cmd).
func (t *talkerProc) waitGone(p int, limit time.Duration) bool {
	t.mu.Lock()
	ours := t.child != nil && p == t.childPID
	t.mu.Unlock()
	deadline := time.Now().Add(limit)
	if ours {
		t.mu.Lock()
		exited := t.exited
		t.mu.Unlock()
		select {
		case <-exited:
			return true
		case <-time.After(limit):
			return false
		}
	}
	for {
		if !ours {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(p, &ws, unix.WNOHANG, nil)
		}
		if !alive(p) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// becomeSubreaper makes orphaned descendants (a talker started by a
// seamless reboot after its parent, our child, exited) our children, so
// that we can wait for them at the end.
func becomeSubreaper() {
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
