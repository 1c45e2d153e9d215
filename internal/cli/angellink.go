package cli

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel"
	"talker/angel/link"
	"talker/server"
	"talker/state"
)

// envConsole=0 tells a talker started by a detached angel not to write its
// readable log to stderr (which is then a file for crash output only).
const envConsole = "TALKER_CONSOLE"

// angelClient is a talker's link to its angel, if it has one ($TALKER_ANGEL,
// set by the angel and inherited by every generation a reboot starts).
// Its methods are no-ops without an angel.
type angelClient struct {
	c      atomic.Pointer[link.Client] // set once the generation serves; read by the world's heartbeat
	hello  link.Hello
	sock   string
	holder *link.Holder
}

func startAngelLink(cfg *server.Config, listen string) *angelClient {
	sock := os.Getenv(angel.EnvSocket)
	a := &angelClient{sock: sock}
	if sock == "" {
		return a
	}
	cfg.Journal = true // the angel takes the crash journal (server/journal.go)
	// TALKER_NO_JOURNAL=1 runs without it, to measure what it costs
	// (README, Measured); crashes then lose what the checkpoints lack.
	cfg.NoJournal = os.Getenv("TALKER_NO_JOURNAL") == "1"
	start, _ := link.StartTime(os.Getpid())
	a.hello = link.Hello{PID: os.Getpid(), StartTime: start, Version: cfg.Version, Listen: listen}
	// Heartbeats come from the world's own loop: a hung loop stops them.
	cfg.Heartbeat = func(tick uint64) {
		if c := a.c.Load(); c != nil {
			c.Beat(tick)
		}
	}
	return a
}

// Start connects (and keeps reconnecting) once the generation is serving.
func (a *angelClient) Start(generation int) {
	if a.sock == "" {
		return
	}
	a.hello.Generation = generation
	c := link.NewClient(a.sock, a.hello)
	a.c.Store(c)
	go c.Run()
}

// Hold starts the hold channel: the angel keeps a duplicate of every
// listener and player socket and each session's checkpoint, so that a
// crash of this process, however hard, disconnects nobody.
//
// A generation that took over from a live one (tookOver: a staged
// handoff, never the angel's recovery) waits a moment before its first
// full sync: the angel still holds the previous generation's duplicates of
// the same sockets and their checkpoints, and the sync of every connection
// would compete with the players' first moments after the reboot.
func (a *angelClient) Hold(srv *server.Server, listeners map[string]net.Listener, tookOver bool) {
	if a.sock == "" {
		return
	}
	a.holder = link.NewHolder(a.sock, os.Getpid(), holdSource{srv: srv, listeners: listeners})
	if tookOver {
		a.holder.DelayFirstSync(500 * time.Millisecond)
	}
	srv.SetHolder(a.holder)
	go a.holder.Run()
}

// holdSource gives the hold channel what a full sync needs.
type holdSource struct {
	srv       *server.Server
	listeners map[string]net.Listener
}

func (h holdSource) Listeners() (names []string, fds []int) {
	for name, ln := range h.listeners {
		if fd, err := dupListener(ln); err == nil {
			names, fds = append(names, name), append(fds, fd)
		}
	}
	return names, fds
}

func (h holdSource) Checkpoint() (json.RawMessage, []uint64) { return h.srv.FullCheckpoint() }

// CheckpointNumber numbers the full sync's checkpoint for the crash
// journal (server/journal.go).
func (h holdSource) CheckpointNumber() uint64 { return h.srv.CheckpointNumber() }

// SyncHeld: the angel has the full sync and the journal (readers may peek).
func (h holdSource) SyncHeld() { h.srv.SyncHeld() }

func (h holdSource) Dup(ids []uint64) ([]uint64, []int, map[uint64]state.Record) {
	return h.srv.DupConns(ids)
}

func dupListener(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1, errors.New("listener has no descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	dup := -1
	var dupErr error
	if err := raw.Control(func(fd uintptr) { dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return dup, dupErr
}

func (a *angelClient) Bye(reason link.ByeReason, next int) {
	if c := a.c.Load(); c != nil {
		c.Bye(reason, next)
	}
	a.closeHolder()
}

func (a *angelClient) Close() {
	if c := a.c.Load(); c != nil {
		c.Close()
	}
	a.closeHolder()
}

func (a *angelClient) closeHolder() {
	if a.holder != nil {
		a.holder.Close()
	}
}
