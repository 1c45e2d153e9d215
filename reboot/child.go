package reboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"talker/ipc"
)

// The child's side of a handoff: a new generation receives the sockets and
// the state from the old one (a reboot) or from the angel (a crash
// recovery), reports, becomes ready and waits for the commit.

// Incoming is what a new generation received from the old one.
type Incoming struct {
	Header Header
	State  []byte
	FDs    []int
	// Staged is set when the old generation sends sockets before it
	// pauses: take them with NextStage until it says they are all there
	// (acknowledging each with Ack), then call AwaitState for the state and
	// the remaining descriptors. Header then has only the mode and the old
	// generation's identity.
	Staged bool
	acks   bool // the old generation wants each batch acknowledged
	acked  int

	u       *Upgrader
	conn    *net.UnixConn
	rd      *ipc.LineReader
	timeout time.Duration
	stage0  time.Time
}

// Receive fetches the state and descriptors from the previous generation
// (or, staged, the start of them). It returns (nil, nil) for a cold start.
func (u *Upgrader) Receive(timeout time.Duration) (*Incoming, error) {
	path := os.Getenv(envHandoff)
	token := os.Getenv(envToken)
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	if path == "" {
		return nil, nil // a cold start (or a restart by the angel with nothing to hand over)
	}
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	uc := c.(*net.UnixConn)
	_ = uc.SetDeadline(time.Now().Add(timeout))
	if err := ipc.WriteJSON(uc, hello{Token: token, Proto: protoJournal}); err != nil {
		uc.Close()
		return nil, fmt.Errorf("handoff: %w", err)
	}
	data, fds, err := ipc.RecvFrame(uc, maxHeader)
	if err != nil {
		uc.Close()
		return nil, err
	}
	in := &Incoming{u: u, conn: uc, FDs: fds, timeout: timeout}
	var m message
	if err := json.Unmarshal(data, &m); err == nil && m.Kind == "begin" && m.Header != nil {
		// Staged: the old generation is still serving.
		in.Staged, in.Header, in.acks = true, *m.Header, m.Acks
		in.stage0 = time.Now()
		_ = uc.SetDeadline(time.Time{}) // NextStage and AwaitState set their own
		return in, nil
	}
	// Everything in one message (an older generation, or the angel).
	in.rd = ipc.NewLineReader(uc, 0)
	if err := json.Unmarshal(data, &in.Header); err != nil {
		in.Reject(fmt.Errorf("bad handoff header: %w", err))
		return nil, err
	}
	if err := in.takeState(); err != nil {
		return nil, err
	}
	_ = uc.SetDeadline(time.Time{})
	return in, nil
}

// NextStage returns the next staged batch of sockets and the data that
// describes them; done is set (with no sockets) once they have all come.
func (in *Incoming) NextStage() (data []byte, fds []int, done bool, err error) {
	_ = in.conn.SetReadDeadline(time.Now().Add(in.timeout))
	raw, fds, err := ipc.RecvFrame(in.conn, maxHeader)
	if err != nil {
		return nil, nil, false, fmt.Errorf("handoff: staged sockets: %w", err)
	}
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		ipc.CloseAll(fds)
		return nil, nil, false, fmt.Errorf("handoff: bad staged message: %w", err)
	}
	switch m.Kind {
	case "stage":
		return m.Data, fds, false, nil
	case "stage-end":
		ipc.CloseAll(fds)
		return nil, nil, true, nil
	}
	ipc.CloseAll(fds)
	return nil, nil, false, fmt.Errorf("handoff: unexpected %q while staging", m.Kind)
}

// Ack tells the old generation (if it asked) that one more staged batch
// has been taken in: its deadline moves on.
func (in *Incoming) Ack() error {
	if !in.acks {
		return nil
	}
	in.acked++
	_ = in.conn.SetWriteDeadline(time.Now().Add(in.timeout))
	if err := ipc.WriteJSON(in.conn, StageReport{Acked: in.acked}); err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	return nil
}

// AwaitState tells the old generation that every staged socket is taken
// in (rep.OK) or why not, then waits for it to pause and send the state.
// in.Header, State and FDs (the descriptors not staged) are then set.
func (in *Incoming) AwaitState(rep *StageReport) error {
	rep.Took = time.Since(in.stage0)
	_ = in.conn.SetWriteDeadline(time.Time{}) // (an Ack set one)
	if err := ipc.WriteJSON(in.conn, rep); err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if !rep.OK {
		in.conn.Close()
		return errors.New(rep.Error)
	}
	// The old generation has the rest of its ready timeout to pause and
	// snapshot; it kills this process if it gives up.
	_ = in.conn.SetReadDeadline(time.Now().Add(in.timeout))
	raw, fds, err := ipc.RecvFrame(in.conn, maxHeader)
	if err != nil {
		return fmt.Errorf("handoff: waiting for the state: %w", err)
	}
	var m message
	if err := json.Unmarshal(raw, &m); err != nil || m.Kind != "state" || m.Header == nil {
		ipc.CloseAll(fds)
		err := errors.New("handoff: expected the state")
		in.Reject(err)
		return err
	}
	in.Header, in.FDs = *m.Header, fds
	in.rd = ipc.NewLineReader(in.conn, 0)
	if err := in.takeState(); err != nil {
		return err
	}
	_ = in.conn.SetDeadline(time.Time{})
	return nil
}

// takeState adopts handed-over listeners and reads the state file the
// header names.
func (in *Incoming) takeState() error {
	fds := in.FDs
	if n := len(in.Header.Listeners); n > 0 {
		if n > len(fds) {
			err := errors.New("handoff names more listeners than it sent descriptors")
			in.Reject(err)
			return err
		}
		lfds := fds[len(fds)-n:]
		in.FDs = fds[:len(fds)-n]
		if err := in.u.adoptListeners(in.Header.Listeners, lfds); err != nil {
			in.Reject(err)
			return err
		}
	}
	if filepath.Dir(in.Header.StateFile) != filepath.Clean(in.u.opts.RunDir) {
		err := fmt.Errorf("state file %q is outside the run directory", in.Header.StateFile)
		in.Reject(err)
		return err
	}
	var err error
	in.State, err = os.ReadFile(in.Header.StateFile)
	if err != nil {
		in.Reject(err)
		return err
	}
	return nil
}

// Reject tells the old generation why this one cannot take over. The
// caller then exits; the old generation resumes.
func (in *Incoming) Reject(reason error) {
	r := Report{OK: false, Error: reason.Error(), PID: os.Getpid()}
	_ = ipc.WriteJSON(in.conn, r)
	in.conn.Close()
	ipc.CloseAll(in.FDs) // close, never shut down: they are not ours to end
}

// Ready reports a successful restore, marks this generation ready, and
// waits for the old one to commit. Only after Ready returns nil may the
// descriptors be read or written: until then the old generation can still
// roll back (it kills this process if so).
func (in *Incoming) Ready(r Report, wait time.Duration) error {
	r.OK, r.PID = true, os.Getpid()
	if err := ipc.WriteJSON(in.conn, r); err != nil {
		return fmt.Errorf("handoff: report: %w", err)
	}
	if err := in.u.tf.Ready(); err != nil {
		return err
	}
	_ = in.conn.SetReadDeadline(time.Now().Add(wait))
	var c commit
	err := in.rd.ReadJSON(&c)
	in.conn.Close()
	_ = os.Remove(in.Header.StateFile)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		// The old generation went away without a word: it cannot be
		// serving, so carrying on is the only way to keep everyone.
		return nil
	}
	if err != nil {
		return fmt.Errorf("handoff: no commit from the old generation: %w", err)
	}
	if !c.Commit {
		return errors.New("handoff: the old generation rolled back")
	}
	return nil
}
