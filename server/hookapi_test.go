package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"talker/reboot"
	"talker/server/store"
)

// Hooks can see the mode they run in, talk to players (without escape
// sequences), and keep values across runs; a cold start after a run that
// died in the middle of a reboot runs in crash mode.
func TestHooksSeeTheModeTalkAndRemember(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	hooks := func(c *Config) {
		c.Hooks.Register(reboot.HookSet[*World]{
			Name: "test",
			Start: func(w *World) error {
				n, _, err := w.HookValue("starts")
				if err != nil {
					return err
				}
				seen = append(seen, "start "+string(w.Mode())+" after "+n)
				return w.SetHookValue("starts", n+"|")
			},
			Stop: func(w *World) error {
				seen = append(seen, "stop "+string(w.Mode())+" with "+strings.Join(w.Players(), ","))
				w.Announce("\x1b[2J\x9b2J^Rbye from the hook")
				return nil
			},
		})
	}
	ts := startServerIn(t, dir, hooks)
	alice := ts.newPlayer("Alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx, ""); err != nil {
		t.Fatal(err)
	}
	got := alice.Expect("bye from the hook")
	if strings.Contains(got, "\x1b[2J") || strings.Contains(got, "\x9b") {
		t.Errorf("a hook put an escape sequence on a player's screen: %q", got)
	}

	// The next cold start: after a clean shutdown.
	start := func() {
		srv, err := New(func() Config { c := DefaultConfig(); c.DataDir, c.HashCost = dir, 4; hooks(&c); return c }())
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Shutdown(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	start()
	// A run that died with a reboot under way (stop mode left at "reboot").
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(metaStopMode, string(reboot.ModeReboot)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	start()

	want := []string{
		"start cold after ", "stop shutdown with Alice",
		"start cold after |", "stop shutdown with ",
		"start crash after ||", "stop shutdown with ",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("hooks saw:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
