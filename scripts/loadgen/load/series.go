package load

import "sync/atomic"

// secStats is what happened in one second of the run (by the time of
// sending for latencies, by the time of receiving for counts).
type secStats struct {
	sent       atomic.Int64 // lines completed
	deliveries atomic.Int64 // first receipts by other clients
	echoes     atomic.Int64 // first own echoes
	delivLat   hist         // delivery latency of lines sent in this second
}

const secChunk = 64

// series is a per-second time series that grows without locks: chunks of 64
// seconds are allocated on first use.
type series struct {
	chunks [1 << 12]atomic.Pointer[[secChunk]secStats] // 72 hours
}

// at returns the stats of the second containing t (ns since the start).
func (s *series) at(t int64) *secStats {
	sec := max(t, 0) / 1e9
	ci := min(sec/secChunk, int64(len(s.chunks)-1))
	c := s.chunks[ci].Load()
	if c == nil {
		c = new([secChunk]secStats)
		if !s.chunks[ci].CompareAndSwap(nil, c) {
			c = s.chunks[ci].Load()
		}
	}
	return &c[sec%secChunk]
}

// peek returns the stats of second sec if they exist, else nil.
func (s *series) peek(sec int64) *secStats {
	if sec < 0 {
		return nil
	}
	ci := sec / secChunk
	if ci >= int64(len(s.chunks)) {
		return nil
	}
	c := s.chunks[ci].Load()
	if c == nil {
		return nil
	}
	return &c[sec%secChunk]
}
