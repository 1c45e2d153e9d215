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

// protoStaged is the handoff protocol a new binary announces in its hello
// when it can be staged: sent the players' sockets while the old generation
// is still serving, so that starting the binary and wrapping every socket
// happen before the pause instead of in it. A binary that does not announce
// it (an older build) gets everything in one message after the pause, as
// the angel's recovery offer always sends it. (2 was a development
// version whose stage messages carried only ids: such a binary is handed
// over to unstaged.)
const protoStaged = 3

// message is what the old generation sends a staged child, each with its
// descriptors: "begin" (the header so far), any number of "stage" chunks,
// "stage-end", then "state" (the complete header, once the old generation
// has paused and written the state file).
type message struct {
	Kind   string
	Header *Header `json:",omitempty"`
	Data   []byte  `json:",omitempty"` // "stage": the caller's description of the sockets
}

// hello is the child's first line: the one-time token from its
// environment and the protocol it speaks (0: everything in one message).
type hello struct {
	Token string
	Proto int
}

// commit ends a handoff: true, the child may use the descriptors; false
// (or the connection closing before it), it must not.
type commit struct{ Commit bool }

// StageReport is what a staged child says once it has taken in every
// staged socket.
type StageReport struct {
	OK      bool
	Error   string        `json:",omitempty"`
	Sockets int           // sockets wrapped and ready
	Took    time.Duration // from the first stage message to ready
}

// BeginRequest starts a reboot attempt.
type BeginRequest struct {
	Mode    Mode
	Version string
}

// Handover is one reboot attempt in progress, from the old generation's
// side: the new binary has been started and has connected. Staging (if the
// binary supports it) happens while this process still serves; Complete
// then sends the state and, if the child restores it, commits. Any error
// aborts the attempt: the child is killed and the caller carries on.
//
// Everything from Begin to the child's readiness must fit in the
// Upgrader's ReadyTimeout.
type Handover struct {
	u          *Upgrader
	hdr        Header
	begun      time.Time
	deadline   time.Time
	ln         *net.UnixListener
	sockPath   string
	conn       *net.UnixConn
	rd         *ipc.LineReader
	proto      int
	pidfd      int           // the child, to kill on abort; -1 if unknown
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
func (u *Upgrader) Begin(req BeginRequest) (*Handover, error) {
	begun := time.Now()
	h := &Handover{u: u, begun: begun, deadline: begun.Add(u.opts.ReadyTimeout), pidfd: -1,
		upgraded: make(chan error, 1),
		hdr:      Header{Mode: req.Mode, FromPID: os.Getpid(), FromVer: req.Version},
		sockPath: filepath.Join(u.opts.RunDir, "handoff-"+randomHex(8)+".sock")}
	token := randomHex(16)
	var err error
	h.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: h.sockPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("handoff socket: %w", err)
	}
	_ = os.Chmod(h.sockPath, 0o600)
	// The child inherits the environment as it is when tableflip starts
	// it; the variables are removed once it has connected (or failed).
	os.Setenv(envHandoff, h.sockPath)
	os.Setenv(envToken, token)
	go func() { h.upgraded <- u.tf.Upgrade() }()
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		c, err := h.ln.AcceptUnix()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	timer := time.NewTimer(time.Until(h.deadline))
	defer timer.Stop()
	select {
	case c, ok := <-accepted:
		if !ok {
			return nil, h.fail(errors.New("the new binary never asked for its state"))
		}
		h.conn = c
	case err := <-h.upgraded:
		h.upErr, h.upDone = err, true
		if err == nil {
			err = errors.New("the new binary became ready without taking over")
		}
		return nil, h.fail(err)
	case <-timer.C:
		err := h.fail(errors.New("timed out: the new binary never asked for its state"))
		// One that connects just now is closed (fail closed the listener,
		// so the accept goroutine ends either way).
		if c, ok := <-accepted; ok {
			c.Close()
		}
		return nil, err
	}
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	if pid, err := ipc.PeerPID(h.conn); err == nil && pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			h.pidfd = fd
		}
	}
	h.exec = time.Since(begun)
	if err := ipc.SameUser(h.conn); err != nil {
		return nil, h.fail(err)
	}
	// A little past our deadline: tableflip's own timeout (which started
	// just after ours) then ends a late child first, so that Upgrade never
	// succeeds after we have given up.
	_ = h.conn.SetDeadline(h.deadline.Add(time.Second))
	h.rd = ipc.NewLineReader(h.conn, 0)
	var hi hello
	if err := h.rd.ReadJSON(&hi); err != nil || hi.Token != token {
		return nil, h.fail(errors.New("handoff: bad hello from the new binary"))
	}
	h.proto = hi.Proto
	if h.Staging() {
		hdr := h.hdr
		if err := h.send(message{Kind: "begin", Header: &hdr}, nil); err != nil {
			return nil, h.fail(fmt.Errorf("the new binary failed before it was sent its state: %w", err))
		}
	}
	return h, nil
}

// Deadline is when the attempt times out: the new binary must be ready by
// then. The caller's own waits must leave it the time it needs.
func (h *Handover) Deadline() time.Time { return h.deadline }

// Staging reports whether the new binary takes sockets before the pause.
// If not, Stage must not be called: Complete sends everything.
func (h *Handover) Staging() bool { return h.proto >= protoStaged }

// Stage sends sockets while this process still serves them; data (well
// under a megabyte) describes them to the child. The descriptors stay open
// here and may be the caller's duplicates: only their socket matters.
func (h *Handover) Stage(data []byte, fds []int) error {
	if h.done {
		return errors.New("handoff already over")
	}
	if h.staged == 0 {
		h.stageDur = -time.Since(h.begun)
	}
	if err := h.send(message{Kind: "stage", Data: data}, fds); err != nil {
		return h.fail(fmt.Errorf("the new binary failed while being sent sockets: %w", err))
	}
	h.staged += len(fds)
	return nil
}

// EndStage tells the child every staged socket has been sent and waits
// until it has taken them in.
func (h *Handover) EndStage() (StageReport, error) {
	var rep StageReport
	if h.done {
		return rep, errors.New("handoff already over")
	}
	h.stageEnded = true
	if err := h.send(message{Kind: "stage-end"}, nil); err != nil {
		return rep, h.fail(fmt.Errorf("the new binary failed while being sent sockets: %w", err))
	}
	if err := h.rd.ReadJSON(&rep); err != nil {
		return rep, h.fail(h.childGone("the new binary failed while taking in the sockets", err))
	}
	if !rep.OK {
		return rep, h.fail(errors.New("the new binary refused: " + rep.Error))
	}
	h.stageDur += time.Since(h.begun)
	return rep, nil
}

// Timings are how long the new binary took to start and say hello, and
// how long the staging of sockets took (zero without staging).
func (h *Handover) Timings() (exec, stage time.Duration) { return h.exec, max(h.stageDur, 0) }

// Staged is how many descriptors Stage has sent: the state's descriptor
// indexes below it refer to staged sockets, the rest to those Complete
// sends.
func (h *Handover) Staged() int { return h.staged }

// Complete sends the state and the remaining descriptors, waits for the
// child to restore them and become ready, and commits. On success the
// caller must exit without touching any descriptor it handed over; on
// error the attempt is over and the caller resumes serving.
func (h *Handover) Complete(req Request) (*Result, error) {
	if h.done {
		return nil, errors.New("handoff already over")
	}
	if h.Staging() && !h.stageEnded {
		if _, err := h.EndStage(); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	stateFile, err := writeStateFile(h.u.opts.RunDir, req.State)
	if err != nil {
		return nil, h.fail(err)
	}
	defer os.Remove(stateFile)
	res := &Result{StateWrite: time.Since(t0), Exec: h.exec, Stage: max(h.stageDur, 0)}
	hdr := h.hdr
	hdr.StateFile, hdr.Started = stateFile, req.Started
	t1 := time.Now()
	if h.Staging() {
		err = h.send(message{Kind: "state", Header: &hdr}, req.FDs)
	} else {
		// An older binary: the header alone, then the descriptors, the
		// way it expects them.
		data, _ := json.Marshal(hdr)
		err = ipc.SendFrame(h.conn, data, req.FDs)
	}
	if err != nil {
		return nil, h.fail(h.childGone("the new binary failed before it was sent its state", err))
	}
	res.Transfer = time.Since(t1)
	if err := h.rd.ReadJSON(&res.Child); err != nil {
		return nil, h.fail(h.childGone("the new binary failed while restoring", err))
	}
	if !res.Child.OK {
		return nil, h.fail(errors.New("the new binary refused: " + res.Child.Error))
	}
	// The child marks itself ready (tableflip) right after its report.
	// tableflip's own timeout bounds this wait: waiting less could give up
	// on a child that is just becoming ready.
	h.upErr, h.upDone = <-h.upgraded, true
	if h.upErr != nil {
		return nil, h.fail(h.upErr)
	}
	h.done = true
	_ = ipc.WriteJSON(h.conn, commit{Commit: true})
	h.cleanup()
	return res, nil
}

// Abort ends an attempt the caller has given up on (its own snapshot
// failed, say): the child is killed.
func (h *Handover) Abort() {
	if !h.done {
		_ = h.fail(errors.New("aborted"))
	}
}

// send writes one message to a staged child.
func (h *Handover) send(m message, fds []int) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return ipc.SendFrame(h.conn, data, fds)
}

// childGone explains a broken connection to the child: if the child has
// exited, how it exited says more than the socket error.
func (h *Handover) childGone(stage string, err error) error {
	if uerr := h.waitUpgraded(time.Until(h.deadline)); uerr != nil {
		return fmt.Errorf("%w (%s)", uerr, stage)
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// waitUpgraded waits at most d for tableflip's Upgrade to return.
func (h *Handover) waitUpgraded(d time.Duration) error {
	if h.upDone {
		return h.upErr
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case h.upErr = <-h.upgraded:
		h.upDone = true
		return h.upErr
	case <-t.C:
		return errors.New("timed out waiting for the new binary to become ready")
	}
}

// fail aborts the attempt: the child is told nothing more and killed, and
// the call returns once tableflip has seen it go, so that the next reboot
// is not refused as "in progress". It returns err for convenience.
func (h *Handover) fail(err error) error {
	if h.done {
		return err
	}
	h.done = true
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	// Kill first, then say so, then close: a child that read only the end
	// of the connection would take it for an old generation that died
	// after committing, and carry on serving.
	if h.pidfd >= 0 {
		_ = unix.PidfdSendSignal(h.pidfd, unix.SIGKILL, nil, 0)
	}
	if h.conn != nil {
		_ = h.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_ = ipc.WriteJSON(h.conn, commit{Commit: false})
		h.conn.Close()
	}
	// A child that never connected cannot be killed here: tableflip kills
	// it at its own timeout, which ends with ours.
	if !h.upDone {
		select {
		case h.upErr = <-h.upgraded:
			h.upDone = true
		case <-time.After(time.Until(h.deadline) + 2*time.Second):
		}
	}
	h.cleanup()
	// tableflip leaves the parent's copies of a failed child's two pipe
	// ends open; they are unreachable, so a collection lets their
	// finalizers close them instead of leaking two descriptors per failed
	// reboot.
	runtime.GC()
	return err
}

func (h *Handover) cleanup() {
	if h.conn != nil {
		h.conn.Close()
	}
	h.ln.Close()
	if h.pidfd >= 0 {
		unix.Close(h.pidfd)
		h.pidfd = -1
	}
}
