package reboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"talker/ipc"
)

// The parent's side of a reboot: the old generation, which starts the new
// binary (its child, through tableflip), stages the sockets, sends the
// state after its pause and commits, or kills the child and carries on.

// Attempt is one reboot attempt in progress, from the old generation's
// side: the new binary has been started and has connected. Staging (if the
// binary supports it) happens while this process still serves; Complete
// then sends the state and, if the child restores it, commits. Any error
// aborts the attempt: the child is killed and the caller carries on.
//
// The child must make progress within the Upgrader's ReadyTimeout at every
// step: connect, take each batch of staged sockets, take in the last of
// them, restore the state and become ready. Each step that completes
// moves the deadline on (progress); the whole attempt is bounded only by
// the Backstop.
type Attempt struct {
	u          *Upgrader
	hdr        Header
	begun      time.Time
	deadline   time.Time // the child's next step must be done by then
	ln         *net.UnixListener
	sockPath   string
	conn       *net.UnixConn
	rd         *ipc.LineReader
	proto      int
	pidfd      int           // the child, to kill on abort; -1 if unknown
	childPID   int           // its pid, to find what it started
	upgraded   chan error    // what tableflip's Upgrade returned
	upErr      error         // ... once received
	upDone     bool          // upErr is set
	exec       time.Duration // from Begin to the child's hello
	staged     int           // descriptors sent while staging
	stageEnded bool
	stageDur   time.Duration
	done       bool
}

// Begin starts the binary at the process's path as the next generation and
// waits for it to connect. On error nothing has changed.
func (u *Upgrader) Begin(req BeginRequest) (*Attempt, error) {
	begun := time.Now()
	a := &Attempt{u: u, begun: begun, deadline: begun.Add(u.opts.ReadyTimeout), pidfd: -1,
		upgraded: make(chan error, 1),
		hdr:      Header{Mode: req.Mode, FromPID: os.Getpid(), FromVer: req.Version},
		sockPath: filepath.Join(u.opts.RunDir, "handoff-"+randomHex(8)+".sock")}
	token := randomHex(16)
	var err error
	a.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: a.sockPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("handoff socket: %w", err)
	}
	_ = os.Chmod(a.sockPath, 0o600)
	// The child inherits the environment as it is when tableflip starts
	// it; the variables are removed once it has connected (or failed).
	os.Setenv(envHandoff, a.sockPath)
	os.Setenv(envToken, token)
	go func() { a.upgraded <- u.tf.Upgrade() }()
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		c, err := a.ln.AcceptUnix()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	timer := time.NewTimer(time.Until(a.deadline))
	defer timer.Stop()
	select {
	case c, ok := <-accepted:
		if !ok {
			return nil, a.fail(errors.New("the new binary never asked for its state"))
		}
		a.conn = c
	case err := <-a.upgraded:
		a.upErr, a.upDone = err, true
		if err == nil {
			err = errors.New("the new binary became ready without taking over")
		}
		return nil, a.fail(err)
	case <-timer.C:
		err := a.fail(errors.New("timed out: the new binary never asked for its state"))
		// One that connects just now is closed (fail closed the listener,
		// so the accept goroutine ends either way).
		if c, ok := <-accepted; ok {
			c.Close()
		}
		return nil, err
	}
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	if pid, err := ipc.PeerPID(a.conn); err == nil && pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			a.pidfd, a.childPID = fd, pid
		}
	}
	a.exec = time.Since(begun)
	if err := ipc.SameUser(a.conn); err != nil {
		return nil, a.fail(err)
	}
	a.progress()
	a.rd = ipc.NewLineReader(a.conn, 0)
	var hi hello
	if err := a.rd.ReadJSON(&hi); err != nil || hi.Token != token {
		return nil, a.fail(errors.New("handoff: bad hello from the new binary"))
	}
	a.proto = hi.Proto
	if a.Staging() {
		hdr := a.hdr
		if err := a.send(message{Kind: "begin", Header: &hdr, Acks: a.proto >= protoAcks}, nil); err != nil {
			return nil, a.fail(fmt.Errorf("the new binary failed before it was sent its state: %w", err))
		}
	}
	return a, nil
}

// Deadline is when the attempt times out unless the new binary makes
// progress meanwhile: the caller's own waits (its pause) must leave it the
// time it needs for its next step.
func (a *Attempt) Deadline() time.Time { return a.deadline }

// progress gives the child a whole ReadyTimeout from now for its next
// step; blocked reads and writes on the connection end at that deadline.
func (a *Attempt) progress() {
	a.deadline = time.Now().Add(a.u.opts.ReadyTimeout)
	_ = a.conn.SetDeadline(a.deadline)
}

// Staging reports whether the new binary takes sockets before the pause.
// If not, Stage must not be called: Complete sends everything.
func (a *Attempt) Staging() bool { return a.proto >= protoStaged }

// ContinuesJournal reports whether the child takes and continues the
// parent's crash journal (Request.Journal).
func (a *Attempt) ContinuesJournal() bool { return a.proto >= protoJournal }

// Stage sends sockets while this process still serves them; data (well
// under a megabyte) describes them to the child. The descriptors stay open
// here and may be the caller's duplicates: only their socket matters.
func (a *Attempt) Stage(data []byte, fds []int) error {
	if a.done {
		return errors.New("handoff already over")
	}
	if a.staged == 0 {
		a.stageDur = -time.Since(a.begun)
	}
	if err := a.send(message{Kind: "stage", Data: data}, fds); err != nil {
		return a.fail(a.childGone("the new binary failed while being sent sockets", err))
	}
	// Sent: the child has taken in earlier batches (it reads the next one
	// only when it has room for it), so it is making progress.
	a.progress()
	a.staged += len(fds)
	return nil
}

// EndStage tells the child every staged socket has been sent and waits
// until it has taken them in.
func (a *Attempt) EndStage() (StageReport, error) {
	var rep StageReport
	if a.done {
		return rep, errors.New("handoff already over")
	}
	a.stageEnded = true
	if err := a.send(message{Kind: "stage-end"}, nil); err != nil {
		return rep, a.fail(fmt.Errorf("the new binary failed while being sent sockets: %w", err))
	}
	for {
		if err := a.rd.ReadJSON(&rep); err != nil {
			return rep, a.fail(a.childGone("the new binary failed while taking in the sockets", err))
		}
		if rep.Acked == 0 || rep.OK || rep.Error != "" {
			break
		}
		// A batch taken in: progress, however many are still to come.
		a.progress()
		rep = StageReport{}
	}
	if !rep.OK {
		return rep, a.fail(errors.New("the new binary refused: " + rep.Error))
	}
	a.progress()
	a.stageDur += time.Since(a.begun)
	return rep, nil
}

// Timings are how long the new binary took to start and say hello, and
// how long the staging of sockets took (zero without staging).
func (a *Attempt) Timings() (exec, stage time.Duration) { return a.exec, max(a.stageDur, 0) }

// Staged is how many descriptors Stage has sent: the state's descriptor
// indexes below it refer to staged sockets, the rest to those Complete
// sends.
func (a *Attempt) Staged() int { return a.staged }

// Complete sends the state and the remaining descriptors, waits for the
// child to restore them and become ready, and commits. On success the
// caller must exit without touching any descriptor it handed over; on
// error the attempt is over and the caller resumes serving.
func (a *Attempt) Complete(req Request) (*Result, error) {
	if a.done {
		return nil, errors.New("handoff already over")
	}
	if a.Staging() && !a.stageEnded {
		if _, err := a.EndStage(); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	stateFile, err := writeStateFile(a.u.opts.RunDir, req.State)
	if err != nil {
		return nil, a.fail(err)
	}
	defer os.Remove(stateFile)
	res := &Result{StateWrite: time.Since(t0), Exec: a.exec, Stage: max(a.stageDur, 0)}
	hdr := a.hdr
	hdr.StateFile, hdr.Started = stateFile, req.Started
	fds := req.FDs
	if req.Journal > 0 && a.ContinuesJournal() {
		hdr.Journal = true
		fds = append(fds[:len(fds):len(fds)], req.Journal)
	}
	t1 := time.Now()
	if a.Staging() {
		err = a.send(message{Kind: "state", Header: &hdr}, fds)
	} else {
		// An older binary: the header alone, then the descriptors, the
		// way it expects them.
		data, _ := json.Marshal(hdr)
		err = ipc.SendFrame(a.conn, data, req.FDs)
	}
	if err != nil {
		return nil, a.fail(a.childGone("the new binary failed before it was sent its state", err))
	}
	res.Transfer = time.Since(t1)
	// The child has the state: a whole ReadyTimeout to restore it.
	a.progress()
	if err := a.rd.ReadJSON(&res.Child); err != nil {
		return nil, a.fail(a.childGone("the new binary failed while restoring", err))
	}
	if !res.Child.OK {
		return nil, a.fail(errors.New("the new binary refused: " + res.Child.Error))
	}
	// The child marks itself ready (tableflip) right after its report.
	a.progress()
	if err := a.waitUpgraded(time.Until(a.deadline)); err != nil {
		return nil, a.fail(err)
	}
	a.done = true
	_ = ipc.WriteJSON(a.conn, commit{Commit: true})
	a.cleanup()
	return res, nil
}

// Abort ends an attempt the caller has given up on (its own snapshot
// failed, say): the child is killed.
func (a *Attempt) Abort() {
	if !a.done {
		_ = a.fail(errors.New("aborted"))
	}
}

// send writes one message to a staged child.
func (a *Attempt) send(m message, fds []int) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return ipc.SendFrame(a.conn, data, fds)
}

// childGone explains a broken connection to the child: if the child has
// exited, how it exited says more than the socket error.
func (a *Attempt) childGone(stage string, err error) error {
	if uerr := a.waitUpgraded(time.Until(a.deadline)); uerr != nil {
		return fmt.Errorf("%w (%s)", uerr, stage)
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// waitUpgraded waits at most d for tableflip's Upgrade to return.
func (a *Attempt) waitUpgraded(d time.Duration) error {
	if a.upDone {
		return a.upErr
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case a.upErr = <-a.upgraded:
		a.upDone = true
		return a.upErr
	case <-t.C:
		return errors.New("timed out waiting for the new binary to become ready")
	}
}

// fail aborts the attempt: the child is told nothing more and killed, and
// the call returns once tableflip has seen it go, so that the next reboot
// is not refused as "in progress". It returns err for convenience.
func (a *Attempt) fail(err error) error {
	if a.done {
		return err
	}
	a.done = true
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	// Kill first, then say so, then close: a child that read only the end
	// of the connection would take it for an old generation that died
	// after committing, and carry on serving.
	if a.pidfd >= 0 {
		killTree(a.childPID, a.pidfd)
	}
	if a.conn != nil {
		_ = a.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_ = ipc.WriteJSON(a.conn, commit{Commit: false})
		a.conn.Close()
	}
	// A child that never connected is found by the handoff socket named in
	// its environment: tableflip's own timeout (the Backstop) is far off.
	if a.pidfd < 0 {
		killStartedChild(a.sockPath)
	}
	// Once the child is dead tableflip's Upgrade returns at once. One that
	// could not be found is ended by tableflip at the Backstop, and the
	// next reboot is refused until then.
	if !a.upDone {
		select {
		case a.upErr = <-a.upgraded:
			a.upDone = true
		case <-time.After(2 * time.Second):
			err = fmt.Errorf("%w (the new binary could not be killed: a new reboot is possible within %v)", err, a.u.opts.Backstop())
		}
	}
	a.cleanup()
	// tableflip leaves the parent's copies of a failed child's two pipe
	// ends open; they are unreachable, so a collection lets their
	// finalizers close them instead of leaking two descriptors per failed
	// reboot.
	runtime.GC()
	return err
}

func (a *Attempt) cleanup() {
	if a.conn != nil {
		a.conn.Close()
	}
	a.ln.Close()
	if a.pidfd >= 0 {
		unix.Close(a.pidfd)
		a.pidfd = -1
	}
}
