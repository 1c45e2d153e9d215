package load

import (
	"math/bits"
	"sync/atomic"
)

// Latency histograms: log-linear buckets on microseconds, 8 per doubling
// (within 12.5% of the true value), from 1 µs to about 12 days.
const (
	histSub     = 8
	histBuckets = histSub * 40
)

func histBucket(ns int64) int {
	us := uint64(max(ns, 0) / 1000)
	if us < histSub {
		return int(us)
	}
	e := bits.Len64(us) - 1 // >= 3
	sub := (us >> (e - 3)) & (histSub - 1)
	i := (e-2)*histSub + int(sub)
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i, in nanoseconds.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)*1000 + 500
	}
	e := i/histSub + 2
	sub := i % histSub
	lo := uint64(histSub+sub) << (e - 3)
	width := uint64(1) << (e - 3)
	return int64(lo*1000 + width*500)
}

// hist is a histogram updated concurrently.
type hist struct {
	n [histBuckets]atomic.Int64
}

func (h *hist) add(ns int64) { h.n[histBucket(ns)].Add(1) }

// histSnap is a plain copy of a histogram, for reports.
type histSnap struct {
	n     [histBuckets]int64
	count int64
	max   int64 // largest bucket seen, as a value
}

func (s *histSnap) merge(h *hist) {
	for i := range h.n {
		if v := h.n[i].Load(); v > 0 {
			s.n[i] += v
			s.count += v
			s.max = max(s.max, histValue(i))
		}
	}
}

// quantile returns the value at quantile q (0..1), or 0 if empty.
func (s *histSnap) quantile(q float64) int64 {
	if s.count == 0 {
		return 0
	}
	rank := int64(q*float64(s.count-1)) + 1
	var seen int64
	for i, v := range s.n {
		seen += v
		if seen >= rank {
			return histValue(i)
		}
	}
	return s.max
}
