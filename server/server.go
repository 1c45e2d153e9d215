package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"talker/server/conn"
	"talker/server/store"
)

// Server is a running talker: a listener, the world and the database. Its
// shape follows net/http's Server: New, then Serve (blocks), then Shutdown
// from another goroutine.
type Server struct {
	cfg   Config
	store *store.Store
	world *World

	nextConn atomic.Uint64

	mu        sync.Mutex
	listeners []net.Listener
	serving   bool
	shutdown  bool
	worldDone chan struct{}
}

// New opens the database in cfg.DataDir, runs (or resumes) the initial
// setup and loads the world. It does not listen yet.
func New(cfg Config) (*Server, error) {
	cfg.fillDefaults()
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := RunSetup(&cfg, st); err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, store: st, worldDone: make(chan struct{})}
	w, err := newWorld(&s.cfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.world = w
	// Connection ids only need to be unique within this process for now;
	// start from the clock so that logs from different runs do not reuse them.
	s.nextConn.Store(uint64(time.Now().Unix()) << 20)
	go func() {
		w.run()
		close(s.worldDone)
	}()
	return s, nil
}

// Store gives access to the database (for tools and tests).
func (s *Server) Store() *store.Store { return s.store }

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("talker: server closed")

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.cfg.Log.Info().Str("addr", ln.Addr().String()).Msg("listening")
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isShutdown() {
				return ErrServerClosed
			}
			// Running out of descriptors must not end the talker: wait a
			// little and try again, as net/http does.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		backoff = 0
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			nc.Close()
			continue
		}
		id := s.nextConn.Add(1)
		c := conn.New(id, tc, s.cfg.Limits, s.deliver)
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

// Shutdown stops the talker cleanly: no new connections, every player is
// told, saved and disconnected after their output is sent, and the database
// is closed. It returns when all that is done or ctx expires.
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
	if message == "" {
		message = "The talker is shutting down. See you soon!"
	}
	var closing []*conn.Conn
	s.world.do(func(w *World) { closing = w.shutdown(message) })
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
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	s.cfg.Log.Info().Msg("talker stopped")
	return err
}

// shutdown tells everyone and closes every session; the world loop ends
// when the last one has gone.
func (w *World) shutdown(message string) []*conn.Conn {
	w.stopping = true
	var closing []*conn.Conn
	for _, s := range w.sessions {
		s.println("*** " + message)
	}
	for _, s := range w.sessions {
		closing = append(closing, s.conn)
		w.closeSession(s, "shutdown")
	}
	return closing
}

// Do runs fn on the world goroutine and waits for it. Tests and admin tools
// use it to look at the world without racing it.
func (s *Server) Do(fn func(*World)) { s.world.do(fn) }
