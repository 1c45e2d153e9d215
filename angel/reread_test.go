package angel

import (
	"errors"
	"testing"
	"time"
)

// A new generation's hello makes the angel take its settings afresh; a
// file that does not check leaves them as they were.
func TestRereadTakesNewSettingsAndKeepsThemOnError(t *testing.T) {
	next := Watch{Policy: DefaultPolicy(), BootTimeout: 7 * time.Second, HangTimeout: 9 * time.Second}
	next.Policy.CrashLimit = 2
	var err error
	a := New(Config{Reread: func() (Watch, error) { return next, err }})
	a.reread()
	if a.cfg.HangTimeout != 9*time.Second || a.cfg.BootTimeout != 7*time.Second || a.cfg.Policy.CrashLimit != 2 {
		t.Fatalf("settings not taken: %+v %v %v", a.cfg.Policy, a.cfg.BootTimeout, a.cfg.HangTimeout)
	}
	next.HangTimeout, err = time.Second, errors.New("line 3: broken")
	a.reread()
	if a.cfg.HangTimeout != 9*time.Second {
		t.Fatalf("settings from a broken file taken: %v", a.cfg.HangTimeout)
	}
}
