package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/reboot"
)

// failingUpgrader is an upgrader whose new binary never starts.
type failingUpgrader struct{}

func (failingUpgrader) Begin(reboot.BeginRequest) (*reboot.Attempt, error) {
	return nil, errors.New("the new binary would not start")
}
func (failingUpgrader) WaitForParent(context.Context) error { return nil }

// A reboot from outside the game (a shell, SIGHUP) during an in-game
// countdown that fails before players are told (its new binary would not
// start) leaves the countdown as it was, and players hear nothing of it. A
// countdown to another kind of reboot carries on untouched. An empty
// configured message is not sent.
func TestCountdownAcrossAnEarlyReboot(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Upgrader = failingUpgrader{}
		c.Messages.Rebooting = "" // say nothing when a reboot starts
		c.Messages.RebootFailed = "*** Called off."
	})
	boss := ts.account("Boss", player.Admin)
	alice := ts.newPlayer("Alice")
	countdown := func() *countdown {
		var c *countdown
		ts.srv.world.do(func(w *World) { c = w.countdown })
		return c
	}

	boss.Send("reboot 600 maint")
	alice.Expect("*** The talker will reboot in 10 minutes; you will stay connected. (maint)")
	mark := len(alice.Text())
	if _, err := ts.srv.Reboot(RebootRequest{Mode: reboot.ModeReboot, Reason: "from-a-shell", By: "console"}); err == nil {
		t.Fatal("the reboot succeeded without a binary")
	}
	if got := alice.Quiet(300 * time.Millisecond); strings.Contains(got, "Called off") || strings.Contains(got, "reboot") {
		t.Errorf("players were told of a reboot whose binary never started:\n%s", got)
	}
	if c := countdown(); c == nil || c.Reason != "maint" {
		t.Fatalf("the countdown did not carry on after the failed reboot: %+v", c)
	}
	if got := alice.Text()[mark:]; strings.Contains(got, "from-a-shell") || strings.Contains(got, "\n\n") {
		t.Errorf("an empty start message was sent anyway:\n%q", got)
	}

	// A reset countdown is not the work of a reboot: it stays through one.
	boss.Send("reboot cancel")
	alice.Expect("*** The reboot countdown has been cancelled by Boss.")
	boss.Send("reset 600")
	alice.Expect("*** The talker will reset in 10 minutes")
	if _, err := ts.srv.Reboot(RebootRequest{Mode: reboot.ModeReboot, By: "console"}); err == nil {
		t.Fatal("the reboot succeeded without a binary")
	}
	if c := countdown(); c == nil || c.Mode != reboot.ModeReset {
		t.Fatalf("a reset countdown did not survive a reboot: %+v", c)
	}
	boss.Send("reboot cancel")
	alice.Expect("*** The reset countdown has been cancelled by Boss.")
}
