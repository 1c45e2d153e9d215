package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"talker/ipc"
	"talker/reboot"
)

// The control socket lets the launcher (`talker reboot`, `talker status`,
// ...) talk to a running talker. It is a Unix socket in the data directory,
// mode 0600, and every peer's uid is checked against ours. The protocol is
// one JSON object per line each way.

// ControlRequest is one command from the launcher.
type ControlRequest struct {
	Cmd    string // "status", "reboot", "reset", "restart", "shutdown", "config-reload", "account-..."
	Reason string `json:",omitempty"`
	By     string `json:",omitempty"`
	// The account commands (`talker account ...`: account-list, -show,
	// -passwd, -delete, -rename; accounts.go): the account, its new name,
	// a new password as a hash (the launcher hashes it, so the talker
	// never sees it), and whether that is a one-time password.
	Name      string `json:",omitempty"`
	NewName   string `json:",omitempty"`
	Hash      string `json:",omitempty"`
	Temporary bool   `json:",omitempty"`
}

// ControlReply answers it.
type ControlReply struct {
	OK      bool
	Error   string         `json:",omitempty"`
	Status  *Status        `json:",omitempty"`
	Timings *RebootTimings `json:",omitempty"`
	Reload  *ReloadReport  `json:",omitempty"`
	// Accounts are what account-list and account-show found; Name is an
	// account's name after account-rename.
	Accounts []AccountInfo `json:",omitempty"`
	Name     string        `json:",omitempty"`
}

// Status is what `talker status` shows about the talker.
type Status struct {
	PID           int
	Version       string
	Generation    int
	ColdStartedAt time.Time
	StartedAt     time.Time
	Reboots       int
	LastReboot    *RebootTimings `json:",omitempty"`
	Players       int
	Connections   int
	Listening     []string
	// ConnectionsByKind and ListeningByKind split Connections and
	// Listening by kind of door (doors.go: telnet, tls, web, web_tls).
	ConnectionsByKind map[string]int      `json:",omitempty"`
	ListeningByKind   map[string][]string `json:",omitempty"`
	Countdown         string              `json:",omitempty"`
	// RebootWithin bounds how long a reboot asked for now can take to
	// answer (success or rollback): a launcher waits at least this long.
	RebootWithin time.Duration `json:",omitempty"`
}

// Status reports on the running talker.
func (s *Server) Status() Status {
	// A reboot may wait a ready timeout for the previous generation to
	// exit; the new one then has a ready timeout for each step it takes,
	// as many as the crowd needs, up to the backstop; killing it takes up
	// to 2 s more. (It answers as soon as it is over: this bounds only a
	// talker that never does.)
	backstop := reboot.Options{ReadyTimeout: s.cfg.ReadyTimeout}.Backstop()
	st := Status{PID: os.Getpid(), Version: s.cfg.Version, RebootWithin: s.cfg.ReadyTimeout + backstop + 5*time.Second}
	s.mu.Lock()
	st.Listening, st.ListeningByKind = listenerDoors(s.listeners) // doors.go
	s.mu.Unlock()
	s.world.doFirst(func(w *World) {
		st.Generation = w.system.Generation
		st.ColdStartedAt, st.StartedAt = w.system.ColdStartedAt, w.system.StartedAt
		st.Reboots, st.LastReboot = w.system.Reboots, w.system.LastReboot
		st.Players, st.Connections = len(w.online), len(w.sessions)
		st.ConnectionsByKind = w.connectionsByDoor() // doors.go
		if c := w.countdown; c != nil {
			st.Countdown = string(c.Mode) + " in " + ago(c.At.Sub(w.cfg.Now()).Round(time.Second))
		} else if c := w.shutdownCountdown; c != nil {
			st.Countdown = "shutdown in " + ago(c.At.Sub(w.cfg.Now()).Round(time.Second))
		}
	})
	return st
}

// ShutdownRequested is closed when the launcher asks the talker to stop;
// the program then calls Shutdown.
func (s *Server) ShutdownRequested() <-chan struct{} { return s.stopAsked }

// ServeControl answers launcher commands on ln until it is closed (by
// Shutdown, or by a reboot that handed over: the listener is shared with
// the new generation, which must answer from then on).
func (s *Server) ServeControl(ln net.Listener) error {
	s.mu.Lock()
	s.controlListeners = append(s.controlListeners, ln)
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isShutdown() || errors.Is(err, net.ErrClosed) || isClosed(s.handedOver) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.controlWG.Add(1)
		go func() {
			defer s.controlWG.Done()
			s.control(c)
		}()
	}
}

// WaitControl waits (at most d) for control commands in progress, so that
// a generation that has handed over still answers the `talker reboot` that
// asked for it.
func (s *Server) WaitControl(d time.Duration) {
	done := make(chan struct{})
	go func() { s.controlWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (s *Server) control(c net.Conn) {
	defer c.Close()
	if err := ipc.SameUser(c); err != nil {
		s.cfg.Log.Warn().Err(err).Msg("control connection refused")
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req ControlRequest
	reply := ControlReply{}
	err := ipc.NewLineReader(c, 0).ReadJSON(&req)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, ipc.ErrLineTooLong):
		reply.Error = "bad request: " + err.Error()
	case err != nil:
		return // the launcher went away
	default:
		_ = c.SetReadDeadline(time.Time{})
		reply = s.handleControl(req)
	}
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = ipc.WriteJSON(c, reply)
}

func (s *Server) handleControl(req ControlRequest) ControlReply {
	by := req.By
	if by == "" {
		by = "console"
	}
	switch req.Cmd {
	case "status":
		st := s.Status()
		return ControlReply{OK: true, Status: &st}
	case "reboot", "reset", "restart":
		mode := reboot.Mode(req.Cmd)
		t, err := s.Reboot(RebootRequest{Mode: mode, Reason: req.Reason, By: by})
		if err != nil {
			return ControlReply{Error: err.Error()}
		}
		return ControlReply{OK: true, Timings: t}
	case "shutdown":
		s.stopOnce.Do(func() { close(s.stopAsked) })
		return ControlReply{OK: true}
	case "config-reload":
		rep, err := s.ReloadConfig(by)
		if err != nil {
			return ControlReply{Error: err.Error()}
		}
		return ControlReply{OK: true, Reload: &rep}
	case "account-list", "account-show", "account-passwd", "account-delete", "account-rename":
		return s.accountControl(req, by)
	}
	return ControlReply{Error: fmt.Sprintf("unknown command %q", req.Cmd)}
}

// controlState is the part of Server the control socket needs.
type controlState struct {
	controlWG        sync.WaitGroup
	stopAsked        chan struct{}
	stopOnce         sync.Once
	stopAnnounced    atomic.Bool    // the in-game shutdown has told everyone already
	controlListeners []net.Listener // guarded by Server.mu
}

// closeControl stops answering on the control socket in this process.
func (s *Server) closeControl() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.controlListeners {
		ln.Close()
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// LastRebootPID is the pid of the generation the last reboot handed over
// to (0 if none).
func (st Status) LastRebootPID() int {
	if st.LastReboot == nil {
		return 0
	}
	return st.LastReboot.ToPID
}
