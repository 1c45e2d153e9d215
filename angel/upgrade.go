package angel

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel/link"
	"talker/state"
)

// Upgrading the angel itself. The angel is the one process that holds
// every player's socket across a talker's crash, so it must never be
// restarted the ordinary way: it re-executes in place (the same pid, so
// its children stay its children and cron, systemd or a shell see no
// change), keeping every descriptor it holds: the held player sockets and
// listeners with their checkpoints, its own listening socket and lock, the
// last good binary. The new image reads what the old one knew from a
// sealed memfd and carries on; the talker's link and hold channel, which
// are closed by the exec, reconnect by themselves (they do after any angel
// restart) and the hold channel's first frame is a full sync.
//
// An upgrade is refused unless the angel is calm (a talker serving, no
// reboot, recovery or stop in progress), and unless the new binary says,
// before anything is touched, that it reads this format of resume state
// (`talker angel --resume-format`). A binary that then fails to exec
// leaves the old image running; one that crashes after the exec leaves
// the talker serving without a watchdog until cron starts an angel, which
// adopts it (the same as an angel killed by hand).

// EnvResume names the descriptor of the resume state in a re-executed
// angel's environment; the new image removes it at once, so that no
// talker it starts inherits it.
const EnvResume = "TALKER_ANGEL_RESUME"

// ResumeFormat is the version of the resume state this build writes and
// reads. A build reads only its own: the state is the angel's private
// memory, never stored.
const ResumeFormat = 1

// resumeState is what the angel knows, as the next image needs it.
type resumeState struct {
	Format     int
	Version    string    // of the image that wrote it
	Since      time.Time // when the first image of this angel started
	Upgrades   int
	UpgradedAt time.Time
	ListenFD   int
	LockFD     int
	Served     bool
	State      link.State
	Detail     string
	Cur        *resumeGeneration
	Held       []resumeConn
	Listeners  []resumeListener
	System     json.RawMessage `json:",omitempty"`
	HeldAt     time.Time
	Good       resumeGood
	BadCrashes int
	Crashes    []time.Time
	Backoff    time.Duration
	Restarts   int
	LastExit   string
	CrashLogAt int64
	StderrAt   int64
}

type resumeGeneration struct {
	PID       int
	Start     uint64
	Number    int
	Version   string
	StartedAt time.Time
	HelloAt   time.Time
	Kept      bool
	LastGood  bool
	Adopted   bool
}

type resumeConn struct {
	ID      uint64
	FD      int
	Record  []byte `json:",omitempty"`
	Version int    `json:",omitempty"`
}

type resumeListener struct {
	Name string
	FD   int
}

type resumeGood struct {
	FD      int
	Version string
	PID     int
}

// fds lists every descriptor the state names.
func (r *resumeState) fds() []int {
	fds := []int{r.ListenFD, r.LockFD}
	if r.Good.FD >= 0 {
		fds = append(fds, r.Good.FD)
	}
	for _, c := range r.Held {
		fds = append(fds, c.FD)
	}
	for _, l := range r.Listeners {
		fds = append(fds, l.FD)
	}
	return fds
}

// Resume is the state a re-executed angel starts from.
type Resume struct {
	fd    int
	state resumeState
}

// LoadResume reads the resume state named by EnvResume, if any (nil, nil
// without one), and removes the variable from the environment.
func LoadResume() (*Resume, error) {
	v, ok := os.LookupEnv(EnvResume)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(EnvResume)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not a descriptor", EnvResume, v)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	b := make([]byte, st.Size)
	if _, err := unix.Pread(fd, b, 0); err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	r := &Resume{fd: fd}
	if err := json.Unmarshal(b, &r.state); err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	if r.state.Format != ResumeFormat {
		return nil, fmt.Errorf("resume state format %d; this build reads %d", r.state.Format, ResumeFormat)
	}
	return r, nil
}

// KeepFDs is every descriptor the new image must keep open (for
// ipc.CloseInherited, which would otherwise close them as strays).
func (r *Resume) KeepFDs() []int { return append(r.state.fds(), r.fd) }

// LockFD is the angel's lock, still held (a lock belongs to the open
// file, which the exec kept).
func (r *Resume) LockFD() int { return r.state.LockFD }

// Upgraded says from which version this image took over, and how many
// upgrades this angel has had.
func (r *Resume) Upgraded() (from string, count int) { return r.state.Version, r.state.Upgrades }

// calm says why the angel cannot upgrade now ("" if it can).
func (a *Angel) calm() string {
	switch {
	case a.stopping != nil:
		return "it is stopping"
	case a.offer != nil:
		return "a crash recovery is in progress"
	case a.cur == nil || !a.cur.hello || a.state != link.StateRunning:
		return "the talker is not serving (" + string(a.state) + ")"
	case len(a.retiring) > 0:
		return "a reboot is in progress"
	case !a.quitAt.IsZero():
		return "the talker is being killed as hung"
	case len(a.exited) > 0:
		return "a process exit is being handled"
	case a.listenFD() < 0:
		return "its listening socket cannot be kept"
	}
	return ""
}

// listenFD is the angel's listening socket's descriptor (-1 if unknown).
func (a *Angel) listenFD() int {
	ul, ok := a.ln.(*net.UnixListener)
	if !ok {
		return -1
	}
	raw, err := ul.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// preflightUpgrade asks the binary on disk whether it reads this build's
// resume state.
func (a *Angel) preflightUpgrade() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.cfg.Executable, "angel", "--resume-format")
	cmd.Env = a.cfg.Env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("the binary at %s cannot take over the angel (it predates `talker angel upgrade`, or does not run: %v)", a.cfg.Executable, err)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(string(out))); n != ResumeFormat {
		return fmt.Errorf("the binary at %s reads angel state format %q, this angel writes %d", a.cfg.Executable, strings.TrimSpace(string(out)), ResumeFormat)
	}
	return nil
}

// upgrade answers `talker angel upgrade`: checks, replies, and
// re-executes. It returns only if the exec failed (or was refused).
func (a *Angel) upgrade(ev cmdEvent, now time.Time) {
	if why := a.calm(); why != "" {
		ev.reply <- link.Reply{Error: "the angel cannot upgrade now: " + why + "; try again in a moment"}
		return
	}
	if a.cfg.LockFD <= 0 {
		ev.reply <- link.Reply{Error: "the angel cannot upgrade: it was not started with its lock's descriptor"}
		return
	}
	if err := a.preflightUpgrade(); err != nil {
		a.log.Warn().Err(err).Msg("angel upgrade refused")
		ev.reply <- link.Reply{Error: err.Error()}
		return
	}
	st := a.resumeState(now)
	mfd, err := writeResume(st)
	if err != nil {
		ev.reply <- link.Reply{Error: "cannot save the angel's state: " + err.Error()}
		return
	}
	fds := append(st.fds(), mfd)
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			restoreCloexec(fds)
			unix.Close(mfd)
			ev.reply <- link.Reply{Error: fmt.Sprintf("cannot keep descriptor %d across the exec: %v", fd, err)}
			return
		}
	}
	status := a.status(now)
	ev.reply <- link.Reply{OK: true, Status: &status}
	// Let the launcher read its answer before the exec closes its
	// connection (bounded: a launcher that went away must not hold it).
	waited := make(chan struct{})
	go func() { a.replying.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
	}
	a.log.Info().Str("executable", a.cfg.Executable).Int("held", len(st.Held)).Int("talker_pid", st.Cur.PID).
		Msg("angel upgrading: re-executing in place, keeping every descriptor")
	env := append(append([]string(nil), os.Environ()...), EnvResume+"="+strconv.Itoa(mfd))
	err = syscall.Exec(a.cfg.Executable, os.Args, env)
	// Still here: the exec failed, and nothing has changed.
	restoreCloexec(fds)
	unix.Close(mfd)
	a.log.Error().Err(err).Str("executable", a.cfg.Executable).Msg("angel upgrade failed: the exec was refused; carrying on unchanged")
}

func restoreCloexec(fds []int) {
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
}

// writeResume writes the state to a sealed memfd and returns it.
func writeResume(st *resumeState) (int, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return -1, err
	}
	fd, err := unix.MemfdCreate("talker-angel-resume", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, err
	}
	for off := 0; off < len(b); {
		n, err := unix.Pwrite(fd, b[off:], int64(off))
		if err != nil {
			unix.Close(fd)
			return -1, err
		}
		off += n
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS,
		unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// resumeState gathers what the next image needs.
func (a *Angel) resumeState(now time.Time) *resumeState {
	g := a.cur
	st := &resumeState{Format: ResumeFormat, Version: a.cfg.Version, Since: a.since, Upgrades: a.upgrades + 1,
		UpgradedAt: now, ListenFD: a.listenFD(), LockFD: a.cfg.LockFD, Served: a.served, State: a.state, Detail: a.detail,
		Cur: &resumeGeneration{PID: g.pid, Start: g.start, Number: g.number, Version: g.version, StartedAt: g.startedAt,
			HelloAt: g.helloAt, Kept: g.kept, LastGood: g.lastGood, Adopted: g.adopted},
		System: a.held.system, HeldAt: a.held.updated,
		Good:       resumeGood{FD: a.good.fd, Version: a.good.version, PID: a.good.pid},
		BadCrashes: a.badCrashes, Crashes: a.crashes.times, Backoff: a.crashes.backoff, Restarts: a.restarts,
		LastExit: a.lastExit, CrashLogAt: a.crashLogAt, StderrAt: a.stderrAt}
	for id, c := range a.held.conns {
		st.Held = append(st.Held, resumeConn{ID: id, FD: c.fd, Record: c.record, Version: c.version})
	}
	for _, l := range a.held.listeners {
		st.Listeners = append(st.Listeners, resumeListener{Name: l.name, FD: l.fd})
	}
	return st
}

// resume takes over from the image that wrote r: the angel's own
// listening socket, the generation it follows, what it holds.
func (a *Angel) resume(r *Resume, now time.Time) (net.Listener, error) {
	s := &r.state
	unix.Close(r.fd)
	f := os.NewFile(uintptr(s.ListenFD), "angel.sock")
	ln, err := net.FileListener(f)
	f.Close() // FileListener has its own duplicate
	if err != nil {
		return nil, fmt.Errorf("the angel's listening socket: %w", err)
	}
	a.since, a.upgrades, a.upgradedAt, a.upgradedFrom = s.Since, s.Upgrades, s.UpgradedAt, s.Version
	a.served, a.state, a.detail = s.Served, s.State, s.Detail
	if c := s.Cur; c != nil {
		// The link was closed by the exec: the talker reconnects within
		// half a second and says hello again. Until then it is judged by
		// the time of the upgrade, not by a heartbeat the exec swallowed.
		a.cur = &generation{pid: c.PID, start: c.Start, number: c.Number, version: c.Version, startedAt: c.StartedAt,
			hello: true, helloAt: c.HelloAt, kept: c.Kept, lastGood: c.LastGood, adopted: c.Adopted, lastBeat: now}
	}
	a.held = holdings{conns: map[uint64]*heldConn{}, system: s.System, updated: s.HeldAt}
	for _, c := range s.Held {
		version := c.Version
		if version == 0 {
			version = state.VersionCBOR
		}
		a.held.conns[c.ID] = &heldConn{fd: c.FD, record: c.Record, version: version}
		unix.CloseOnExec(c.FD)
	}
	for _, l := range s.Listeners {
		a.held.listeners = append(a.held.listeners, heldListener{name: l.Name, fd: l.FD})
		unix.CloseOnExec(l.FD)
	}
	a.good = lastGood{fd: s.Good.FD, version: s.Good.Version, pid: s.Good.PID}
	if a.good.fd >= 0 {
		unix.CloseOnExec(a.good.fd)
	}
	unix.CloseOnExec(s.LockFD)
	a.badCrashes, a.crashes.times, a.crashes.backoff = s.BadCrashes, s.Crashes, s.Backoff
	a.restarts, a.lastExit, a.crashLogAt, a.stderrAt = s.Restarts, s.LastExit, s.CrashLogAt, s.StderrAt
	return ln, nil
}
