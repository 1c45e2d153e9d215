package server

import (
	"context"
	"net"
	"testing"
	"time"

	"talker/server/talkertest"
)

// testServer is an in-process talker on 127.0.0.1 with a temporary data
// directory and a cheap password hash.
type testServer struct {
	t    testing.TB
	srv  *Server
	addr string
	cfg  Config
}

func startServer(t testing.TB, mod ...func(*Config)) *testServer {
	t.Helper()
	return startServerIn(t, t.TempDir(), mod...)
}

func startServerIn(t testing.TB, dir string, mod ...func(*Config)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.HashCost = 4
	cfg.MaxPerAddress = 0
	cfg.NewAccountsPerHour = 0 // every test client is 127.0.0.1
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	ts := &testServer{t: t, srv: srv, addr: ln.Addr().String(), cfg: cfg}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx, ""); err != nil {
		ts.t.Errorf("shutdown: %v", err)
	}
}

func (ts *testServer) dial(opts ...talkertest.Options) *talkertest.Client {
	o := talkertest.Options{Width: 200, Height: 50}
	if len(opts) > 0 {
		o = opts[0]
	}
	return talkertest.Dial(ts.t, ts.addr, o)
}

// newPlayer registers a new account and returns its logged-in client.
func (ts *testServer) newPlayer(name string) *talkertest.Client {
	c := ts.dial()
	c.Register(name, "secret-"+name)
	return c
}
