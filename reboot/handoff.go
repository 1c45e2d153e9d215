package reboot

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"talker/ipc"
)

// Environment variables that tell a new generation where its handoff is.
// They are set only for the duration of one reboot attempt.
const (
	envHandoff = "TALKER_HANDOFF"
	envToken   = "TALKER_HANDOFF_TOKEN"
)

// maxHeader bounds the header the child accepts.
const maxHeader = 1 << 20

// Header travels with the descriptors: what the child needs to find and
// interpret the state.
type Header struct {
	Mode      Mode
	StateFile string    // path of the state file in the run directory
	Started   time.Time // when the reboot began (for the pause the players saw)
	FromPID   int
	FromVer   string
	// Listeners names listening sockets handed over after the sessions'
	// descriptors (the last len(Listeners) of them), as "network:address".
	// A reboot's listeners come through tableflip instead; the angel, which
	// is not the new generation's parent, sends them this way.
	Listeners []string `json:",omitempty"`
}

// Report is what the child tells the parent before it becomes ready (or
// instead of it, when it refuses).
type Report struct {
	OK       bool
	Error    string        `json:",omitempty"`
	PID      int           // the new generation's pid
	Version  string        // the new binary's version
	Received time.Duration // from start of exec to state and descriptors received
	Restored time.Duration // decoding and rebuilding the world
	Sessions int           // sessions restored
	Dropped  int           // sessions that could not be restored
}

// Request is one reboot attempt, from the old generation's side.
type Request struct {
	Mode    Mode
	State   []byte // the opaque, versioned state
	FDs     []int  // descriptors to hand over, in the order the state refers to them
	Started time.Time
	Version string
}

// Result tells the old generation how the handoff went.
type Result struct {
	Child      Report
	StateWrite time.Duration // writing the state file
	Exec       time.Duration // from starting the child to it asking for its state
	Stage      time.Duration // sending the staged sockets until the child had them all
	Transfer   time.Duration // sending the descriptors
}

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

// staleAfter is how old a handoff's file must be before sweepStale
// removes it: far beyond any ready timeout, so that no handoff in progress
// (of this talker's generations, or of the angel's recovery) loses one.
const staleAfter = 10 * time.Minute

// sweepStale removes state files and handoff sockets that a process which
// died in the middle of a handoff left in the run directory (a state file
// holds players' sessions: it must not linger).
func sweepStale(dir string, olderThan time.Duration, now time.Time) (removed int) {
	for _, pattern := range []string{"state-*.bin", "handoff-*.sock"} {
		names, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, name := range names {
			fi, err := os.Lstat(name)
			if err != nil || now.Sub(fi.ModTime()) < olderThan {
				continue
			}
			if os.Remove(name) == nil {
				removed++
			}
		}
	}
	return removed
}

func writeStateFile(dir string, state []byte) (string, error) {
	f, err := os.CreateTemp(dir, "state-*.bin") // 0600, unpredictable name
	if err != nil {
		return "", fmt.Errorf("state file: %w", err)
	}
	if _, err := f.Write(state); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("state file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("state file: %w", err)
	}
	return f.Name(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Incoming is what a new generation received from the old one.
type Incoming struct {
	Header Header
	State  []byte
	FDs    []int
	// Staged is set when the old generation sends sockets before it
	// pauses: take them with NextStage until it says they are all there,
	// then call AwaitState for the state and the remaining descriptors.
	// Header then has only the mode and the old generation's identity.
	Staged bool

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
	if err := ipc.WriteJSON(uc, hello{Token: token, Proto: protoStaged}); err != nil {
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
		in.Staged, in.Header = true, *m.Header
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

// AwaitState tells the old generation that every staged socket is taken
// in (rep.OK) or why not, then waits for it to pause and send the state.
// in.Header, State and FDs (the descriptors not staged) are then set.
func (in *Incoming) AwaitState(rep *StageReport) error {
	rep.Took = time.Since(in.stage0)
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
