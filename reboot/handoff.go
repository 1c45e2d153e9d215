package reboot

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"talker/fdpass"
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
	Transfer   time.Duration // sending the descriptors
	Total      time.Duration // from Handoff called to the child ready
}

// Handoff runs the new binary and gives it the state and descriptors. It
// returns once the child is ready and committed: the caller must then exit
// without touching the descriptors. On error nothing has changed for the
// caller, which resumes serving; the error says why.
func (u *Upgrader) Handoff(req Request) (*Result, error) {
	begin := time.Now()
	res := &Result{}
	stateFile, err := writeStateFile(u.opts.RunDir, req.State)
	if err != nil {
		return nil, err
	}
	defer os.Remove(stateFile) // the child removes it too, once restored
	res.StateWrite = time.Since(begin)

	token := randomHex(16)
	sockPath := filepath.Join(u.opts.RunDir, "handoff-"+randomHex(8)+".sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("handoff socket: %w", err)
	}
	defer ln.Close() // also unlinks the socket file
	_ = os.Chmod(sockPath, 0o600)

	hdr := Header{Mode: req.Mode, StateFile: stateFile, Started: req.Started, FromPID: os.Getpid(), FromVer: req.Version}
	commit := make(chan bool, 1)
	served := make(chan serveResult, 1)
	execStart := time.Now()
	go func() { served <- serve(ln, token, hdr, req.FDs, commit, execStart) }()

	// The child inherits the environment as it is when tableflip starts it,
	// which happens inside Upgrade; the variables are removed once it returns.
	os.Setenv(envHandoff, sockPath)
	os.Setenv(envToken, token)
	upErr := u.tf.Upgrade()
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	ln.Close()
	if upErr != nil {
		// tableflip leaves the parent's copies of the child's two pipe ends
		// open after a failed start; they are unreachable, so a collection
		// lets their finalizers close them instead of leaking two
		// descriptors per failed reboot.
		runtime.GC()
		commit <- false
		sr := <-served
		reason := upErr.Error()
		if sr.report.Error != "" {
			reason = "the new binary refused: " + sr.report.Error
		} else if sr.err != nil && sr.stage != "" {
			reason = fmt.Sprintf("%s (%s)", upErr, sr.stage)
		}
		return nil, errors.New(reason)
	}
	commit <- true
	sr := <-served
	res.Child = sr.report
	res.Exec, res.Transfer = sr.exec, sr.transfer
	res.Total = time.Since(begin)
	return res, nil
}

type serveResult struct {
	report   Report
	err      error
	stage    string // how far the child got, for error messages
	exec     time.Duration
	transfer time.Duration
}

// serve answers the one child of this reboot.
func serve(ln *net.UnixListener, token string, hdr Header, fds []int, commit <-chan bool, execStart time.Time) (sr serveResult) {
	sr.stage = "the new binary never asked for its state"
	c, err := ln.AcceptUnix()
	if err != nil {
		sr.err = err
		<-commit
		return sr
	}
	defer c.Close()
	sr.exec = time.Since(execStart)
	sr.stage = "the new binary failed before it was sent its state"
	if err := checkPeer(c); err != nil {
		sr.err = err
		<-commit
		return sr
	}
	rd := bufio.NewReader(c)
	var hello struct{ Token string }
	if err := readJSONLine(rd, &hello); err != nil || hello.Token != token {
		sr.err = errors.New("handoff: bad hello from the new binary")
		<-commit
		return sr
	}
	data, _ := json.Marshal(hdr)
	t0 := time.Now()
	if err := fdpass.Send(c, data, fds); err != nil {
		sr.err = err
		<-commit
		return sr
	}
	sr.transfer = time.Since(t0)
	sr.stage = "the new binary failed while restoring"
	if err := readJSONLine(rd, &sr.report); err != nil {
		sr.err = err
		<-commit
		return sr
	}
	sr.stage = ""
	if ok := <-commit; ok {
		_, _ = c.Write([]byte("{\"Commit\":true}\n"))
	}
	return sr
}

// checkPeer accepts only a process of our own user.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return credErr
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("handoff: peer uid %d is not ours", cred.Uid)
	}
	return nil
}

func readJSONLine(rd *bufio.Reader, v any) error {
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
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

	u    *Upgrader
	conn *net.UnixConn
	rd   *bufio.Reader
}

// Receive fetches the state and descriptors from the previous generation.
// It returns (nil, nil) for a cold start.
func (u *Upgrader) Receive(timeout time.Duration) (*Incoming, error) {
	path := os.Getenv(envHandoff)
	token := os.Getenv(envToken)
	os.Unsetenv(envHandoff)
	os.Unsetenv(envToken)
	if !u.HasParent() || path == "" {
		return nil, nil
	}
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	uc := c.(*net.UnixConn)
	_ = uc.SetDeadline(time.Now().Add(timeout))
	hello, _ := json.Marshal(struct{ Token string }{token})
	if _, err := uc.Write(append(hello, '\n')); err != nil {
		uc.Close()
		return nil, fmt.Errorf("handoff: %w", err)
	}
	data, fds, err := fdpass.Recv(uc, maxHeader)
	if err != nil {
		uc.Close()
		return nil, err
	}
	in := &Incoming{u: u, conn: uc, rd: bufio.NewReader(uc), FDs: fds}
	if err := json.Unmarshal(data, &in.Header); err != nil {
		in.Reject(fmt.Errorf("bad handoff header: %w", err))
		return nil, err
	}
	if filepath.Dir(in.Header.StateFile) != filepath.Clean(u.opts.RunDir) {
		err := fmt.Errorf("state file %q is outside the run directory", in.Header.StateFile)
		in.Reject(err)
		return nil, err
	}
	in.State, err = os.ReadFile(in.Header.StateFile)
	if err != nil {
		in.Reject(err)
		return nil, err
	}
	_ = uc.SetDeadline(time.Time{})
	return in, nil
}

// Reject tells the old generation why this one cannot take over. The
// caller then exits; the old generation resumes.
func (in *Incoming) Reject(reason error) {
	r := Report{OK: false, Error: reason.Error(), PID: os.Getpid()}
	b, _ := json.Marshal(r)
	_, _ = in.conn.Write(append(b, '\n'))
	in.conn.Close()
	for _, fd := range in.FDs {
		unix.Close(fd) // close, never shut down: they are not ours to end
	}
}

// Ready reports a successful restore, marks this generation ready, and
// waits for the old one to commit. Only after Ready returns nil may the
// descriptors be read or written: until then the old generation can still
// roll back (it kills this process if so).
func (in *Incoming) Ready(r Report, wait time.Duration) error {
	r.OK, r.PID = true, os.Getpid()
	b, _ := json.Marshal(r)
	if _, err := in.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("handoff: report: %w", err)
	}
	if err := in.u.tf.Ready(); err != nil {
		return err
	}
	_ = in.conn.SetReadDeadline(time.Now().Add(wait))
	var commit struct{ Commit bool }
	err := readJSONLine(in.rd, &commit)
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
	if !commit.Commit {
		return errors.New("handoff: the old generation rolled back")
	}
	return nil
}
