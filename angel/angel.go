package angel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"talker/angel/link"
	"talker/ipc"
	"talker/reboot"
)

// Config is what an angel needs.
type Config struct {
	Socket     string   // the angel's Unix socket (talkers and the launcher connect)
	RunDir     string   // private directory for recovery handoffs (state files, sockets)
	CrashLog   string   // where talkers write fatal errors (debug.SetCrashOutput); logged after a crash
	StderrLog  string   // the file the talker's stderr goes to, if one (a Go fatal error's reason line is written only there)
	ReopenLog  func()   // on SIGUSR1 (logrotate), reopen the angel's log file; the talker is signalled too
	StopMarker string   // file recording a deliberate stop (a later angel does not undo it)
	Executable string   // the talker binary
	Args       []string // arguments that make it serve (e.g. "serve --data DIR ...")
	Env        []string // its environment (the angel adds TALKER_ANGEL)
	Stdout     *os.File // where the talker's output goes
	Stderr     *os.File

	Policy          Policy
	BootTimeout     time.Duration // a new talker must say hello within this
	HangTimeout     time.Duration // no heartbeat for this long: the talker is hung
	GoodAfter       time.Duration // a generation that served this long is good: its executable is kept (lastgood.go); 0 = never
	QuitGrace       time.Duration // after SIGQUIT (goroutine dump), wait this long before SIGKILL
	HandoverTimeout time.Duration // after a handed-over exit, the successor must say hello within this
	StopTimeout     time.Duration // a stop waits this long for the talker to exit

	// Reread, if set, gives the watch settings afresh (from the
	// configuration file): the angel asks each time a new generation says
	// hello, so a reboot applies them. On error the settings stay as they
	// are.
	Reread func() (Watch, error)

	// Shutdown asks the running talker to stop cleanly (through its control
	// socket).
	Shutdown func() error
	// TalkerRunning reports the pid of a talker answering on its control
	// socket, or 0: used to adopt a talker that outlived its angel.
	TalkerRunning func() int

	// Version is this build's, for status and the upgrade's log.
	Version string
	// LockFD is the descriptor of the angel's lock (Lock), kept across an
	// upgrade's exec; -1 if unknown (no upgrade then).
	LockFD int
	// Resume, if set, is the state of the angel image this one replaces
	// (`talker angel upgrade`, upgrade.go): Run takes over from it instead
	// of starting or adopting a talker.
	Resume *Resume

	Log zerolog.Logger
}

// Watch is what an angel's settings can change while it runs: how it
// judges a talker, and how it restarts one.
type Watch struct {
	Policy      Policy
	BootTimeout time.Duration
	HangTimeout time.Duration
	GoodAfter   time.Duration
}

// EnvSocket is the variable through which a talker learns where its angel
// listens. It is inherited by every generation a reboot starts.
const EnvSocket = "TALKER_ANGEL"

// Angel is a running watchdog.
type Angel struct {
	cfg    Config
	log    zerolog.Logger
	events chan any
	since  time.Time

	state     link.State
	detail    string
	cur       *generation
	retiring  map[int]*generation
	exited    map[int]exitInfo // reaped children not yet matched to a generation
	crashes   crashes
	restartAt time.Time
	// holdsOpen counts each generation's hold channels still being read:
	// a recovery waits (up to holdDrainWait) until the dead one's are
	// drained, so that its last checkpoints, and the number of the last,
	// are what the offer has (its crash journal relies on that).
	holdsOpen map[int]int
	restarts  int
	lastExit  string
	stopping  *stopRequest
	quitAt    time.Time // when SIGQUIT was sent to a hung talker
	cause     string    // why the angel is killing the current talker, if it is
	replying  sync.WaitGroup
	held      holdings      // sockets and checkpoints for crash recovery (hold.go)
	offer     *reboot.Offer // a recovery handoff in progress
	// good is the last good binary, badCrashes the crashes in a row of
	// generations that never served GoodAfter (lastgood.go).
	good       lastGood
	badCrashes int
	// offerSocketsOnly: that handoff left the checkpoints out;
	// checkpointsRefused: the last one with them was refused, so the next
	// leaves them out.
	offerSocketsOnly, checkpointsRefused bool
	crashedAt                            time.Time // when the talker whose players are held died
	lastDead                             *generation
	crashLogAt                           int64 // how much of the crash log has been logged already
	stderrAt                             int64 // how much of the talker's stderr log has been looked at
	served                               bool  // a generation has said hello to this angel
	done                                 bool
	// ln is the angel's listening socket; upgrades, upgradedAt and
	// upgradedFrom count and date the in-place upgrades (upgrade.go).
	ln           net.Listener
	upgrades     int
	upgradedAt   time.Time
	upgradedFrom string
	// strays are the angel's children that were not generations at the
	// last sweep, nextStraySweep when the next is due (strays.go).
	strays         map[int]bool
	nextStraySweep time.Time
	exitCode       int
}

// generation is one talker process, known by pid and start time.
type generation struct {
	pid       int
	start     uint64
	number    int
	version   string
	startedAt time.Time
	hello     bool
	helloAt   time.Time // when it said hello
	kept      bool      // its executable is the last good binary (lastgood.go)
	lastGood  bool      // it runs the last good binary, the new one having crashed
	lastBeat  time.Time
	bye       *link.Bye
	adopted   bool
	// linkOpen: its link connection has not reached EOF yet, so a bye it
	// sent before exiting may still be unread. goneAt is when the angel
	// first saw the process gone while the link was still open.
	linkOpen bool
	goneAt   time.Time
	// killed: it died of a signal another process than the angel sent
	// (reboot.Header.Killed).
	killed bool
	// successor: a reboot handed it every player (its predecessor's bye
	// named it), so it served them even before its hello.
	successor bool
}

type stopRequest struct {
	replies []chan link.Reply
	since   time.Time
}

// events
type (
	helloEvent struct {
		hello link.Hello
		conn  net.Conn
	}
	beatEvent       struct{ pid int }
	linkClosedEvent struct{ pid int }
	byeEvent        struct {
		pid int
		bye link.Bye
	}
	cmdEvent struct {
		cmd   string
		reply chan link.Reply
	}
	sigEvent struct{ sig os.Signal }
)

// New prepares an angel; Run starts it.
func New(cfg Config) *Angel {
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy()
	}
	for _, d := range []*time.Duration{&cfg.BootTimeout, &cfg.HangTimeout, &cfg.HandoverTimeout, &cfg.StopTimeout} {
		if *d == 0 {
			*d = 30 * time.Second
		}
	}
	if cfg.QuitGrace == 0 {
		cfg.QuitGrace = 3 * time.Second
	}
	return &Angel{cfg: cfg, log: cfg.Log, events: make(chan any, 256), retiring: map[int]*generation{}, good: lastGood{fd: -1},
		exited: map[int]exitInfo{}, state: link.StateStarting}
}

// Run listens on the socket, starts or adopts the talker and watches it
// until the angel is told to stop. It returns the process exit code.
func (a *Angel) Run() int {
	a.since = time.Now()
	if fi, err := os.Stat(a.cfg.CrashLog); err == nil {
		a.crashLogAt = fi.Size() // old crashes were logged by an earlier angel
	}
	if fi, err := os.Stat(a.cfg.StderrLog); err == nil {
		a.stderrAt = fi.Size()
	}
	if err := becomeSubreaper(); err != nil {
		a.log.Error().Err(err).Msg("cannot become a child subreaper: generations started by reboots may not be reaped")
	}
	var ln net.Listener
	var err error
	if r := a.cfg.Resume; r != nil {
		// An upgrade: the socket is the previous image's, still open.
		if ln, err = a.resume(r, time.Now()); err != nil {
			a.log.Error().Err(err).Msg("cannot take over from the previous angel image")
			return 1
		}
		a.log.Info().Str("from", a.upgradedFrom).Str("to", a.cfg.Version).Int("held", len(a.held.conns)).
			Int("talker_pid", a.cur.pid).Int("upgrades", a.upgrades).Msg("angel upgraded in place; carrying on")
	} else {
		_ = os.Remove(a.cfg.Socket)
		if ln, err = net.Listen("unix", a.cfg.Socket); err != nil {
			a.log.Error().Err(err).Msg("cannot listen on the angel socket")
			return 1
		}
		_ = os.Chmod(a.cfg.Socket, 0o600)
	}
	a.ln = ln
	defer func() {
		ln.Close()
		os.Remove(a.cfg.Socket)
	}()
	go a.accept(ln)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			a.events <- sigEvent{s}
		}
	}()

	// A talker that outlived its previous angel keeps serving: adopt it
	// (it reconnects to this socket and says hello) instead of starting a
	// second one.
	if a.cfg.Resume != nil {
		// Nothing to start: the talker serves on, and reconnects.
	} else if pid := a.cfg.TalkerRunning(); pid > 0 {
		a.log.Info().Int("talker_pid", pid).Msg("a talker is already running; waiting for it to say hello")
		a.state, a.detail = link.StateStarting, "adopting pid "+strconv.Itoa(pid)
		a.cur = &generation{pid: pid, startedAt: time.Now(), adopted: true}
		a.cur.start, _ = link.StartTime(pid)
	} else {
		a.startTalker("cold start")
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !a.done {
		select {
		case ev := <-a.events:
			a.handle(ev)
		case <-tick.C:
			a.check(time.Now())
			a.keepIfGood(time.Now())
			a.sweepStrays(time.Now())
		}
	}
	// Let the launcher that asked for the stop read its answer.
	waited := make(chan struct{})
	go func() { a.replying.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
	}
	return a.exitCode
}

func (a *Angel) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go a.serveConn(c)
	}
}

// serveConn reads one connection: a talker's link or a launcher command.
func (a *Angel) serveConn(c net.Conn) {
	defer c.Close()
	if err := ipc.SameUser(c); err != nil {
		a.log.Warn().Err(err).Msg("angel connection refused")
		return
	}
	r := ipc.NewLineReader(c, 0)
	var first link.Message
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := r.ReadJSON(&first); err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if first.Cmd != "" {
		a.replying.Add(1)
		defer a.replying.Done()
		reply := make(chan link.Reply, 1)
		a.events <- cmdEvent{cmd: first.Cmd, reply: reply}
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_ = ipc.WriteJSON(c, <-reply)
		return
	}
	if first.Hold != nil {
		a.serveHold(c, *first.Hold)
		return
	}
	if first.Hello == nil {
		return
	}
	pid := first.Hello.PID
	// A hello speaks for the process that connected, and only for it:
	// anything else that can reach this socket could otherwise name any
	// pid as the talker (and have it killed as hung).
	if peer, err := peerPID(c); err != nil || peer != pid {
		a.log.Warn().Int("named_pid", pid).Int("peer_pid", peer).Msg("hello naming a process other than the peer's; refused")
		return
	}
	a.events <- helloEvent{hello: *first.Hello, conn: c}
	// The end of the link is an event too: a talker's last words (its bye)
	// are read before its death is judged.
	defer func() { a.events <- linkClosedEvent{pid: pid} }()
	for {
		var m link.Message
		if err := r.ReadJSON(&m); err != nil {
			return
		}
		switch {
		case m.Beat != nil:
			a.events <- beatEvent{pid: pid}
		case m.Bye != nil:
			a.events <- byeEvent{pid: pid, bye: *m.Bye}
		}
	}
}

func (a *Angel) handle(ev any) {
	now := time.Now()
	switch ev := ev.(type) {
	case helloEvent:
		if !a.trusted(ev.hello.PID) {
			a.log.Warn().Int("talker_pid", ev.hello.PID).Int("parent_pid", reboot.ParentPID(ev.hello.PID)).
				Msg("hello from a process that is neither the talker nor started by it or by this angel; refused")
			ev.conn.Close()
			return
		}
		a.hello(ev.hello, now)
	case linkClosedEvent:
		if g := a.find(ev.pid); g != nil {
			g.linkOpen = false
			a.check(now)
		}
	case beatEvent:
		if g := a.find(ev.pid); g != nil {
			g.lastBeat = now
		}
	case byeEvent:
		if g := a.find(ev.pid); g != nil {
			b := ev.bye
			g.bye = &b
			a.log.Info().Int("talker_pid", ev.pid).Str("reason", string(b.Reason)).Int("next", b.Next).Msg("talker says bye")
		}
	case cmdEvent:
		a.command(ev, now)
	case holdAsk:
		ev.reply <- a.trusted(ev.pid)
	case holdEvent:
		a.held.apply(ev.frame, ev.fds, ev.version, ev.syncDone)
		if ev.frame.SyncDone {
			// How soon a generation is covered matters under a series of
			// crashes: until now its input was not in a journal the angel
			// holds (see server/journal.go).
			e := a.log.Info().Int("talker_pid", ev.pid).Int("connections", len(a.held.conns)).
				Bool("journal", a.held.hasJournal).Uint64("checkpoint", a.held.seq)
			if a.cur != nil && a.cur.pid == ev.pid {
				e = e.Dur("since_start", now.Sub(a.cur.startedAt))
			}
			e.Msg("holding every socket of the talker")
		}
	case holdOpen:
		if a.holdsOpen == nil {
			a.holdsOpen = map[int]int{}
		}
		a.holdsOpen[ev.pid] += ev.delta
		if a.holdsOpen[ev.pid] <= 0 {
			delete(a.holdsOpen, ev.pid)
			a.check(now)
		}
	case offerEvent:
		a.offerDone(ev, now)
	case sigEvent:
		switch ev.sig {
		case syscall.SIGCHLD:
			a.check(now)
		case syscall.SIGINT, syscall.SIGTERM:
			a.log.Info().Str("signal", ev.sig.String()).Msg("stopping the talker and the angel")
			a.beginStop(nil, now)
		case syscall.SIGUSR1:
			// logrotate's postrotate signals the angel only: it reopens
			// its own log and passes the signal on to the talker.
			if a.cfg.ReopenLog != nil {
				a.cfg.ReopenLog()
			}
			if a.cur != nil {
				_ = syscall.Kill(a.cur.pid, syscall.SIGUSR1)
			}
			a.log.Info().Msg("SIGUSR1: log files reopened")
		}
	}
}

// trusted says whether pid may speak for the talker: the generation the
// angel follows (started by it, adopted, or named by its predecessor's
// bye), or a child of that generation, of one retiring, or of this angel
// (a reboot's new generation is its old one's child until that exits, and
// then the angel's, as subreaper).
func (a *Angel) trusted(pid int) bool {
	if a.cur != nil && a.cur.pid == pid {
		return true
	}
	pp := reboot.ParentPID(pid)
	if pp <= 0 {
		return false
	}
	if pp == os.Getpid() || a.cur != nil && pp == a.cur.pid {
		return true
	}
	_, retiring := a.retiring[pp]
	return retiring
}

// peerPID is the pid of the process at the other end of c (SO_PEERCRED).
func peerPID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, errors.New("not a Unix socket")
	}
	return ipc.PeerPID(uc)
}

// reread takes the watch settings afresh, if the configuration allows.
func (a *Angel) reread() {
	if a.cfg.Reread == nil {
		return
	}
	w, err := a.cfg.Reread()
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot re-read the angel's settings; keeping them")
		return
	}
	if w.Policy != a.cfg.Policy || w.BootTimeout != a.cfg.BootTimeout || w.HangTimeout != a.cfg.HangTimeout || w.GoodAfter != a.cfg.GoodAfter {
		a.cfg.Policy, a.cfg.BootTimeout, a.cfg.HangTimeout, a.cfg.GoodAfter = w.Policy, w.BootTimeout, w.HangTimeout, w.GoodAfter
		a.log.Info().Dur("hang_timeout", w.HangTimeout).Dur("boot_timeout", w.BootTimeout).
			Int("crash_limit", w.Policy.CrashLimit).Msg("angel settings changed")
	}
}

func (a *Angel) find(pid int) *generation {
	if a.cur != nil && a.cur.pid == pid {
		return a.cur
	}
	return a.retiring[pid]
}

// hello: a talker generation introduces itself. A new pid is the next
// generation of a seamless reboot (or a talker being adopted).
func (a *Angel) hello(h link.Hello, now time.Time) {
	start, alive := link.StartTime(h.PID)
	if !alive || (h.StartTime != 0 && start != h.StartTime) {
		a.log.Warn().Int("talker_pid", h.PID).Msg("hello from a process that is not alive; ignored")
		return
	}
	g := a.cur
	if g == nil || g.pid != h.PID {
		if g != nil {
			a.retiring[g.pid] = g
		}
		adopted := g == nil || g.adopted
		g = &generation{pid: h.PID, start: start, startedAt: now, adopted: adopted}
		a.cur = g
		a.reread()
	}
	if !g.hello {
		g.helloAt = now
	}
	g.hello, g.lastBeat, g.number, g.start, g.version = true, now, h.Generation, start, h.Version
	g.linkOpen = true
	a.served = true
	if a.stopping == nil {
		a.state, a.detail = link.StateRunning, ""
		if g.lastGood {
			a.detail = "on the last good binary, version " + a.good.version + ": the new one crashed soon after starting; fix it and reboot"
		}
	}
	a.quitAt = time.Time{}
	a.log.Info().Int("talker_pid", h.PID).Int("generation", h.Generation).Str("version", h.Version).Msg("talker generation is up")
}

// check reaps children, and looks at the current generation: gone, hung,
// or due for a restart.
func (a *Angel) check(now time.Time) {
	for _, e := range reapAll() {
		a.exited[e.pid] = e
	}
	for pid, g := range a.retiring {
		if a.gone(g) {
			e, ok := a.exited[pid]
			delete(a.exited, pid)
			delete(a.retiring, pid)
			how := "exited"
			if ok {
				how = e.describe()
			}
			a.log.Info().Int("talker_pid", pid).Str("how", how).Msg("previous generation retired")
		}
	}
	// Reaped processes that were never a generation (a new binary that
	// failed during a reboot the talker rolled back) need no more thought.
	for pid := range a.exited {
		if a.cur == nil || pid != a.cur.pid {
			delete(a.exited, pid)
		}
	}
	switch {
	case a.cur != nil && a.gone(a.cur) && a.lastWordsRead(a.cur, now):
		a.currentExited(now)
	case a.cur != nil && !a.cur.goneAt.IsZero():
		// Gone, but its link still has bytes to read: wait for them.
	case a.cur != nil:
		a.watch(now)
	case a.state == link.StateRestarting && !now.Before(a.restartAt) && a.stopping == nil && a.holdDraining(now):
		// The dead generation's last frames are still being read.
	case a.state == link.StateRestarting && !now.Before(a.restartAt) && a.stopping == nil:
		if a.held.empty() {
			a.startTalker("restart after a crash")
		} else {
			a.recover()
		}
	}
	if a.stopping != nil {
		a.continueStop(now)
	}
}

// gone reports whether a generation's process has ended. A child is gone
// only once it can be reaped (so its exit status is known, never guessed as
// "not our child: status unknown"); /proc decides for other processes.
func (a *Angel) gone(g *generation) bool {
	if _, ok := a.exited[g.pid]; ok {
		return true
	}
	start, alive := link.StartTime(g.pid)
	if alive {
		// The same process, or (another start time) the pid reused by
		// another one: then ours is long gone, and its status is not
		// that process's to give.
		return g.start != 0 && start != g.start
	}
	e, reaped, child := reapOne(g.pid)
	if reaped {
		a.exited[g.pid] = e
	}
	// A child still exiting: the SIGCHLD when it is done brings check back.
	return reaped || !child
}

// lastWordsReadWithin bounds the wait for a dead generation's link to reach
// EOF: the kernel closes a process's sockets before it becomes a zombie,
// so the EOF is normally already there; the bound covers a link descriptor
// some other process still holds.
const lastWordsReadWithin = time.Second

// lastWordsRead reports whether everything a dead generation sent on its
// link has been read (so its bye, if it said one, is known).
func (a *Angel) lastWordsRead(g *generation, now time.Time) bool {
	if !g.linkOpen {
		return true
	}
	if g.goneAt.IsZero() {
		g.goneAt = now
	}
	return now.Sub(g.goneAt) >= lastWordsReadWithin
}

// watch checks the current generation's heartbeat and boot.
func (a *Angel) watch(now time.Time) {
	g := a.cur
	if !g.hello {
		if now.Sub(g.startedAt) > a.cfg.BootTimeout && a.quitAt.IsZero() {
			a.log.Error().Int("talker_pid", g.pid).Dur("after", a.cfg.BootTimeout).Msg("talker never said hello; killing it")
			a.kill(g, "never became ready", now)
		}
		return
	}
	if a.stopping != nil {
		return
	}
	if a.quitAt.IsZero() && now.Sub(g.lastBeat) > a.cfg.HangTimeout {
		a.log.Error().Int("talker_pid", g.pid).Dur("silent_for", now.Sub(g.lastBeat)).
			Msg("talker is alive but hung: SIGQUIT for a goroutine dump, then SIGKILL")
		a.kill(g, "hung (no heartbeat)", now)
	}
	if !a.quitAt.IsZero() && now.Sub(a.quitAt) > a.cfg.QuitGrace {
		_ = syscall.Kill(g.pid, syscall.SIGKILL)
	}
}

// kill starts the SIGQUIT-then-SIGKILL sequence.
func (a *Angel) kill(g *generation, cause string, now time.Time) {
	a.cause = cause
	_ = syscall.Kill(g.pid, syscall.SIGQUIT)
	// A stopped process only gets SIGKILL; SIGCONT lets the dump happen.
	_ = syscall.Kill(g.pid, syscall.SIGCONT)
	a.quitAt = now
}

// currentExited decides what the end of the current generation means.
func (a *Angel) currentExited(now time.Time) {
	g := a.cur
	e, reaped := a.exited[g.pid]
	delete(a.exited, g.pid)
	a.cur = nil
	if a.offer != nil {
		// It died before taking over what the angel holds.
		a.offer.Finish(false)
		a.offer = nil
	}
	a.quitAt = time.Time{}
	end := ending{killedBy: a.cause, stopping: a.stopping != nil}
	a.cause = ""
	if reaped {
		end.status = &e.status
	}
	if g.bye != nil {
		end.bye = g.bye.Reason
	}
	how := end.describe()
	kind := end.classify()
	a.log.Debug().Int("talker_pid", g.pid).Stringer("exit", kind).Msg("generation ended")
	switch kind {
	case exitHandedOver:
		// A seamless reboot whose successor has not said hello yet: wait
		// for it a while.
		a.log.Info().Int("talker_pid", g.pid).Str("how", how).Msg("previous generation retired; waiting for its successor to say hello")
		a.state, a.detail = link.StateStarting, "waiting for the next generation"
		next := &generation{startedAt: now, adopted: g.adopted}
		if g.bye != nil && g.bye.Next > 0 {
			next.pid, next.successor = g.bye.Next, true
			next.start, _ = link.StartTime(next.pid)
			a.cur = next
		} else {
			a.restartAt = now.Add(a.cfg.HandoverTimeout)
			a.state = link.StateRestarting
		}
		return
	case exitShutdown:
		a.lastExit = "shut down (" + how + ")"
		a.log.Info().Int("talker_pid", g.pid).Str("how", how).Msg("talker shut down deliberately; not restarting")
		a.state, a.detail = link.StateStopped, "shut down deliberately"
		a.held.releaseAll(false)
		a.markStopped()
		if a.stopping == nil {
			a.stopping = &stopRequest{since: now}
		}
		return
	case exitRestart:
		a.log.Info().Int("talker_pid", g.pid).Msg("talker asked for a restart")
		a.startTalker("restart requested")
		return
	case exitConfig:
		a.lastExit = how
		if !a.served {
			// The very first talker cannot start (a port taken, a
			// configuration file with mistakes): an angel waiting on is
			// an idle process that looks like a running talker. Exit
			// with the talker's code, so that `talker run` and `talker
			// start` fail with the reason and cron tries again later.
			a.log.Error().Int("talker_pid", g.pid).Str("how", how).
				Msg("the talker cannot start: its configuration is broken (the reason is in its log); restarting will not help, so the angel stops")
			a.state, a.detail = link.StateStopped, "configuration error: see the talker log"
			a.exitCode, a.done = reboot.ExitConfig, true
			return
		}
		a.log.Error().Int("talker_pid", g.pid).Msg("talker configuration is broken (exit 78); not restarting until 'talker start'")
		a.state, a.detail = link.StateStopped, "configuration error: see the talker log"
		return
	}
	// Anything else is a crash.
	a.lastExit = how
	sentSignal := a.logCrashOutput(g.pid)
	upFor := now.Sub(g.startedAt)
	if !g.kept {
		a.badCrashes++ // it never served GoodAfter
	}
	// The generation whose players are held: one that said hello, or a
	// reboot's successor killed before it did (a kill right after a
	// reboot). One that never served keeps the last one's time and pid.
	if g.hello || g.successor {
		g.killed = end.killedFromOutside() || (sentSignal && end.killedBy == "")
		a.lastDead, a.crashedAt = g, now
	}
	delay, loop := a.crashes.crashed(a.cfg.Policy, now, upFor)
	if loop {
		a.state = link.StateCrashLoop
		a.detail = strconv.Itoa(a.cfg.Policy.CrashLimit) + " crashes within " + a.cfg.Policy.CrashWindow.String() + "; not restarting until 'talker start'"
		a.log.Error().Int("talker_pid", g.pid).Str("how", how).Str("detail", a.detail).Msg("crash loop: giving up")
		if !a.held.empty() {
			a.log.Error().Int("players", len(a.held.conns)).Msg("telling the players held and closing their connections")
			a.held.tell("*** The talker could not be restarted. Sorry! Please try again later.")
			a.held.releaseAll(true)
		}
		return
	}
	if delay >= time.Second && len(a.held.conns) > 0 {
		a.held.tell("*** The talker is restarting; please hold on (about " + delay.Round(time.Second).String() + ")...")
	}
	a.log.Error().Int("talker_pid", g.pid).Str("how", how).Dur("up_for", upFor).Dur("restart_in", delay).Msg("talker crashed; restarting")
	a.state, a.detail = link.StateRestarting, "after: "+how
	a.restartAt = now.Add(delay)
}

// spawn starts a talker process with extra environment, making it the
// current generation. If it cannot even be started, that counts as a crash
// (so that a missing binary ends in a crash loop, not a spin).
func (a *Angel) spawn(extraEnv []string) (int, bool) {
	env := append(append([]string(nil), a.cfg.Env...), EnvSocket+"="+a.cfg.Socket)
	env = append(env, extraEnv...)
	exe, fallback := a.executable()
	if fallback {
		a.log.Error().Int("crashes", a.badCrashes).Str("version", a.good.version).
			Msg("the talker's new binary crashed soon after starting, twice in a row: starting the last good binary, kept in memory, instead")
		a.held.tell("*** The talker's new version keeps failing; going back to the previous one. Hold on...")
	}
	pid, err := startTalker(exe, a.cfg.Executable, a.cfg.Args, env, a.cfg.Stdout, a.cfg.Stderr)
	now := time.Now()
	if err != nil {
		a.badCrashes++ // a binary that cannot even start (deleted, overwritten by something else)
		a.log.Error().Err(err).Msg("cannot start the talker")
		a.lastExit = "could not start: " + err.Error()
		delay, loop := a.crashes.crashed(a.cfg.Policy, now, 0)
		if loop {
			a.state, a.detail = link.StateCrashLoop, "the talker cannot be started: "+err.Error()
		} else {
			a.state, a.restartAt = link.StateRestarting, now.Add(delay)
		}
		return 0, false
	}
	a.restarts++
	start, _ := link.StartTime(pid)
	a.cur = &generation{pid: pid, start: start, startedAt: now, lastGood: fallback}
	return pid, true
}

// startTalker starts a new generation.
func (a *Angel) startTalker(why string) {
	pid, ok := a.spawn(nil)
	if !ok {
		return
	}
	a.state, a.detail = link.StateStarting, ""
	a.log.Info().Int("talker_pid", pid).Str("why", why).Msg("talker started")
}

// command answers the launcher.
func (a *Angel) command(ev cmdEvent, now time.Time) {
	switch ev.cmd {
	case "status":
		st := a.status(now)
		ev.reply <- link.Reply{OK: true, Status: &st}
	case "stop":
		a.beginStop(ev.reply, now)
	case "upgrade":
		a.upgrade(ev, now)
	case "resume":
		// `talker start` on an angel that gave up or was stopped by a
		// configuration error: forget the crashes and start afresh.
		os.Remove(a.cfg.StopMarker)
		if a.cur == nil && a.stopping == nil && a.state != link.StateStarting && a.state != link.StateRunning {
			a.crashes.reset()
			a.startTalker("start requested")
		}
		st := a.status(now)
		ev.reply <- link.Reply{OK: true, Status: &st}
	default:
		ev.reply <- link.Reply{Error: "unknown command " + strconv.Quote(ev.cmd)}
	}
}

func (a *Angel) status(now time.Time) link.Status {
	st := link.Status{AngelPID: os.Getpid(), AngelSince: a.since, State: a.state, Detail: a.detail,
		Restarts: max(a.restarts-1, 0), LastExit: a.lastExit,
		AngelVersion: a.cfg.Version, AngelUpgrades: a.upgrades, AngelUpgradedAt: a.upgradedAt}
	if g := a.cur; g != nil {
		st.TalkerPID, st.Generation, st.LastBeat, st.Adopted = g.pid, g.number, g.lastBeat, g.adopted
	}
	if a.state == link.StateRestarting {
		st.RestartIn = max(a.restartAt.Sub(now), 0)
	}
	st.Held, st.HeldUpdated = len(a.held.conns), a.held.updated
	return st
}

// beginStop stops the talker (cleanly, through its control socket) and
// then the angel.
func (a *Angel) beginStop(reply chan link.Reply, now time.Time) {
	a.markStopped()
	if a.stopping == nil {
		a.stopping = &stopRequest{since: now}
		a.state, a.detail = link.StateStopping, ""
		if a.cur != nil {
			if err := a.cfg.Shutdown(); err != nil {
				a.log.Warn().Err(err).Msg("cannot ask the talker to stop; sending SIGTERM")
				_ = syscall.Kill(a.cur.pid, syscall.SIGTERM)
			}
		}
	}
	if reply != nil {
		a.stopping.replies = append(a.stopping.replies, reply)
	}
	a.continueStop(now)
}

func (a *Angel) continueStop(now time.Time) {
	s := a.stopping
	if a.cur != nil || len(a.retiring) > 0 {
		if now.Sub(s.since) > a.cfg.StopTimeout {
			for _, g := range append([]*generation{a.cur}, values(a.retiring)...) {
				if g != nil {
					a.log.Warn().Int("talker_pid", g.pid).Msg("talker did not stop in time; SIGKILL")
					_ = syscall.Kill(g.pid, syscall.SIGKILL)
				}
			}
		}
		return
	}
	a.state = link.StateStopped
	a.held.releaseAll(false)
	for _, r := range s.replies {
		r <- link.Reply{OK: true}
	}
	a.log.Info().Msg("angel stopping")
	a.done = true
}

// markStopped records a deliberate stop, so that an angel started later
// (by cron) does not undo it. The marker is written to a new file with an
// unpredictable name and renamed into place: a symbolic link planted at its
// path is replaced, never written through.
func (a *Angel) markStopped() {
	f, err := os.CreateTemp(filepath.Dir(a.cfg.StopMarker), ".stopped-*")
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot record the deliberate stop")
		return
	}
	_, werr := f.WriteString(time.Now().Format(time.RFC3339) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), a.cfg.StopMarker)
	}
	if werr != nil {
		os.Remove(f.Name())
		a.log.Warn().Err(werr).Msg("cannot record the deliberate stop")
	}
}

func values(m map[int]*generation) []*generation {
	out := make([]*generation, 0, len(m))
	for _, g := range m {
		out = append(out, g)
	}
	return out
}

// recover starts a new generation and hands it every socket and checkpoint
// held: the players of a talker that died stay connected and logged in.
func (a *Angel) recover() {
	socketsOnly := a.checkpointsRefused
	if socketsOnly {
		a.log.Warn().Int("connections", len(a.held.conns)).Msg("the last recovery refused the checkpoints: offering the sockets alone (players will see the login prompt)")
	}
	o, err := a.held.offer(a.cfg.RunDir, a.lastDead, a.crashedAt, socketsOnly)
	if err != nil {
		a.log.Error().Err(err).Msg("cannot prepare the recovery; starting cold")
		a.held.releaseAll(true)
		a.startTalker("restart after a crash")
		return
	}
	pid, ok := a.spawn(o.Env())
	if !ok {
		o.Finish(false)
		return
	}
	a.offer, a.offerSocketsOnly = o, socketsOnly
	a.state, a.detail = link.StateStarting, "recovering "+strconv.Itoa(len(a.held.conns))+" connections"
	a.log.Info().Int("talker_pid", pid).Int("connections", len(a.held.conns)).Msg("talker started with the sockets and checkpoints of the one that died")
	go func() {
		rep, err := o.Report(a.cfg.BootTimeout)
		a.events <- offerEvent{pid: pid, report: rep, err: err}
	}()
}

// offerDone commits a recovery the new generation accepted, or gives up on
// it (the generation is killed; the held sockets stay for the next try).
func (a *Angel) offerDone(ev offerEvent, now time.Time) {
	if a.offer == nil || a.cur == nil || a.cur.pid != ev.pid {
		return
	}
	o := a.offer
	a.offer = nil
	if ev.err != nil {
		o.Finish(false)
		a.log.Error().Err(ev.err).Int("talker_pid", ev.pid).Msg("recovery failed")
		// The same checkpoints would be refused again: the next try
		// offers the sockets alone. (One that refuses even those is a
		// binary that cannot start, for the crash-loop limit to judge.)
		a.checkpointsRefused = !a.offerSocketsOnly
		a.kill(a.cur, "recovery failed: "+ev.err.Error(), now)
		return
	}
	o.Finish(true)
	a.checkpointsRefused = false
	a.log.Info().Int("talker_pid", ev.pid).Int("sessions", ev.report.Sessions).Int("dropped", ev.report.Dropped).
		Dur("restore", ev.report.Restored).Dur("since_crash", now.Sub(a.crashedAt)).Msg("recovery handed over")
}

// logCrashOutput copies what talkers wrote to the crash log since the last
// look (a Go fatal error's trace, an unrecovered panic, a SIGQUIT dump) into
// the angel's log, bounded, with the reason line. The runtime writes that
// line ("fatal error: concurrent map writes") to stderr only, before the
// trace it also sends to the crash log (debug.SetCrashOutput): it is
// found in the talker's stderr log, logged, and appended to the crash log
// so that both say why. It reports whether the dump says another process
// sent the signal that ended it (signalSentBy).
func (a *Angel) logCrashOutput(pid int) (sentSignal bool) {
	if a.cfg.CrashLog == "" {
		return false
	}
	// Give the dying process's last write a moment to land.
	time.Sleep(20 * time.Millisecond)
	trace := readNew(a.cfg.CrashLog, &a.crashLogAt)
	var reasons []string
	if a.cfg.StderrLog != "" {
		reasons = crashReasons(a.cfg.StderrLog, &a.stderrAt)
	}
	if len(reasons) == 0 {
		// A signal's dump goes to the crash output alone.
		reasons = reasonLines(bytes.NewReader(trace))
	}
	sender, sentSignal := signalSentBy(trace)
	if sentSignal {
		reasons = append(reasons, "sent by pid "+strconv.Itoa(sender))
	}
	if len(trace) == 0 && len(reasons) == 0 {
		return false
	}
	reason := strings.Join(reasons, "; ")
	a.log.Error().Int("talker_pid", pid).Str("reason", reason).Str("trace", string(trace)).Msg("talker crash output")
	if reason != "" {
		if f, err := os.OpenFile(a.cfg.CrashLog, os.O_WRONLY|os.O_APPEND|unix.O_NOFOLLOW, 0o600); err == nil {
			fmt.Fprintf(f, "\n[angel] talker pid %d ended with: %s\n", pid, reason)
			if fi, err := f.Stat(); err == nil {
				a.crashLogAt = fi.Size()
			}
			f.Close()
		}
	}
	return sentSignal
}

// readNew returns what was appended to path since *at (at most its first
// 64 KiB: a Go crash dump starts with the goroutine that crashed, and with
// 2,000 goroutines it runs to megabytes), and moves *at to the end.
func readNew(path string, at *int64) []byte {
	var buf []byte
	withNew(path, at, func(r *io.SectionReader) {
		buf = make([]byte, min(r.Size(), 64<<10))
		n, _ := r.ReadAt(buf, 0)
		buf = buf[:n]
	})
	return buf
}

// withNew gives fn what was appended to path since *at (up to 256 MiB),
// if anything was, and moves *at to the end. Not through a symbolic link:
// the angel's log would then show a file of someone else's choosing.
func withNew(path string, at *int64, fn func(*io.SectionReader)) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	if fi.Size() < *at {
		*at = 0 // truncated or replaced
	}
	from := *at
	*at = fi.Size()
	if fi.Size() > from {
		fn(io.NewSectionReader(f, from, min(fi.Size()-from, 256<<20)))
	}
}

// crashReasons picks from what a dying Go process wrote to stderr since
// *at the lines that say why it died, the first few of them. They head its
// dump, which the last 64 KiB of a dump of 2,000 goroutines never held:
// the angel logged SIGSEGV and fatal-error crashes with an empty reason.
func crashReasons(path string, at *int64) []string {
	var out []string
	withNew(path, at, func(r *io.SectionReader) { out = reasonLines(r) })
	return out
}

// reasonLines is the first few lines of a Go crash dump that say why.
func reasonLines(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && len(out) < 4 {
		line := strings.TrimSpace(sc.Text())
		for _, p := range []string{"fatal error:", "panic:", "unexpected signal", "SIGSEGV", "SIGBUS", "runtime: out of memory", "fatal: "} {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// signalSentBy reports a Go crash dump that a signal sent with kill(2)
// caused, and by which pid: the runtime heads it with the signal's name,
// then "PC=... m=N sigcode=0", SI_USER being 0 on Linux, and for SIGSEGV
// and SIGBUS "addr=", which for SI_USER holds the sender's pid (and uid
// above it). A fault of the talker's own has sigcode 1 or 2.
func signalSentBy(trace []byte) (sender int, ok bool) {
	head, rest, _ := bytes.Cut(trace, []byte("\n"))
	pc, _, _ := bytes.Cut(rest, []byte("\n"))
	if !bytes.HasPrefix(head, []byte("SIG")) || !bytes.HasPrefix(pc, []byte("PC=")) {
		return 0, false
	}
	fields := strings.Fields(string(pc))
	if !slices.Contains(fields, "sigcode=0") {
		return 0, false
	}
	for _, f := range fields {
		if hex, found := strings.CutPrefix(f, "addr=0x"); found {
			if v, err := strconv.ParseUint(hex, 16, 64); err == nil {
				sender = int(uint32(v))
			}
		}
	}
	return sender, true
}
