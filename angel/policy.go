package angel

import "time"

// Policy decides when to restart a crashed talker and when to give up.
type Policy struct {
	Initial     time.Duration // first back-off
	Max         time.Duration // back-off cap
	StableAfter time.Duration // running this long resets the back-off
	CrashLimit  int           // this many crashes ...
	CrashWindow time.Duration // ... within this window is a crash loop
}

// DefaultPolicy restarts fast at first (players are waiting) and slows
// down quickly if that does not help.
func DefaultPolicy() Policy {
	return Policy{Initial: 50 * time.Millisecond, Max: time.Minute, StableAfter: 10 * time.Minute,
		CrashLimit: 5, CrashWindow: 2 * time.Minute}
}

// crashes is the angel's record of recent crashes: plain data.
type crashes struct {
	times   []time.Time
	backoff time.Duration
}

// crashed records a crash at now, given how long the talker had been up;
// it returns the delay before the next start, or loop=true if the talker
// is crash-looping and should not be restarted.
func (c *crashes) crashed(p Policy, now time.Time, upFor time.Duration) (delay time.Duration, loop bool) {
	if upFor >= p.StableAfter {
		c.backoff = 0
	}
	keep := c.times[:0]
	for _, t := range c.times {
		if now.Sub(t) < p.CrashWindow {
			keep = append(keep, t)
		}
	}
	c.times = append(keep, now)
	if p.CrashLimit > 0 && len(c.times) >= p.CrashLimit {
		return 0, true
	}
	if c.backoff == 0 {
		c.backoff = p.Initial
	} else {
		c.backoff = min(2*c.backoff, p.Max)
	}
	return c.backoff, false
}

// reset forgets every crash (an admin asked for a fresh start).
func (c *crashes) reset() { *c = crashes{} }
