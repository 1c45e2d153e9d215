package conn

import "time"

// Throttle is a connection's input rate limiter: two token buckets, one for
// lines and one for bytes. Plain data, so it survives a reboot and a flooder
// cannot reset it by waiting for one.
type Throttle struct {
	LineTokens float64
	ByteTokens float64
	Last       time.Time
	Dropped    int // lines dropped since the bucket was last full

	lineRate, byteRate   float64
	lineBurst, byteBurst float64
}

// NewThrottle returns a full throttle for the given limits.
func NewThrottle(l Limits, now time.Time) Throttle {
	t := Throttle{Last: now}
	t.SetLimits(l)
	t.LineTokens, t.ByteTokens = t.lineBurst, t.byteBurst
	return t
}

// SetLimits sets the rates, e.g. after a Throttle was restored from data.
func (t *Throttle) SetLimits(l Limits) {
	t.lineRate, t.lineBurst = l.LineRate, float64(l.LineBurst)
	t.byteRate, t.byteBurst = float64(l.ByteRate), float64(l.ByteBurst)
}

func (t *Throttle) refill(now time.Time) {
	dt := now.Sub(t.Last).Seconds()
	if dt <= 0 {
		return
	}
	t.Last = now
	t.LineTokens = min(t.lineBurst, t.LineTokens+dt*t.lineRate)
	t.ByteTokens = min(t.byteBurst, t.ByteTokens+dt*t.byteRate)
	if t.LineTokens >= t.lineBurst {
		t.Dropped = 0
	}
}

// AllowLine takes a token for one line, or counts it as dropped.
func (t *Throttle) AllowLine(now time.Time) bool {
	if t.lineRate <= 0 {
		return true
	}
	t.refill(now)
	if t.LineTokens >= 1 {
		t.LineTokens--
		return true
	}
	t.Dropped++
	return false
}

// Bytes accounts for n bytes read and returns how long the reader should
// pause so that the sustained rate stays within the limit.
func (t *Throttle) Bytes(n int, now time.Time) time.Duration {
	if t.byteRate <= 0 {
		return 0
	}
	t.refill(now)
	t.ByteTokens -= float64(n)
	if t.ByteTokens >= 0 {
		return 0
	}
	return time.Duration(-t.ByteTokens / t.byteRate * float64(time.Second))
}
