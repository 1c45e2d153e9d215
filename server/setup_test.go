package server

import (
	"errors"
	"testing"

	"talker/player"
	"talker/server/store"
)

func TestSetupResumesAtTheFailedStep(t *testing.T) {
	dir := t.TempDir()
	asked := 0
	hookRuns := 0
	failHook := true
	cfg := DefaultConfig()
	cfg.DataDir, cfg.HashCost = dir, 4
	cfg.AskAdmin = func() (string, string, error) {
		asked++
		return "Boss", "boss-password", nil
	}
	cfg.Setup = func(st *store.Store) error {
		hookRuns++
		if failHook {
			return errors.New("owner hook broke")
		}
		return st.SaveRoom(&store.Room{ID: "attic", Name: "The Attic"})
	}
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded although the setup hook failed")
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	step, _, _ := st.Meta(metaSetupStep)
	st.Close()
	if step != "first-admin" {
		t.Fatalf("recorded step %q, want first-admin (the last one that finished)", step)
	}
	failHook = false
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context(), "")
	if asked != 1 {
		t.Errorf("admin prompt ran %d times, want once (steps already done must not re-run)", asked)
	}
	if hookRuns != 2 {
		t.Errorf("owner hook ran %d times, want 2 (failed, then resumed)", hookRuns)
	}
	p, err := srv.Store().Player("boss")
	if err != nil || p.Rank != player.Admin {
		t.Fatalf("first admin not created: %v %+v", err, p)
	}
	rooms, _ := srv.Store().Rooms()
	if len(rooms) != 4 {
		t.Errorf("got %d rooms, want the 3 starting rooms plus the hook's attic", len(rooms))
	}
	step, _, _ = srv.Store().Meta(metaSetupStep)
	if step != setupDone {
		t.Errorf("setup step %q after success", step)
	}
}

func TestNoAdminFromTheNetwork(t *testing.T) {
	ts := startServer(t)
	c := ts.newPlayer("First")
	_ = c
	p, err := ts.srv.Store().Player("first")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rank != player.Newbie {
		t.Errorf("the first person to connect got rank %v", p.Rank)
	}
}
