package server

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel calls fn(0..n-1) on as many goroutines as there are CPUs: for
// the per-session work of a reboot (encoding records in the pause,
// decoding and wrapping them in the new generation), where nothing else
// runs meanwhile.
func parallel(n int, fn func(i int)) { parallelOn(runtime.GOMAXPROCS(0), n, fn) }

// parallelOn calls fn(0..n-1) on at most cpus goroutines (at least one),
// each taking 64 or more calls: fewer are not worth a goroutine.
func parallelOn(cpus, n int, fn func(i int)) {
	workers := min(cpus, max(n/64, 1))
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
