package load

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Report is everything a run measured. Times are seconds since the start
// of the run; latencies are milliseconds.
type Report struct {
	Started         time.Time     `json:"started"`
	Interrupted     bool          `json:"interrupted"`
	OK              bool          `json:"ok"`
	Failures        []string      `json:"failures"`
	Config          RunConfig     `json:"config"`
	Talker          TalkerInfo    `json:"talker"`
	Phases          Phases        `json:"phases"`
	Logins          Logins        `json:"logins"`
	Disconnects     []Disconnect  `json:"disconnects"`
	Lines           Lines         `json:"lines"`
	Deliveries      Deliveries    `json:"deliveries"`
	Throughput      Throughput    `json:"throughput"`
	EchoLatency     Latency       `json:"echo_latency_ms"`
	DeliveryLatency Latency       `json:"delivery_latency_ms"`
	Resources       Resources     `json:"resources"`
	Events          []EventReport `json:"events"`
	Recipients      []Recipient   `json:"recipients"`
	Samples         []Sample      `json:"samples"`
	Series          []Second      `json:"series"`

	echoPoints []latPoint // every own echo, for the plot
}

// RunConfig is the configuration the run used.
type RunConfig struct {
	Clients   int      `json:"clients"`
	Rooms     int      `json:"rooms"`
	Rate      float64  `json:"rate_per_client"`
	PauseMin  float64  `json:"pause_min_ms"`  // input gaps shorter than this are not recorded...
	PauseFine float64  `json:"pause_fine_ms"` // ...but near events, down to this
	Duration  float64  `json:"duration_s"`
	Ramp      float64  `json:"ramp_per_s"`
	Typing    string   `json:"typing"`
	ByteGapMs float64  `json:"byte_gap_ms,omitempty"`
	LineBytes int      `json:"line_bytes"`
	Width     int      `json:"naws_width"`
	Reconnect bool     `json:"reconnect"`
	Events    []string `json:"events"`
	RebootCmd string   `json:"reboot_cmd,omitempty"`
	FDLimit   uint64   `json:"fd_limit"`
}

// TalkerInfo is the talker under load.
type TalkerInfo struct {
	Addr    string   `json:"addr"`
	Managed bool     `json:"managed"`
	Binary  string   `json:"binary,omitempty"`
	DataDir string   `json:"data_dir,omitempty"`
	PIDs    []int    `json:"pids"` // every pid seen, in order
	Exits   []string `json:"exits,omitempty"`
	// StopSeconds: managed mode, from SIGTERM until the talker had exited.
	StopSeconds float64 `json:"stop_s,omitempty"`
}

// Phases of the run.
type Phases struct {
	LoginStart    float64 `json:"login_start"`
	LoginEnd      float64 `json:"login_end"`
	WorkloadStart float64 `json:"workload_start"`
	WorkloadEnd   float64 `json:"workload_end"`
	DrainEnd      float64 `json:"drain_end"`
}

// Logins counts the login phase (and reconnections).
type Logins struct {
	Clients    int      `json:"clients"`
	LoggedIn   int      `json:"logged_in"`
	Registered int      `json:"registered"`
	Failed     int      `json:"failed"`
	Reconnects int      `json:"reconnects"`
	PerSecond  float64  `json:"per_second"`
	Errors     []string `json:"errors,omitempty"`
}

// Disconnect is a connection that closed without the client asking.
type Disconnect struct {
	Client int     `json:"client"`
	Name   string  `json:"name"`
	At     float64 `json:"at"`
	Error  string  `json:"error"`
}

// Lines counts what the clients typed.
type Lines struct {
	Sent           int64 `json:"sent"`            // completed lines
	Aborted        int64 `json:"aborted"`         // begun, cut off by a disconnect
	EchoExpected   int64 `json:"echo_expected"`   // lines whose sender stayed to hear them
	Echoes         int64 `json:"echoes"`          // own echoes received
	EchoLost       int64 `json:"echo_lost"`       // expected own echoes never received
	EchoDuplicates int64 `json:"echo_duplicates"` // own echoes received again
	Missed         int64 `json:"missed"`          // scheduled while the client was still typing
	LedgerFull     int64 `json:"ledger_full"`     // not sent: the ledger had no room
}

// Deliveries counts lines heard by the other clients in the room.
type Deliveries struct {
	Expected         int64    `json:"expected"`
	Received         int64    `json:"received"`
	Lost             int64    `json:"lost"`
	LostToDisconnect int64    `json:"lost_to_disconnect"` // part of Lost: the recipient was dropped later
	Duplicated       int64    `json:"duplicated"`
	Unexpected       int64    `json:"unexpected"` // heard while not in the room (or from another room)
	BadTokens        int64    `json:"bad_tokens"` // tokens naming no line sent
	LostSamples      []string `json:"lost_samples,omitempty"`
	// LostLines are the lines that lost deliveries or their own echo, by
	// send time (the first 200).
	LostLines        []LostLine `json:"lost_lines,omitempty"`
	DuplicateSamples []string   `json:"duplicate_samples,omitempty"`
}

// LostLine is a line that did not reach everyone it should have.
type LostLine struct {
	Token    string  `json:"token"`
	Sent     float64 `json:"sent"`
	Lost     int     `json:"lost"` // deliveries to other clients
	EchoLost bool    `json:"echo_lost"`
}

// Throughput over the workload.
type Throughput struct {
	DeliveriesPerSec     float64 `json:"deliveries_per_s"`
	PeakDeliveriesPerSec float64 `json:"peak_deliveries_per_s"`
	LinesPerSec          float64 `json:"lines_per_s"`
	BytesReceived        int64   `json:"bytes_received"` // during the workload
	MBPerSec             float64 `json:"mb_per_s"`
}

// Latency is a distribution, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Resources are the talker's (from /proc) and the load generator's own.
type Resources struct {
	RSSBaselineKB     int64   `json:"rss_baseline_kb"` // before any client
	RSSLoadedKB       int64   `json:"rss_loaded_kb"`   // every client logged in
	RSSPeakKB         int64   `json:"rss_peak_kb"`
	RSSEndKB          int64   `json:"rss_end_kb"`
	RSSPerConnKB      float64 `json:"rss_per_conn_kb"` // (loaded - baseline) / clients
	FDBaseline        int     `json:"fd_baseline"`
	FDLoaded          int     `json:"fd_loaded"`
	FDPeak            int     `json:"fd_peak"`
	TalkerCPUPercent  float64 `json:"talker_cpu_percent"` // of one core, over the workload
	LoadgenCPUPercent float64 `json:"loadgen_cpu_percent"`
}

// EventReport is one event and what the clients saw around it.
type EventReport struct {
	Kind       string  `json:"kind"`
	At         float64 `json:"scheduled_at"` // since the workload started
	Start      float64 `json:"start"`
	End        float64 `json:"end"`
	Duration   float64 `json:"duration_s"`
	Command    string  `json:"command,omitempty"`
	ExitStatus int     `json:"exit_status"`
	Output     string  `json:"output,omitempty"`
	// Phases is where a reboot's time went, from the talker's answer.
	Phases            *PausePhases `json:"phases,omitempty"`
	Error             string       `json:"error,omitempty"`
	Expect            string       `json:"expect"`
	OK                bool         `json:"ok"`
	Note              string       `json:"note,omitempty"`
	PIDBefore         int          `json:"pid_before"`
	PIDAfter          int          `json:"pid_after"`
	ConnectedBefore   int          `json:"connected_before"`
	ConnectedAfter    int          `json:"connected_after"` // at the end of "during"
	DisconnectsDuring int          `json:"disconnects_during"`
	Before            Window       `json:"before"`
	During            Window       `json:"during"`
	After             Window       `json:"after"`
	MaxPause          Pause        `json:"max_pause"`      // longest input gap overlapping "during" (0: none as long as pause_fine_ms)
	BaselinePause     Pause        `json:"baseline_pause"` // longest in "before", for comparison
	FDBefore          int          `json:"fd_before"`
	FDAfter           int          `json:"fd_after"`
	RSSBeforeKB       int64        `json:"rss_before_kb"`
	RSSAfterKB        int64        `json:"rss_after_kb"`
}

// Window is a stretch of time around an event, by the send time of lines.
type Window struct {
	From     float64 `json:"from"`
	To       float64 `json:"to"`
	Lines    int64   `json:"lines"`
	Lost     int64   `json:"lost"` // deliveries lost of the lines sent in the window
	Echo     Latency `json:"echo_ms"`
	Delivery Latency `json:"delivery_ms"`
}

// Pause is a gap in one client's input.
type Pause struct {
	Ms     float64 `json:"ms"`
	Client int     `json:"client"`
	Name   string  `json:"name,omitempty"`
	From   float64 `json:"from"`
	To     float64 `json:"to"`
}

// Recipient is one client's ledger.
type Recipient struct {
	Client     int    `json:"client"`
	Name       string `json:"name"`
	Room       string `json:"room"`
	Expected   int64  `json:"expected"`
	Received   int64  `json:"received"`
	Lost       int64  `json:"lost"`
	Duplicated int64  `json:"duplicated"`
	Sent       int64  `json:"sent"`
	Echoes     int64  `json:"echoes"`
	EchoLost   int64  `json:"echo_lost"`
	Logins     int    `json:"logins"`
	Registered bool   `json:"registered"`
	BytesIn    int64  `json:"bytes_in"`
}

// Sample is one /proc sample of the talker.
type Sample struct {
	T          float64 `json:"t"`
	PID        int     `json:"pid"`
	RSSKB      int64   `json:"rss_kb"`
	FDs        int     `json:"fds"`
	Threads    int     `json:"threads"`
	CPUPercent float64 `json:"cpu_percent"` // since the previous sample
	Connected  int64   `json:"connected"`   // load clients logged in
}

// Second is one second of the run.
type Second struct {
	T           int     `json:"t"`
	Sent        int64   `json:"sent"`
	Deliveries  int64   `json:"deliveries"`
	Echoes      int64   `json:"echoes"`
	EchoP50     float64 `json:"echo_p50_ms"`
	EchoP99     float64 `json:"echo_p99_ms"`
	EchoMax     float64 `json:"echo_max_ms"`
	DeliveryP50 float64 `json:"delivery_p50_ms"`
	DeliveryP99 float64 `json:"delivery_p99_ms"`
}

func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// latencyOf summarises latencies (ns); vals is sorted in place.
func latencyOf(vals []int64) Latency {
	if len(vals) == 0 {
		return Latency{}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	q := func(p float64) float64 { return ms(vals[int(p*float64(len(vals)-1))]) }
	return Latency{Count: int64(len(vals)), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: ms(vals[len(vals)-1])}
}

func latencyOfHist(h *histSnap) Latency {
	if h.count == 0 {
		return Latency{}
	}
	return Latency{Count: h.count, P50: ms(h.quantile(0.5)), P90: ms(h.quantile(0.9)),
		P99: ms(h.quantile(0.99)), Max: ms(h.max)}
}

// echoesIn returns the echo latencies of lines sent in [from, to).
func echoesIn(pts []latPoint, from, to int64) []int64 {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].at >= from })
	var out []int64
	for ; i < len(pts) && pts[i].at < to; i++ {
		out = append(out, pts[i].lat)
	}
	return out
}

// delivHist merges the delivery latency of lines sent in the seconds
// overlapping [from, to).
func (r *runner) delivHist(from, to int64) histSnap {
	var h histSnap
	for s := max(from, 0) / 1e9; s*1e9 < to; s++ {
		if st := r.acct.series.peek(s); st != nil {
			h.merge(&st.delivLat)
		}
	}
	return h
}

func (r *runner) window(tl *tally, from, to int64) Window {
	e := echoesIn(tl.echoLat, from, to)
	h := r.delivHist(from, to)
	w := Window{From: r.secs(from), To: r.secs(to), Lines: int64(len(e)), Echo: latencyOf(e), Delivery: latencyOfHist(&h)}
	for _, l := range tl.lostLines {
		if l.at >= from && l.at < to {
			w.Lost += int64(l.lost)
		}
	}
	return w
}

// longestGap finds the longest input gap of any client overlapping
// [from, to). Gaps are cut at the end of the workload (the silence after the
// last line is not a pause); with clip, also to [from, to) (a baseline
// should not count the quiet before the workload started).
func (r *runner) longestGap(from, to, workEnd int64, clip bool) Pause {
	var best Pause
	var bestLen int64
	for _, c := range r.clients {
		for _, g := range c.gaps {
			gf, gt := g.from, min(g.to, workEnd)
			if clip {
				gf, gt = max(gf, from), min(gt, to)
			}
			if gt <= from || gf >= to || gt <= gf {
				continue
			}
			if l := gt - gf; l > bestLen {
				bestLen = l
				best = Pause{Ms: ms(l), Client: c.idx, Name: c.name, From: r.secs(gf), To: r.secs(gt)}
			}
		}
	}
	return best
}

// sampleAt returns the last sample at or before t (or the first one).
func sampleAt(ss []procSample, t int64) procSample {
	best := procSample{}
	for i, s := range ss {
		if i == 0 || s.at <= t {
			best = s
		}
	}
	return best
}

// sampleAfter returns the first sample at or after t (or the last one).
func sampleAfter(ss []procSample, t int64) procSample {
	for _, s := range ss {
		if s.at >= t {
			return s
		}
	}
	if len(ss) > 0 {
		return ss[len(ss)-1]
	}
	return procSample{}
}

func (r *runner) report(ph Phases, baseline, loaded, end procSample, workStart, workEnd int64, fdLimit uint64) *Report {
	cfg := &r.cfg
	tl := r.acct.compute()
	r.mu.Lock()
	samples := append([]procSample(nil), r.samples...)
	events := append([]eventRun(nil), r.events...)
	disconnects := append([]Disconnect(nil), r.disconnects...)
	loginErrs := append([]string(nil), r.loginErrs...)
	loginFails := r.loginFails
	r.mu.Unlock()
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].at < samples[j].at })

	rep := &Report{Started: r.base, Phases: ph, echoPoints: tl.echoLat, Disconnects: disconnects}
	rep.Config = RunConfig{Clients: cfg.Clients, Rooms: cfg.Rooms, Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
		Ramp: cfg.Ramp, Typing: cfg.Typing, PauseMin: ms(int64(cfg.PauseMin)), PauseFine: ms(int64(cfg.PauseFine)), Width: cfg.Width, Reconnect: cfg.Reconnect, FDLimit: fdLimit,
		LineBytes: len("say ") + len(tokenString(cfg.Clients/2, int(cfg.Rate*cfg.Duration.Seconds()/2))) + cfg.Pad + 2}
	if cfg.Typing == TypeBytewise {
		rep.Config.ByteGapMs = ms(int64(cfg.ByteGap))
	}
	for _, e := range cfg.Events {
		rep.Config.Events = append(rep.Config.Events, fmt.Sprintf("%s@%v", e.Kind, e.At))
		if e.Kind == EventReboot || e.Kind == EventBroken {
			rep.Config.RebootCmd = cfg.RebootCmd
		}
	}
	rep.Talker = TalkerInfo{Addr: r.tp.addr, Managed: cfg.managed(), Binary: cfg.Talker, DataDir: cfg.DataDir}
	for _, s := range samples {
		if s.pid > 0 && (len(rep.Talker.PIDs) == 0 || rep.Talker.PIDs[len(rep.Talker.PIDs)-1] != s.pid) {
			rep.Talker.PIDs = append(rep.Talker.PIDs, s.pid)
		}
	}

	// Logins and recipients.
	rep.Logins = Logins{Clients: cfg.Clients, Failed: loginFails, Errors: loginErrs}
	for _, c := range r.clients {
		pc := tl.perClient[c.idx]
		if c.logins > 0 {
			rep.Logins.LoggedIn++
			rep.Logins.Reconnects += c.logins - 1
		}
		if c.registered {
			rep.Logins.Registered++
		}
		rep.Lines.LedgerFull += int64(c.full)
		bytesIn := c.bytesIn.Load()
		rep.Recipients = append(rep.Recipients, Recipient{Client: c.idx, Name: c.name, Room: roomNames[c.room],
			Expected: pc.expected, Received: pc.received, Lost: pc.lost, Duplicated: pc.dups, Sent: pc.sent,
			Echoes: pc.echoes, EchoLost: pc.echoLost, Logins: c.logins, Registered: c.registered, BytesIn: bytesIn})
	}
	if d := ph.LoginEnd - ph.LoginStart; d > 0 {
		rep.Logins.PerSecond = math.Round(float64(rep.Logins.LoggedIn)/d*10) / 10
	}

	rep.Lines.Sent, rep.Lines.Aborted = tl.linesSent, tl.linesStarted-tl.linesSent
	rep.Lines.EchoExpected, rep.Lines.Echoes = tl.echoExpected, tl.echoes
	rep.Lines.EchoLost, rep.Lines.EchoDuplicates = tl.echoLost, tl.echoDups
	rep.Lines.Missed = r.missed.Load()
	rep.Deliveries = Deliveries{Expected: tl.expected, Received: tl.received, Lost: tl.lost,
		LostToDisconnect: tl.lostToDisconnect, Duplicated: tl.duplicated, Unexpected: tl.unexpected,
		BadTokens: tl.bad, LostSamples: tl.lostSamples, DuplicateSamples: tl.duplicateSamples}
	for _, l := range tl.lostLines[:min(200, len(tl.lostLines))] {
		rep.Deliveries.LostLines = append(rep.Deliveries.LostLines, LostLine{Token: tokenString(l.sender, l.seq),
			Sent: r.secs(l.at), Lost: l.lost, EchoLost: l.echoLost})
	}

	// Latency and throughput over the workload (and its drain).
	var all []int64
	for _, p := range tl.echoLat {
		all = append(all, p.lat)
	}
	rep.EchoLatency = latencyOf(all)
	dh := r.delivHist(0, int64(ph.DrainEnd+2)*1e9)
	rep.DeliveryLatency = latencyOfHist(&dh)
	rep.Throughput.BytesReceived = r.bytesWorkEnd - r.bytesWorkStart
	if work := float64(workEnd-workStart) / 1e9; work > 0 {
		rep.Throughput.DeliveriesPerSec = math.Round(float64(tl.received) / work)
		rep.Throughput.LinesPerSec = math.Round(float64(tl.linesSent)/work*10) / 10
		rep.Throughput.MBPerSec = math.Round(float64(rep.Throughput.BytesReceived)/work/1e6*100) / 100
	}

	// Per-second series.
	lastSec := int64(ph.DrainEnd) + 1
	pi := 0
	for s := int64(0); s <= lastSec; s++ {
		sec := Second{T: int(s)}
		if st := r.acct.series.peek(s); st != nil {
			sec.Sent, sec.Deliveries, sec.Echoes = st.sent.Load(), st.deliveries.Load(), st.echoes.Load()
			var h histSnap
			h.merge(&st.delivLat)
			sec.DeliveryP50, sec.DeliveryP99 = ms(h.quantile(0.5)), ms(h.quantile(0.99))
		}
		var lats []int64
		for ; pi < len(tl.echoLat) && tl.echoLat[pi].at < (s+1)*1e9; pi++ {
			lats = append(lats, tl.echoLat[pi].lat)
		}
		l := latencyOf(lats)
		sec.EchoP50, sec.EchoP99, sec.EchoMax = l.P50, l.P99, l.Max
		rep.Throughput.PeakDeliveriesPerSec = max(rep.Throughput.PeakDeliveriesPerSec, float64(sec.Deliveries))
		rep.Series = append(rep.Series, sec)
	}

	// /proc samples and resources.
	for i, s := range samples {
		out := Sample{T: r.secs(s.at), PID: s.pid, RSSKB: s.rssKB, FDs: s.fds, Threads: s.threads, Connected: s.connected}
		if i > 0 && s.pid == samples[i-1].pid && s.at > samples[i-1].at {
			out.CPUPercent = math.Round(float64(s.cpuTicks-samples[i-1].cpuTicks)/clockTick/(float64(s.at-samples[i-1].at)/1e9)*1000) / 10
		}
		rep.Samples = append(rep.Samples, out)
		rep.Resources.RSSPeakKB = max(rep.Resources.RSSPeakKB, s.rssKB)
		rep.Resources.FDPeak = max(rep.Resources.FDPeak, s.fds)
	}
	rep.Resources.RSSBaselineKB, rep.Resources.FDBaseline = baseline.rssKB, baseline.fds
	rep.Resources.RSSLoadedKB, rep.Resources.FDLoaded = loaded.rssKB, loaded.fds
	rep.Resources.RSSEndKB = end.rssKB
	if n := loaded.connected; n > 0 && loaded.rssKB > 0 && baseline.rssKB > 0 && loaded.pid == baseline.pid {
		rep.Resources.RSSPerConnKB = math.Round(float64(loaded.rssKB-baseline.rssKB)/float64(n)*10) / 10
	}
	// Talker CPU over the workload, summed over consecutive samples of the
	// same process (a reboot changes the pid).
	var ticks, span int64
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if a.at >= workStart && b.at <= workEnd+int64(time.Second) && a.pid == b.pid && a.pid > 0 {
			ticks += b.cpuTicks - a.cpuTicks
			span += b.at - a.at
		}
	}
	if span > 0 {
		rep.Resources.TalkerCPUPercent = math.Round(float64(ticks)/clockTick/(float64(span)/1e9)*1000) / 10
	}
	if work := float64(workEnd-workStart) / 1e9; work > 0 {
		rep.Resources.LoadgenCPUPercent = math.Round((r.cpuWorkEnd-r.cpuWorkStart).Seconds()/work*1000) / 10
	}

	// Events.
	// Windows do not reach into the neighbouring events' own windows.
	var talkerLog []byte // DATA/log/talker.log, read at the first reboot with phases
	for k, ev := range events {
		during := ev.end + int64(cfg.Settle)
		beforeFrom := ev.start - int64(cfg.Window)
		afterTo := during + int64(cfg.Window)
		if k > 0 {
			beforeFrom = max(beforeFrom, events[k-1].end+int64(cfg.Settle))
		}
		if k+1 < len(events) {
			next := events[k+1].start
			during = min(during, next)
			afterTo = min(afterTo, next)
		}
		afterTo = max(afterTo, during)
		// The first Settle of the workload is its warm-up (bytewise lines
		// take a while to type): not a baseline.
		beforeFrom = min(max(beforeFrom, workStart+int64(cfg.Settle)), ev.start)
		er := EventReport{Kind: ev.spec.Kind, At: ev.spec.At.Seconds(), Start: r.secs(ev.start), End: r.secs(ev.end),
			Duration: r.secs(ev.end - ev.start), Command: ev.command, ExitStatus: ev.exitStatus, Output: ev.output,
			Error: ev.err, Expect: ev.expect, OK: ev.ok, Note: ev.note, PIDBefore: ev.pidBefore, PIDAfter: ev.pidAfter}
		if ph, ok := parsePausePhases(ev.output); ok {
			if talkerLog == nil && cfg.DataDir != "" {
				talkerLog, _ = os.ReadFile(filepath.Join(cfg.DataDir, "log", "talker.log"))
				talkerLog = append(talkerLog, '\n') // read once, even if empty
			}
			addThaw(&ph, talkerLog, ev.pidAfter) // phases.go
			er.Phases = &ph
		}
		er.Before = r.window(tl, beforeFrom, ev.start)
		er.During = r.window(tl, ev.start, during)
		er.After = r.window(tl, during, afterTo)
		er.MaxPause = r.longestGap(ev.start, during, workEnd, false)
		er.BaselinePause = r.longestGap(beforeFrom, ev.start, workEnd, true)
		for i := range r.clients {
			if ok, _ := r.acct.presentAt(i, ev.start); ok {
				er.ConnectedBefore++
			}
			if ok, _ := r.acct.presentAt(i, during); ok {
				er.ConnectedAfter++
			}
		}
		for _, d := range disconnects {
			if d.At >= r.secs(ev.start) && d.At < r.secs(during) {
				er.DisconnectsDuring++
			}
		}
		sb, sa := sampleAt(samples, ev.start), sampleAfter(samples, during)
		er.FDBefore, er.RSSBeforeKB, er.FDAfter, er.RSSAfterKB = sb.fds, sb.rssKB, sa.fds, sa.rssKB
		rep.Events = append(rep.Events, er)
	}

	// Verdict.
	fail := func(format string, args ...any) { rep.Failures = append(rep.Failures, fmt.Sprintf(format, args...)) }
	if rep.Logins.Failed > 0 {
		fail("%d clients could not log in", rep.Logins.Failed)
	}
	if n := len(disconnects); n > 0 {
		fail("%d disconnects", n)
	}
	if tl.lost > 0 {
		fail("%d deliveries lost (%d of them to disconnected clients)", tl.lost, tl.lostToDisconnect)
	}
	if tl.duplicated > 0 {
		fail("%d deliveries duplicated", tl.duplicated)
	}
	if tl.echoLost > 0 || tl.echoDups > 0 {
		fail("own echoes: %d lost, %d duplicated", tl.echoLost, tl.echoDups)
	}
	if tl.unexpected > 0 || tl.bad > 0 {
		fail("%d unexpected deliveries, %d unknown tokens", tl.unexpected, tl.bad)
	}
	for _, e := range rep.Events {
		if !e.OK {
			fail("event %s at %.1fs failed: status %d %s%s", e.Kind, e.Start, e.ExitStatus, e.Error, e.Note)
		}
	}
	rep.OK = len(rep.Failures) == 0
	return rep
}
