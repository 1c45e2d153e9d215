package server

import (
	"testing"

	"talker/player"
	"talker/server/talkertest"
)

// account creates an account of the given rank directly in the database
// and returns a client logged in to it (password "secret-<name>").
func (ts *testServer) account(name string, rank player.Rank) *talkertest.Client {
	ts.t.Helper()
	if _, err := CreateAccount(&ts.cfg, ts.srv.Store(), name, "secret-"+name, rank); err != nil {
		ts.t.Fatalf("create %s: %v", name, err)
	}
	return ts.login(name)
}

// login logs an existing account in (password "secret-<name>").
func (ts *testServer) login(name string) *talkertest.Client {
	ts.t.Helper()
	c := ts.dial()
	c.Login(name, "secret-"+name)
	return c
}

// player reads a stored player record.
func (ts *testServer) player(t *testing.T, name string) *player.Player {
	t.Helper()
	p, err := ts.srv.Store().Player(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return p
}
