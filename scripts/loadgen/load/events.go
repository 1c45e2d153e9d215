package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// eventRun is what happened when an event ran.
type eventRun struct {
	spec       EventSpec
	start, end int64 // ns since the start of the run
	command    string
	exitStatus int // -1: not run, or killed by a signal
	output     string
	err        string
	expect     string // "success" or "failure" of the command
	ok         bool
	pidBefore  int
	pidAfter   int
	note       string
}

const maxOutput = 16 << 10

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// expand fills the placeholders of a command template.
func (r *runner) expand(tmpl, talker string) string {
	return strings.NewReplacer(
		"{talker}", shellQuote(talker),
		"{data}", shellQuote(r.cfg.DataDir),
		"{addr}", shellQuote(r.tp.addr),
		"{pid}", strconv.Itoa(r.tp.pid()),
	).Replace(tmpl)
}

// runCommand runs a shell command with the event timeout and returns its
// exit status and (the start of) its output. Output goes through a file,
// not a pipe, so that a daemon the command leaves behind holding its stdout
// cannot keep us waiting.
func (r *runner) runCommand(ctx context.Context, line string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.EventTimeout)
	defer cancel()
	f, err := os.CreateTemp("", "loadgen-event-*.out")
	if err != nil {
		return -1, "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.Stdout, cmd.Stderr = f, f
	// On timeout, end everything the command started (its process group).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	err = cmd.Run()
	status := -1
	if cmd.ProcessState != nil {
		status = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %v", r.cfg.EventTimeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && status >= 0 {
		err = nil // a non-zero status is reported as the status
	}
	_, _ = f.Seek(0, io.SeekStart)
	out, _ := io.ReadAll(io.LimitReader(f, maxOutput))
	return status, string(out), err
}

// runEvent runs one event and records it.
func (r *runner) runEvent(ctx context.Context, spec EventSpec) eventRun {
	ev := eventRun{spec: spec, exitStatus: -1, start: r.now(), pidBefore: r.tp.pid()}
	r.logf("event %s: start", spec.Kind)
	switch spec.Kind {
	case EventReboot:
		ev.expect = "success"
		ev.command = r.expand(r.cfg.RebootCmd, r.cfg.Talker)
		var err error
		ev.exitStatus, ev.output, err = r.runCommand(ctx, ev.command)
		if err != nil {
			ev.err = err.Error()
		}
		ev.ok = err == nil && ev.exitStatus == 0
	case EventAngelUpgrade:
		ev.expect = "success"
		ev.command = r.expand("{talker} angel upgrade --data {data}", r.cfg.Talker)
		var err error
		ev.exitStatus, ev.output, err = r.runCommand(ctx, ev.command)
		if err != nil {
			ev.err = err.Error()
		}
		ev.ok = err == nil && ev.exitStatus == 0
	case EventKill9:
		r.crash(ctx, &ev, "kill -9", func(p int) error { return unix.Kill(p, unix.SIGKILL) })
	case EventSegv:
		r.crash(ctx, &ev, "kill -SEGV", func(p int) error { return unix.Kill(p, unix.SIGSEGV) })
	case EventFatal:
		r.crash(ctx, &ev, "crash fatal (typed by "+r.adminName()+")", func(int) error {
			// 'look' first: a recovered talker does not run again the
			// first line that is the one a generation died running.
			return r.admin(ctx).command("look\r\ncrash fatal")
		})
	case EventBroken:
		r.broken(ctx, &ev)
	default:
		ev.expect = "success"
		hctx, cancel := context.WithTimeout(ctx, r.cfg.EventTimeout)
		out, err := r.cfg.Hooks[spec.Kind](hctx)
		cancel()
		ev.output = out
		if err != nil {
			ev.err = err.Error()
		}
		ev.ok = err == nil
	}
	ev.end = r.now()
	ev.pidAfter = r.tp.pid()
	r.logf("event %s: done in %.2fs, ok=%v status=%d %s%s", spec.Kind, float64(ev.end-ev.start)/1e9, ev.ok, ev.exitStatus, ev.err, ev.note)
	return ev
}

// crash kills the talker (kill makes it die: SIGKILL, SIGSEGV, or an
// admin's 'crash fatal'), then waits for it to come back: a new live pid
// in the pid file and the port accepting. Whoever restarts it is the
// angel (`talker run` runs one: the managed child is then the angel and
// survives the crash); if nobody does and we started the talker ourselves
// (KillRestart, the managed child was the talker itself), we start it
// again.
func (r *runner) crash(ctx context.Context, ev *eventRun, how string, kill func(pid int) error) {
	ev.expect = "success"
	p := ev.pidBefore
	if p <= 0 {
		ev.err = "no talker pid known (no pid file, not managed)"
		return
	}
	ev.command = how + " " + strconv.Itoa(p)
	if err := kill(p); err != nil {
		ev.err = err.Error()
		return
	}
	if !r.tp.waitGone(p, 10*time.Second) {
		ev.err = fmt.Sprintf("pid %d still there 10 s after %s", p, how)
		return
	}
	if r.cfg.managed() && r.cfg.KillRestart && !r.tp.childAlive() {
		ev.note = " (restarted by the load generator)"
		if err := r.tp.start(ctx); err != nil {
			ev.err = "restart: " + err.Error()
			return
		}
	} else if err := r.tp.waitBack(ctx, p, r.cfg.EventTimeout); err != nil {
		ev.err = "the talker did not come back: " + err.Error()
		return
	}
	ev.ok = true
}

// Broken binaries the broken event swaps in.
var brokenBinaries = map[string]string{
	"exit1":   "#!/bin/sh\necho 'loadgen: broken talker binary' >&2\nexit 1\n",
	"hang":    "#!/bin/sh\nexec sleep 3600\n",
	"garbage": "\x7fELF this is not a program\n",
}

// broken replaces the talker binary with a broken one, asks for a reboot
// (with a good copy of the binary running the reboot command), expects the
// reboot to fail and the talker to carry on, and puts the good binary back.
func (r *runner) broken(ctx context.Context, ev *eventRun) {
	ev.expect = "failure"
	path := r.cfg.BrokenPath
	content, ok := brokenBinaries[r.cfg.BrokenKind]
	if !ok {
		ev.err = "unknown broken kind " + r.cfg.BrokenKind
		return
	}
	good := path + ".loadgen-good"
	if err := copyFile(path, good); err != nil {
		ev.err = err.Error()
		return
	}
	defer os.Remove(good)
	tmp := path + ".loadgen-broken"
	if err := os.WriteFile(tmp, []byte(content), 0o755); err != nil {
		ev.err = err.Error()
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		ev.err = err.Error()
		return
	}
	restore := func() error {
		// A fresh copy of the good binary takes the path back atomically.
		back := path + ".loadgen-restore"
		if err := copyFile(good, back); err != nil {
			return err
		}
		return os.Rename(back, path)
	}
	ev.command = r.expand(r.cfg.RebootCmd, good)
	status, out, err := r.runCommand(ctx, ev.command)
	ev.exitStatus, ev.output = status, out
	if rerr := restore(); rerr != nil {
		ev.err = "RESTORING THE GOOD BINARY FAILED: " + rerr.Error() + "; it is at " + good
		return
	}
	if err != nil {
		ev.err = err.Error()
	}
	after := r.tp.pid()
	switch {
	case ev.pidBefore <= 0:
		ev.note = " (no talker was running to check)"
	case status == 0:
		ev.note = " (the reboot reported success with a broken binary)"
	case ev.pidBefore > 0 && after != ev.pidBefore:
		ev.note = fmt.Sprintf(" (the talker's pid changed from %d to %d)", ev.pidBefore, after)
	case ev.pidBefore > 0 && !alive(ev.pidBefore):
		ev.note = " (the talker died)"
	default:
		ev.ok = true
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
