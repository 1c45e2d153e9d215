package server

import (
	"time"

	"talker/reboot"
)

// countdown is a reboot, reset or shutdown scheduled for later, announced as
// it nears: every minute, then every 10 seconds in the last minute. The
// World has two slots, one for a reboot or reset (World.countdown) and one
// for a shutdown (World.shutdownCountdown), since both may run at once;
// both are carried across a reboot.
type countdown struct {
	Mode         reboot.Mode // reboot.ModeReboot, ModeReset or ModeShutdown
	Reason       string
	By           string // who asked, for the announcements
	BySession    uint64 // ... and to tell them the outcome
	At           time.Time
	LastAnnounce time.Time
}

// newCountdown starts a countdown of seconds from now.
func (w *World) newCountdown(mode reboot.Mode, by *Session, reason string, seconds int) *countdown {
	now := w.cfg.Now()
	return &countdown{Mode: mode, Reason: reason, By: by.Player.Name, BySession: by.ID,
		At: now.Add(time.Duration(seconds) * time.Second), LastAnnounce: now}
}

// request is the reboot a reboot or reset countdown asks for when it fires.
func (c *countdown) request() RebootRequest {
	return RebootRequest{Mode: c.Mode, Reason: c.Reason, By: c.By, BySession: c.BySession}
}

// announceCountdown tells everyone how long is left.
func (w *World) announceCountdown(c *countdown, left time.Duration) {
	var msg string
	switch c.Mode {
	case reboot.ModeShutdown:
		msg = "*** The talker will shut down in " + ago(left.Round(time.Second)) + "; you will be disconnected."
	case reboot.ModeReset:
		msg = "*** The talker will reset in " + ago(left.Round(time.Second)) + "; you will stay connected."
	default:
		msg = "*** The talker will reboot in " + ago(left.Round(time.Second)) + "; you will stay connected."
	}
	if c.Reason != "" {
		msg += " (" + c.Reason + ")"
	}
	w.toOnline(msg)
}

// tickCountdowns announces each countdown when it is time to, and fires it
// when it is due.
func (w *World) tickCountdowns(now time.Time) {
	for _, slot := range []**countdown{&w.countdown, &w.shutdownCountdown} {
		c := *slot
		if c == nil {
			continue
		}
		fire, announce, left := c.step(now)
		switch {
		case fire:
			*slot = nil
			w.fire(c)
		case announce:
			w.announceCountdown(c, left)
		}
	}
}

// fire does what a countdown counted down to.
func (w *World) fire(c *countdown) {
	if c.Mode == reboot.ModeShutdown {
		w.shutdownNow(c.By, c.Reason)
		return
	}
	go w.requestReboot(c.request())
}

// step advances a countdown to now: fire when it is due, or announce (with
// the time left) every minute, then every 10 seconds in the last minute.
func (c *countdown) step(now time.Time) (fire, announce bool, left time.Duration) {
	left = c.At.Sub(now)
	if left <= 0 {
		return true, false, 0
	}
	every := time.Minute
	if left <= time.Minute {
		every = 10 * time.Second
	}
	if now.Sub(c.LastAnnounce) >= every {
		c.LastAnnounce = now
		return false, true, left
	}
	return false, false, left
}
