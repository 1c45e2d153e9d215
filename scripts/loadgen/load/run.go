package load

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// runner is one run in progress.
type runner struct {
	cfg     Config
	base    time.Time
	tp      *talkerProc
	acct    *acct
	clients []*client

	connected atomic.Int64
	missed    atomic.Int64 // scheduled lines skipped: the client was still typing the last one

	// fine holds the stretches around events where short input gaps are
	// recorded too (copy on write: readers only load it).
	fine atomic.Pointer[[]interval]

	cpuWorkStart, cpuWorkEnd     time.Duration // our own CPU time
	bytesWorkStart, bytesWorkEnd int64         // bytes received by all clients

	mu          sync.Mutex
	disconnects []Disconnect
	loginErrs   []string
	loginFails  int
	samples     []procSample
	events      []eventRun
	adminC      *adminConn // the fatal event's admin (admin.go)
}

func (r *runner) now() int64           { return int64(time.Since(r.base)) }
func (r *runner) addr() string         { return r.tp.addr }
func (r *runner) secs(t int64) float64 { return math.Round(float64(t)/1e6) / 1e3 }

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "[%7.2fs] %s\n", time.Since(r.base).Seconds(), fmt.Sprintf(format, args...))
	}
}

func (r *runner) disconnected(c *client, at int64, err error) {
	msg := "closed"
	if err != nil {
		msg = err.Error()
	}
	r.mu.Lock()
	r.disconnects = append(r.disconnects, Disconnect{Client: c.idx, Name: c.name, At: r.secs(at), Error: msg})
	n := len(r.disconnects)
	r.mu.Unlock()
	if n <= 5 {
		r.logf("DISCONNECT client %d (%s): %s", c.idx, c.name, msg)
	}
}

func (r *runner) loginFailed(c *client, err error) {
	r.mu.Lock()
	r.loginFails++
	if len(r.loginErrs) < 10 {
		r.loginErrs = append(r.loginErrs, c.name+": "+err.Error())
	}
	n := r.loginFails
	r.mu.Unlock()
	if n <= 5 {
		r.logf("login failed for %s: %v", c.name, err)
	}
}

// Run connects the clients, runs the workload and the events, and returns
// the report. Cancelling ctx (Ctrl-C) cuts the run short; the report still
// comes back. An error means the run could not take place at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.fill()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	soft, hard, err := raiseFDLimit()
	if err != nil {
		return nil, fmt.Errorf("raising the descriptor limit: %w", err)
	}
	if need := uint64(cfg.Clients) + 64; soft < need {
		return nil, fmt.Errorf("descriptor limit is %d (hard %d): %d clients need at least %d", soft, hard, cfg.Clients, need)
	}
	addr := cfg.Addr
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "localhost" {
		addr = "127.0.0.1:" + port
	}
	r := &runner{cfg: cfg, base: time.Now()}
	r.tp = &talkerProc{cfg: &r.cfg, addr: addr}
	r.logf("descriptor limit %d (hard %d)", soft, hard)
	if cfg.Rate >= 4 && (!cfg.managed() || cfg.LineRate == 0 || cfg.LineRate > 0 && cfg.Rate >= cfg.LineRate) {
		r.logf("warning: %g lines/s per client is at or above the talker's input limit (default 5/s, burst 25): lines will be dropped; use -line-rate", cfg.Rate)
	}
	if cfg.managed() {
		becomeSubreaper()
		if err := r.tp.start(ctx); err != nil {
			_ = r.tp.stop()
			return nil, fmt.Errorf("starting the talker: %w", err)
		}
		r.logf("started %s run on %s (pid %d), data %s", cfg.Talker, r.tp.addr, r.tp.pid(), cfg.DataDir)
	}
	rep, err := r.run(ctx, soft)
	if cfg.managed() {
		r.logf("stopping the talker")
		start := time.Now()
		serr := r.tp.stop()
		if rep != nil {
			rep.Talker.StopSeconds = math.Round(time.Since(start).Seconds()*100) / 100
			if serr != nil {
				rep.Failures = append(rep.Failures, "stopping the talker: "+serr.Error())
				rep.OK = false
			}
			rep.Talker.Exits = r.tp.exitLog()
		}
	}
	return rep, err
}

func (r *runner) run(ctx context.Context, fdLimit uint64) (*Report, error) {
	cfg := &r.cfg
	rooms := make([]int, cfg.Clients)
	r.clients = make([]*client, cfg.Clients)
	for i := range r.clients {
		r.clients[i] = newClient(r, i)
		rooms[i] = r.clients[i].room
	}
	maxSeq := 0
	if cfg.Rate > 0 {
		maxSeq = int(math.Ceil(cfg.Rate*cfg.Duration.Seconds()*1.1)) + 4
	}
	r.acct = newAcct(cfg.Clients, maxSeq, rooms)

	// /proc sampling, from before the first login to the end.
	sampleStop := make(chan struct{})
	sampleDone := make(chan struct{})
	baseline := r.sample()
	go r.sampler(sampleStop, sampleDone)

	sendCtx, stopSending := context.WithCancel(context.Background())
	endCtx, endAll := context.WithCancel(context.Background())
	defer stopSending()
	defer endAll()

	// Logins, ramped: at most Ramp new ones a second and MaxLogins at once.
	ph := Phases{LoginStart: r.secs(r.now())}
	var firstWG, allWG sync.WaitGroup
	firstWG.Add(cfg.Clients)
	sem := make(chan struct{}, cfg.MaxLogins)
	rampStop := make(chan struct{})
	go func() {
		start := time.Now()
		for i, c := range r.clients {
			wait := time.Until(start.Add(time.Duration(float64(i) / cfg.Ramp * float64(time.Second))))
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-rampStop:
				}
			}
			select {
			case sem <- struct{}{}:
			case <-rampStop:
			}
			select {
			case <-rampStop:
				for range r.clients[i:] {
					firstWG.Done()
				}
				return
			default:
			}
			allWG.Add(1)
			go func() {
				defer allWG.Done()
				c.run(sendCtx, endCtx, func() { <-sem; firstWG.Done() })
			}()
		}
	}()
	loggedIn := make(chan struct{})
	go func() { firstWG.Wait(); close(loggedIn) }()
	interrupted := false
	select {
	case <-loggedIn:
	case <-ctx.Done():
		interrupted = true
		close(rampStop)
		endAll()
		<-loggedIn
	}
	if !interrupted {
		close(rampStop)
	}
	ph.LoginEnd = r.secs(r.now())
	r.logf("logins done: %d of %d clients in their rooms (%.1fs)", r.connected.Load(), cfg.Clients, ph.LoginEnd-ph.LoginStart)
	loaded := r.sample()

	// The workload, and the events during it.
	r.cpuWorkStart = selfCPU()
	r.bytesWorkStart = r.bytesIn()
	workStart := r.now()
	ph.WorkloadStart = r.secs(workStart)
	eventsDone := make(chan struct{})
	evCtx, evCancel := context.WithCancel(ctx)
	defer evCancel()
	if !interrupted {
		go r.schedule(sendCtx, workStart)
		go func() {
			defer close(eventsDone)
			specs := append([]EventSpec(nil), cfg.Events...)
			sort.SliceStable(specs, func(i, j int) bool { return specs[i].At < specs[j].At })
			for k, s := range specs {
				r.setFine(k, workStart+int64(s.At)-int64(cfg.Window), -1)
				wait := time.Duration(workStart + int64(s.At) - r.now())
				if wait > 0 {
					select {
					case <-time.After(wait):
					case <-evCtx.Done():
						return
					}
				}
				ev := r.runEvent(evCtx, s)
				r.setFine(k, 0, ev.end+int64(cfg.Settle))
				r.mu.Lock()
				r.events = append(r.events, ev)
				r.mu.Unlock()
			}
		}()
		select {
		case <-time.After(time.Duration(workStart + int64(cfg.Duration) - r.now())):
		case <-ctx.Done():
			interrupted = true
			r.logf("interrupted: stopping")
		}
		<-eventsDone // an event in progress finishes (or times out) first
		r.mu.Lock()
		r.adminC.close()
		r.mu.Unlock()
	}
	stopSending()
	workEnd := r.now()
	r.cpuWorkEnd = selfCPU()
	r.bytesWorkEnd = r.bytesIn()
	ph.WorkloadEnd = r.secs(workEnd)

	// Drain: lines in flight arrive; bytewise lines being typed finish.
	drain := cfg.Drain
	if cfg.Typing == TypeBytewise {
		drain += time.Duration(len("say t:0000:0000;")+cfg.Pad) * cfg.ByteGap
	}
	if !interrupted || ctx.Err() == nil {
		time.Sleep(drain)
	} else {
		time.Sleep(min(drain, 2*time.Second))
	}
	endAll()
	allWG.Wait()
	ph.DrainEnd = r.secs(r.now())
	close(sampleStop)
	<-sampleDone
	end := r.sample()
	r.logf("run over; computing the report")

	rep := r.report(ph, baseline, loaded, end, workStart, workEnd, fdLimit)
	rep.Interrupted = interrupted
	return rep, nil
}

func (r *runner) bytesIn() int64 {
	var n int64
	for _, c := range r.clients {
		n += c.bytesIn.Load()
	}
	return n
}

// nearEvent reports whether the gap [from, to) overlaps the stretch
// around the current or the previous event.
func (r *runner) nearEvent(from, to int64) bool {
	p := r.fine.Load()
	if p == nil {
		return false
	}
	w := *p
	for i := max(0, len(w)-2); i < len(w); i++ {
		if to >= w[i].from && (w[i].to < 0 || from < w[i].to) {
			return true
		}
	}
	return false
}

// setFine opens (to < 0) or closes the stretch around event k.
func (r *runner) setFine(k int, from, to int64) {
	var w []interval
	if p := r.fine.Load(); p != nil {
		w = append(w, *p...)
	}
	if k < len(w) {
		w[k].to = to
	} else {
		w = append(w, interval{from: from, to: to})
	}
	r.fine.Store(&w)
}

// sample takes one /proc sample of the talker and keeps it.
func (r *runner) sample() procSample {
	s, _ := sampleProc(r.tp.pid())
	s.at = r.now()
	s.connected = r.connected.Load()
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
	return s
}

func (r *runner) sampler(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(r.cfg.SampleEvery)
	defer t.Stop()
	n := 0
	var lastSent, lastDeliv int64
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s := r.sample()
		n++
		if n%5 == 0 && r.cfg.Log != nil {
			var sent, deliv int64
			for i := range r.acct.clients {
				deliv += r.acct.clients[i].received.Load()
			}
			for i := range r.acct.senders {
				sent += r.acct.senders[i].count.Load()
			}
			r.logf("clients %d, lines %d (+%d), deliveries %d (+%d/s); talker pid %d rss %d MB fds %d",
				s.connected, sent, sent-lastSent, deliv, (deliv-lastDeliv)/5, s.pid, s.rssKB>>10, s.fds)
			lastSent, lastDeliv = sent, deliv
		}
	}
}

// schedule kicks each ready client once every 1/Rate seconds, at phases
// spread at random over the period: one goroutine and one timer for all.
func (r *runner) schedule(ctx context.Context, start int64) {
	if r.cfg.Rate <= 0 {
		return
	}
	period := int64(float64(time.Second) / r.cfg.Rate)
	h := make(schedHeap, len(r.clients))
	for i := range h {
		h[i] = schedItem{at: start + rand.Int64N(period), idx: i}
	}
	heap.Init(&h)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := r.now()
		for h[0].at <= now {
			c := r.clients[h[0].idx]
			if c.ready.Load() {
				select {
				case c.kick <- struct{}{}:
				default:
					r.missed.Add(1)
				}
			}
			h[0].at += period
			heap.Fix(&h, 0)
		}
		timer.Reset(time.Duration(h[0].at - now))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

type schedItem struct {
	at  int64
	idx int
}

type schedHeap []schedItem

func (h schedHeap) Len() int           { return len(h) }
func (h schedHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h schedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *schedHeap) Push(x any)        { *h = append(*h, x.(schedItem)) }
func (h *schedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
