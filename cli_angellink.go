package main

import (
	"os"
	"sync/atomic"

	"talker/angel"
	"talker/angel/link"
	"talker/server"
)

// envConsole=0 tells a talker started by a detached angel not to write its
// readable log to stderr (which is then a file for crash output only).
const envConsole = "TALKER_CONSOLE"

// angelClient is a talker's link to its angel, if it has one ($TALKER_ANGEL,
// set by the angel and inherited by every generation a reboot starts).
// Its methods are no-ops without an angel.
type angelClient struct {
	c     atomic.Pointer[link.Client] // set once the generation serves; read by the world's heartbeat
	hello link.Hello
	sock  string
}

func startAngelLink(cfg *server.Config, listen string) *angelClient {
	sock := os.Getenv(angel.EnvSocket)
	a := &angelClient{sock: sock}
	if sock == "" {
		return a
	}
	start, _ := link.StartTime(os.Getpid())
	a.hello = link.Hello{PID: os.Getpid(), StartTime: start, Version: version, Listen: listen}
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

func (a *angelClient) Bye(reason string, next int) {
	if c := a.c.Load(); c != nil {
		c.Bye(reason, next)
	}
}

func (a *angelClient) Close() {
	if c := a.c.Load(); c != nil {
		c.Close()
	}
}
