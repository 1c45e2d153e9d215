package reboot

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cloudflare/tableflip"
)

// Options configure the process's Upgrader.
type Options struct {
	// RunDir is a private (0700) directory for the handoff socket and the
	// state files. It is created if needed.
	RunDir string
	// PIDFile receives the pid of the generation that is ready.
	PIDFile string
	// ReadyTimeout is how long a new binary may go without making
	// progress before it is killed and the old generation resumes: to
	// start and connect, to take each batch of staged sockets, and to
	// restore the state and become ready. It judges a child that stops
	// answering, not the size of the crowd: a reboot of 10,000 players
	// takes several of them in all.
	ReadyTimeout time.Duration
}

// DefaultReadyTimeout is the default for Options.ReadyTimeout.
const DefaultReadyTimeout = 5 * time.Second

// Backstop is the longest a whole reboot attempt may take, however much
// progress it makes: tableflip's own timeout, which kills a child that
// has not become ready by then. It is far beyond what any crowd needs
// (10,000 players' staging takes 3 to 4 s on a 2-core machine) and only ends an
// attempt that our progress checks somehow failed to end.
func (o Options) Backstop() time.Duration { return max(5*time.Minute, 4*o.ReadyTimeout) }

// Upgrader is the process's one handle on reboots. The first generation
// creates listeners through it; a later generation inherits them.
type Upgrader struct {
	tf   *tableflip.Upgrader
	opts Options
	// handedListeners came with a handoff from the angel (not inherited
	// from a tableflip parent), by "network:address".
	handedListeners map[string]net.Listener
}

// New creates the Upgrader. Only one may exist in a process.
func New(opts Options) (*Upgrader, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if err := os.MkdirAll(opts.RunDir, 0o700); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	if err := os.Chmod(opts.RunDir, 0o700); err != nil {
		return nil, err
	}
	sweepStale(opts.RunDir, staleAfter, time.Now())
	// tableflip's own timeout only backs ours up: the handoff enforces
	// ReadyTimeout itself, step by step, with a reason to report.
	tf, err := tableflip.New(tableflip.Options{UpgradeTimeout: opts.Backstop(), PIDFile: opts.PIDFile})
	if err != nil {
		return nil, err
	}
	return &Upgrader{tf: tf, opts: opts}, nil
}

// HasParent reports whether this process was started by a reboot.
func (u *Upgrader) HasParent() bool { return u.tf.HasParent() }

// Listen returns the inherited listener for network and address, or makes a
// new one. Listeners made here are passed to every later generation, so
// connections that arrive during a reboot wait in the backlog.
func (u *Upgrader) Listen(network, addr string) (net.Listener, error) {
	if ln := u.handedListeners[network+":"+addr]; ln != nil {
		delete(u.handedListeners, network+":"+addr)
		// Registered with tableflip, so that the next reboot passes it on.
		if tl, ok := ln.(tableflip.Listener); ok {
			if err := u.tf.Fds.AddListener(network, addr, tl); err != nil {
				return nil, err
			}
		}
		return ln, nil
	}
	if network == "unix" {
		// A stale socket file from a process that died would make the bind
		// fail; remove it unless a listener is being inherited.
		if ln, err := u.tf.Fds.Listener(network, addr); err != nil || ln != nil {
			return ln, err
		}
		_ = os.Remove(addr)
		ln, err := u.tf.Fds.Listen(network, addr)
		if err == nil {
			_ = os.Chmod(addr, 0o600)
		}
		return ln, err
	}
	return u.tf.Fds.Listen(network, addr)
}

// Ready marks this generation as serving: unclaimed inherited descriptors
// are closed and the pid file written. For a cold start it is all there
// is; after a reboot, call Incoming.Ready instead.
func (u *Upgrader) Ready() error { return u.tf.Ready() }

// Exit is closed when this process has handed over and must exit.
func (u *Upgrader) Exit() <-chan struct{} { return u.tf.Exit() }

// Stop gives up on reboots (the process is shutting down for good).
func (u *Upgrader) Stop() { u.tf.Stop() }

// WaitForParent waits until the previous generation has exited; a reboot
// cannot start before that.
func (u *Upgrader) WaitForParent(ctx context.Context) error { return u.tf.WaitForParent(ctx) }

// Executable is the binary a reboot runs: the path this process was
// started as (not /proc/self/exe, which resolves symlinks and pins the old
// build), looked up again so that a rebuilt binary is picked up.
func Executable() (string, error) {
	path, err := exec.LookPath(os.Args[0])
	if err != nil {
		return "", err
	}
	return filepath.Abs(path)
}

// Preflight checks that the binary a reboot would run exists and is
// executable, so that an obvious mistake is reported before anything is
// quiesced.
func Preflight() (string, error) {
	path, err := Executable()
	if err != nil {
		return "", fmt.Errorf("new binary: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("new binary: %w", err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("new binary %s is not executable", path)
	}
	return path, nil
}

// adoptListeners wraps listening sockets received in a handoff.
func (u *Upgrader) adoptListeners(names []string, fds []int) error {
	u.handedListeners = map[string]net.Listener{}
	for i, name := range names {
		f := os.NewFile(uintptr(fds[i]), name)
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("handed-over listener %s: %w", name, err)
		}
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		u.handedListeners[name] = ln
	}
	return nil
}

// CloseUnused closes handed-over listeners nobody asked for.
func (u *Upgrader) CloseUnused() {
	for name, ln := range u.handedListeners {
		ln.Close()
		delete(u.handedListeners, name)
	}
}
