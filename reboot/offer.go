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

// The angel's side of a handoff: everything in one message, to the one
// process started with the offer's environment (a crash recovery).

type serveResult struct {
	report   Report
	err      error
	stage    string // how far the child got, for error messages
	exec     time.Duration
	transfer time.Duration
	conn     *net.UnixConn
}

// Offer is the giving side of a handoff: a state file, a private socket
// and a one-time token, served to the one process that is started with
// Env(). The old generation (through tableflip) and the angel (recovering
// from a crash) both hand over this way.
type Offer struct {
	stateFile  string
	sockPath   string
	token      string
	ln         *net.UnixListener
	reported   chan serveResult // the child's report, or why it never came
	commit     chan bool
	done       chan serveResult
	stateWrite time.Duration
}

// NewOffer writes the state and starts serving it with fds. hdr.StateFile
// is filled in.
func NewOffer(runDir string, hdr Header, state []byte, fds []int) (*Offer, error) {
	begin := time.Now()
	stateFile, err := writeStateFile(runDir, state)
	if err != nil {
		return nil, err
	}
	o := &Offer{stateFile: stateFile, token: randomHex(16), stateWrite: time.Since(begin),
		sockPath: filepath.Join(runDir, "handoff-"+randomHex(8)+".sock"),
		reported: make(chan serveResult, 1), commit: make(chan bool, 1), done: make(chan serveResult, 1)}
	o.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: o.sockPath, Net: "unix"})
	if err != nil {
		os.Remove(stateFile)
		return nil, fmt.Errorf("handoff socket: %w", err)
	}
	_ = os.Chmod(o.sockPath, 0o600)
	hdr.StateFile = stateFile
	go func() { o.done <- o.serve(hdr, fds, time.Now()) }()
	return o, nil
}

// Env is what the receiving process's environment must contain.
func (o *Offer) Env() []string {
	return []string{envHandoff + "=" + o.sockPath, envToken + "=" + o.token}
}

// Report waits (at most timeout) for the receiver's report.
func (o *Offer) Report(timeout time.Duration) (Report, error) {
	select {
	case sr := <-o.reported:
		o.reported <- sr // Finish reads it again
		if sr.err != nil {
			return sr.report, fmt.Errorf("%s: %w", sr.stage, sr.err)
		}
		if !sr.report.OK {
			return sr.report, errors.New("the new binary refused: " + sr.report.Error)
		}
		return sr.report, nil
	case <-time.After(timeout):
		return Report{}, fmt.Errorf("no report within %v", timeout)
	}
}

// Finish commits (the receiver may now use the descriptors) or rolls back
// (the receiver must not, and is expected to have been killed or to exit),
// then cleans up. It returns how the handoff went.
func (o *Offer) Finish(commit bool) serveResult {
	o.commit <- commit
	o.ln.Close() // unblocks a serve still waiting for its receiver
	sr := <-o.done
	os.Remove(o.stateFile)
	return sr
}

// serve answers the one receiver of this offer.
func (o *Offer) serve(hdr Header, fds []int, execStart time.Time) (sr serveResult) {
	defer func() {
		select {
		case o.reported <- sr:
		default:
		}
		if ok := <-o.commit; ok && sr.err == nil && sr.report.OK && sr.conn != nil {
			_ = ipc.WriteJSON(sr.conn, commit{Commit: true})
		}
		if sr.conn != nil {
			sr.conn.Close()
		}
	}()
	sr.stage = "the new binary never asked for its state"
	c, err := o.ln.AcceptUnix()
	if err != nil {
		sr.err = err
		return sr
	}
	sr.conn = c
	sr.exec = time.Since(execStart)
	sr.stage = "the new binary failed before it was sent its state"
	if err := ipc.SameUser(c); err != nil {
		sr.err = err
		return sr
	}
	rd := ipc.NewLineReader(c, 0)
	var hi hello
	if err := rd.ReadJSON(&hi); err != nil || hi.Token != o.token {
		sr.err = errors.New("handoff: bad hello from the new binary")
		return sr
	}
	data, _ := json.Marshal(hdr)
	t0 := time.Now()
	if err := ipc.SendFrame(c, data, fds); err != nil {
		sr.err = err
		return sr
	}
	sr.transfer = time.Since(t0)
	sr.stage = "the new binary failed while restoring"
	if err := rd.ReadJSON(&sr.report); err != nil {
		sr.err = err
		return sr
	}
	sr.stage = ""
	return sr
}
