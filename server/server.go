package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"talker/reboot"
	"talker/server/conn"
	"talker/server/store"
)

// Server is a running talker: listeners, the world and the database. Its
// shape follows net/http's Server: New (or Restore), then Serve (blocks),
// then Shutdown from another goroutine.
type Server struct {
	cfg   Config
	store *store.Store
	world *World

	nextConn atomic.Uint64
	gate     acceptGate
	// connLimits are the limits new connections get: the accept loops
	// read them while a configuration reload (on the world's goroutine)
	// may replace them.
	connLimits atomic.Pointer[conn.Limits]

	mu        sync.Mutex
	listeners []net.Listener
	shutdown  bool
	worldDone chan struct{}

	rebootMu   sync.Mutex // held for the whole of a reboot
	handedOver chan struct{}

	controlState
}

// metaStopMode is where the mode of the last stop is stored durably.
const metaStopMode = "stop_mode"

// open builds a server, not yet running, on an open store (which it then
// owns).
func open(cfg *Config, st *store.Store) (*Server, error) {
	cfg.fillDefaults()
	if n := st.SchemaAhead(); n > 0 {
		// A reboot back to an older build, or a rollback after a newer
		// build's additive migration: fine, but an admin should know.
		cfg.Log.Info().Int("versions_ahead", n).Msg("the database schema is ahead of this build (a newer build changed it, compatibly); using it")
	}
	s := &Server{cfg: *cfg, store: st, worldDone: make(chan struct{}), handedOver: make(chan struct{})}
	s.stopAsked = make(chan struct{})
	limits := s.cfg.Limits
	s.connLimits.Store(&limits)
	s.gate.init()
	w, err := newWorld(&s.cfg, st, &s.nextConn)
	if err != nil {
		st.Close()
		return nil, err
	}
	w.doReboot = s.Reboot
	w.doReload = s.ReloadConfig
	// An in-game shutdown ends the way `talker stop` does: the program
	// watching ShutdownRequested calls Shutdown, which does not tell the
	// players again what the in-game shutdown has just told them.
	w.requestStop = func() {
		s.stopAnnounced.Store(true)
		s.stopOnce.Do(func() { close(s.stopAsked) })
	}
	s.world = w
	return s, nil
}

// Start starts this process's talker: cold when in is nil (a first start,
// or the angel's restart with nothing to hand over), else taking over from
// the previous generation or the angel (reboot_child.go). It does not
// listen yet. On error the reason is in the log (and, taking over, was told
// to whoever handed over, who carries on) and the process should exit.
func Start(cfg Config, upg *reboot.Upgrader, in *reboot.Incoming) (*Server, error) {
	if in != nil {
		return takeOver(cfg, upg, in)
	}
	srv, err := New(cfg)
	if err != nil {
		cfg.Log.Error().Err(err).Msg("cannot start")
		return nil, err
	}
	if err := upg.Ready(); err != nil {
		cfg.Log.Error().Err(err).Msg("cannot mark ready")
	}
	return srv, nil
}

// New opens the database in cfg.DataDir, runs (or resumes) the initial
// setup, loads the world and runs the start hooks: a cold start. It does
// not listen yet.
func New(cfg Config) (*Server, error) {
	cfg.fillDefaults()
	st, err := store.OpenWith(cfg.DataDir, cfg.Migrations, cfg.Faults.FutureMigrations...)
	if err != nil {
		return nil, err
	}
	if err := RunSetup(&cfg, st); err != nil {
		st.Close()
		return nil, err
	}
	s, err := open(&cfg, st)
	if err != nil {
		return nil, err
	}
	mode := reboot.ModeCold
	switch last, _, _ := s.store.Meta(metaStopMode); reboot.Mode(last) {
	case reboot.ModeRunning:
		// The previous generation never recorded a stop: it crashed.
		mode = reboot.ModeCrash
		cfg.Log.Warn().Msg("the previous run did not stop cleanly (crash or kill)")
	case reboot.ModeRestart:
		mode = reboot.ModeRestart
	case reboot.ModeReboot, reboot.ModeReset, reboot.ModeRecover:
		// A handoff was under way and no generation came out of it.
		mode = reboot.ModeCrash
		cfg.Log.Warn().Str("during", last).Msg("the previous run died during a reboot")
	}
	now := s.cfg.Now()
	s.world.system = SystemState{Generation: 1, ColdStartedAt: now, StartedAt: now}
	// Connection ids only need to be unique within a talker's lifetime;
	// starting from the clock keeps them distinct across cold starts too.
	s.nextConn.Store(uint64(now.Unix()) << 20)
	if err := s.world.runStartHooks(mode); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("start hooks: %w", err)
	}
	s.markRunning()
	s.startWorld()
	return s, nil
}

func (s *Server) markRunning() {
	if err := s.store.SetMeta(metaStopMode, string(reboot.ModeRunning)); err != nil {
		s.cfg.Log.Error().Err(err).Msg("could not record the run mode")
	}
}

func (s *Server) startWorld() {
	go func() {
		s.world.run()
		close(s.worldDone)
	}()
}

// Store gives access to the database (for tools and tests).
func (s *Server) Store() *store.Store { return s.store }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("talker: server closed")

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeBehindProxy is Serve for a listener behind a proxy: each connection
// must start with a PROXY protocol header, whose client address it takes
// (proxy.go).
func (s *Server) ServeBehindProxy(ln net.Listener) error { return s.serve(ln, true) }

// acceptFailed decides what a failed Accept on any of the listeners
// (telnet, TLS, web) means: nil to accept again (paused for a reboot, the
// connections waiting in the backlog; or out of descriptors, after a
// back-off, as net/http does, since that must not end the talker), or the
// error that ends the accept loop. logMsg names the listener in the log.
func (s *Server) acceptFailed(err error, backoff *time.Duration, logMsg string) error {
	if s.isShutdown() {
		return ErrServerClosed
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && s.gate.isPaused() {
		return nil
	}
	if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
		*backoff = min(max(2**backoff, 5*time.Millisecond), time.Second)
		s.cfg.Log.Warn().Err(err).Dur("retry_in", *backoff).Msg(logMsg)
		time.Sleep(*backoff)
		return nil
	}
	return fmt.Errorf("accept: %w", err)
}

func (s *Server) serve(ln net.Listener, behindProxy bool) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.gate.add()
	defer s.gate.remove()
	s.cfg.Log.Info().Str("addr", ln.Addr().String()).Msg("listening")
	var backoff time.Duration
	for {
		s.gate.wait()
		nc, err := ln.Accept()
		if err != nil {
			if err = s.acceptFailed(err, &backoff, "accept failed"); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			nc.Close()
			continue
		}
		var realAddr string
		if behindProxy {
			if realAddr, err = readProxyHeader(tc); err != nil {
				s.cfg.Log.Warn().Err(err).Str("proxy", tc.RemoteAddr().String()).Msg("connection refused: no valid PROXY header")
				tc.Close()
				continue
			}
		}
		id := s.nextConn.Add(1)
		c := conn.NewWithPanics(id, tc, *s.connLimits.Load(), s.deliver, s.world.reportPanic)
		if realAddr != "" {
			c.Addr = realAddr
		}
		select {
		case s.world.events <- accepted{c: c}:
		case <-s.worldDone:
			tc.Close()
			return ErrServerClosed
		}
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) deliver(in conn.Input) {
	select {
	case s.world.events <- in:
	case <-s.worldDone:
	}
}

func (s *Server) isShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// pauseAccept stops every accept loop and waits until they have parked:
// after it returns, no new connection reaches the world until
// resumeAccept. Connections arriving meanwhile wait in the backlog.
func (s *Server) pauseAccept() {
	s.gate.pause()
	s.mu.Lock()
	for _, ln := range s.listeners {
		if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
			_ = d.SetDeadline(time.Unix(1, 0))
		}
	}
	s.mu.Unlock()
	s.gate.waitParked()
}

func (s *Server) resumeAccept() {
	s.mu.Lock()
	for _, ln := range s.listeners {
		if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
			_ = d.SetDeadline(time.Time{})
		}
	}
	s.mu.Unlock()
	s.gate.resume()
}

// Shutdown stops the talker cleanly: no new connections, the stop hooks
// run, every player is told, saved and disconnected after their output is
// sent, the stop is recorded and the database closed. It returns when all
// that is done or ctx expires.
func (s *Server) Shutdown(ctx context.Context, message string) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		<-s.worldDone
		return nil
	}
	s.shutdown = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.gate.resume() // let paused accept loops see the shutdown
	if message == "" && !s.stopAnnounced.Load() {
		message = "The talker is shutting down. See you soon!"
	}
	var closing []*conn.Conn
	s.world.do(func(w *World) {
		if err := w.runStopHooks(reboot.ModeShutdown); err != nil {
			w.log.Error().Err(err).Msg("stop hooks")
		}
		closing = w.shutdown(message)
	})
	var err error
	for _, c := range closing {
		select {
		case <-c.Done():
		case <-ctx.Done():
			err = fmt.Errorf("shutdown: %w (connections still closing)", ctx.Err())
		}
		if err != nil {
			break
		}
	}
	<-s.worldDone
	if merr := s.store.SetMeta(metaStopMode, string(reboot.ModeShutdown)); merr != nil && err == nil {
		err = merr
	}
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	s.cfg.Log.Info().Msg("talker stopped")
	return err
}

// shutdown tells everyone and closes every session; the world loop ends
// when the last one has gone.
func (w *World) shutdown(message string) []*conn.Conn {
	w.phase = phaseStopping
	w.countdown = nil
	w.shutdownCountdown = nil
	var closing []*conn.Conn
	for _, s := range w.sessions {
		if message != "" { // "": they have been told (shutdownNow)
			s.println("*** " + message)
		}
	}
	for _, s := range w.sessions {
		closing = append(closing, s.conn)
		w.closeSession(s, closeShutdown)
	}
	w.endAllLinkDead(closeShutdown)
	return closing
}

// Do runs fn on the world goroutine and waits for it. Tests and admin tools
// use it to look at the world without racing it.
func (s *Server) Do(fn func(*World)) { s.world.do(fn) }

func pid() int { return os.Getpid() }

// acceptGate lets a reboot pause the accept loops and know they have
// stopped.
type acceptGate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	loops  int // accept loops running
	parked int // accept loops waiting at the gate
}

func (g *acceptGate) init() { g.cond = sync.NewCond(&g.mu) }

func (g *acceptGate) add() {
	g.mu.Lock()
	g.loops++
	g.mu.Unlock()
}

func (g *acceptGate) remove() {
	g.mu.Lock()
	g.loops--
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *acceptGate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// wait blocks an accept loop while the gate is paused.
func (g *acceptGate) wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		return
	}
	g.parked++
	g.cond.Broadcast()
	for g.paused {
		g.cond.Wait()
	}
	g.parked--
}

func (g *acceptGate) pause() {
	g.mu.Lock()
	g.paused = true
	g.mu.Unlock()
}

func (g *acceptGate) waitParked() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.parked < g.loops {
		g.cond.Wait()
	}
}

func (g *acceptGate) resume() {
	g.mu.Lock()
	g.paused = false
	g.cond.Broadcast()
	g.mu.Unlock()
}
