package server

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"talker/ipc"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/store"
	"talker/server/telnet"
	"talker/state"
)

// The new generation's side of a seamless reboot (the old generation's is
// reboot_parent.go), and of the angel's crash recovery. In order:
//
//	receive   the old generation's sockets arrive while it still serves (staged), or everything at once
//	wrap      each socket becomes a connection, its goroutines started frozen; each record is decoded (Prepared)
//	restore   the state sent at the pause is decoded and the world rebuilt (Restore); the start hooks run
//	ready     the old generation is told, and commits (or rolls back: this process then exits)
//	start     the world runs, every connection is thawed (Restored.Start)
//
// Nothing is read from or written to a player's socket before the commit:
// until then the old generation may still carry on with it.

// takeOver starts this process's talker from what the previous generation
// (a reboot) or the angel (a crash) hands over. On error the handoff is
// refused, and the caller exits: the previous generation carries on.
func takeOver(cfg Config, upg *reboot.Upgrader, in *reboot.Incoming) (*Server, error) {
	log := cfg.Log
	// Everything a takeover allocates stays live (the sessions, their
	// connections), so collecting garbage meanwhile would only take CPU
	// from the restore that players are waiting for.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// A previous generation that started this one (tableflip) carries on
	// if this one fails before Ready: leave it a database it can use. The
	// angel's recovery has no one to protect (the previous one died).
	if upg.HasParent() {
		cfg.Migrations = store.ReadableMigrations
	}
	// A staged handoff sends the players' sockets while the old generation
	// still serves them: wrapping them all now keeps that work out of the
	// pause that starts when the state arrives.
	var prep *Prepared
	if in.Staged {
		var err error
		if prep, err = takeStaged(in, &cfg); err != nil {
			log.Error().Err(err).Msg("cannot take the staged sockets; the previous generation carries on")
			return nil, err
		}
	}
	if in.Header.Mode == reboot.ModeRestart {
		// A restart hands over only the listeners: start cold.
		prep.Abandon()
		srv, err := New(cfg)
		if err != nil {
			log.Error().Err(err).Msg("cannot start; the previous generation carries on")
			in.Reject(err)
			return nil, err
		}
		if err := in.Ready(reboot.Report{Version: cfg.Version}, cfg.ReadyTimeout); err != nil {
			log.Error().Err(err).Msg("not committed")
			return nil, err
		}
		return srv, nil
	}
	received := time.Now()
	log.Info().Str("mode", string(in.Header.Mode)).Int("from_pid", in.Header.FromPID).
		Int("staged", prep.Len()).Int("sockets", len(in.FDs)).Int("state_bytes", len(in.State)).
		Msg("taking over from the previous generation")
	if err := cfg.Faults.Restore.inject("restoring"); err != nil {
		in.Reject(err)
		return nil, err
	}
	r, err := Restore(cfg, in.Header, in.State, prep, in.FDs, received)
	if err != nil {
		log.Error().Err(err).Msg("cannot restore; the previous generation carries on")
		in.Reject(err)
		return nil, err
	}
	if err := in.Ready(r.Report(), cfg.ReadyTimeout); err != nil {
		log.Error().Err(err).Msg("not committed; the previous generation carries on")
		r.Abandon()
		return nil, err
	}
	r.Start()
	return r.Server, nil
}

// takeStaged receives and wraps every staged socket, tells the old
// generation they are ready, and waits for it to pause and send the state
// (in.Header, State and FDs are then complete). Each batch is wrapped as
// soon as it arrives, while the next is on its way; the next is read only
// once a worker is free for it, so the old generation's sends wait on this
// process's pace (and its deadline moves with each one it can make).
func takeStaged(in *reboot.Incoming, cfg *Config) (*Prepared, error) {
	prep := NewPrepared(cfg.Limits, cfg.Faults)
	var addErr error
	var first time.Time
	batches := 0
	for {
		data, fds, done, err := in.NextStage()
		if err != nil {
			prep.Abandon()
			return nil, err
		}
		if first.IsZero() {
			first = time.Now()
		}
		if done {
			break
		}
		batches++
		// A build that breaks while the old generation still serves.
		if err := cfg.Faults.Stage.inject("taking in the staged sockets"); err != nil {
			addErr = err
		}
		if addErr == nil {
			if addErr = prep.Add(data, fds); addErr == nil {
				addErr = in.Ack()
			}
		} else {
			ipc.CloseAll(fds)
		}
	}
	rep := reboot.StageReport{OK: addErr == nil}
	if addErr != nil {
		rep.Error = addErr.Error()
	} else {
		received := time.Now()
		rep.Sockets = prep.Wrap()
		wrapped := time.Now()
		// The garbage of taking them in is collected before the pause, so
		// that the restore reuses that memory rather than faulting in more.
		runtime.GC()
		// Logged now, before the old generation's answer: a staging that
		// is too slow ends with this process killed. receive is from the
		// first batch to the last (wrapping overlaps it); wrap is what was
		// left to wrap after the last.
		cfg.Log.Info().Int("staged", prep.Len()).Int("batches", batches).Dur("receive", received.Sub(first)).
			Dur("wrap", wrapped.Sub(received)).Dur("gc", time.Since(wrapped)).Msg("staged sockets wrapped")
	}
	if err := in.AwaitState(&rep); err != nil {
		prep.Abandon()
		return nil, err
	}
	cfg.Log.Info().Int("staged", prep.Len()).Int("wrapped", rep.Sockets).Dur("took", rep.Took).
		Msg("staged sockets taken in before the pause")
	return prep, nil
}

// Prepared holds the sockets a staged reboot sent while the old
// generation was still serving them, wrapped and ready to be attached to
// the sessions the state describes. Nothing is read from or written to
// them here: until the handoff commits, they are still the old
// generation's to serve.
//
// Batches are wrapped in the background as they are added (Add), on all
// CPUs but one: the old generation is still serving everyone meanwhile,
// and starved, its world fell behind and the pause that followed began by
// catching up. Wrap waits for them and lays them out by index.
type Prepared struct {
	limits  conn.Limits
	faults  Faults
	ids     []uint64 // the connection id the old generation staged at each index
	batches []*stagedBatch
	// workers bounds the batches being wrapped at once; Add waits for a
	// free one, which is how the old generation learns this one's pace.
	workers  chan struct{}
	wrapping sync.WaitGroup // batches being wrapped
	parked   sync.WaitGroup // readers started frozen, until each is parked
	laidOut  bool
	// By index, once Wrap has laid the batches out:
	conns []*conn.Conn
	errs  []error // why the socket at an index could not be wrapped
	taken []bool
	// states are the staged records decoded; stateErrs says why one
	// could not be. sessions are the same converted to the talker's own,
	// before the pause, so that the pause only adds what it changed.
	states    []state.Session
	stateErrs []error
	sessions  []*Session
}

// stagedBatch is one stage message's sockets, wrapped by one worker.
type stagedBatch struct {
	fds       []int          // received; each closed once wrapped (Wrap works on its own duplicate)
	records   []state.Record // each one's session record as staged, until decoded
	conns     []*conn.Conn
	errs      []error
	states    []state.Session
	stateErrs []error
	sessions  []*Session
}

// NewPrepared starts an empty set of staged sockets.
func NewPrepared(limits conn.Limits, faults Faults) *Prepared {
	return &Prepared{limits: limits, faults: faults,
		workers: make(chan struct{}, max(runtime.GOMAXPROCS(0)-1, 1))}
}

// Add takes one staged batch: data gives the connection id and session
// record of each descriptor, in order (a state.StageChunk). It returns
// once a worker has started wrapping them.
func (p *Prepared) Add(data []byte, fds []int) error {
	chunk, err := state.DecodeStageChunk(data, len(fds))
	if err != nil {
		ipc.CloseAll(fds)
		return fmt.Errorf("staged sockets: %w", err)
	}
	for i := range chunk.Records {
		chunk.Records[i] = p.faults.garble(chunk.Records[i])
	}
	p.ids = append(p.ids, chunk.IDs...)
	b := &stagedBatch{fds: fds, records: chunk.Records}
	p.batches = append(p.batches, b)
	p.workers <- struct{}{}
	p.wrapping.Add(1)
	go func() {
		defer func() { <-p.workers; p.wrapping.Done() }()
		p.wrapBatch(b)
	}()
	return nil
}

// wrapBatch wraps a batch's sockets, with their reader and writer
// goroutines started but frozen, and decodes their records.
func (p *Prepared) wrapBatch(b *stagedBatch) {
	n := len(b.fds)
	b.conns, b.errs = make([]*conn.Conn, n), make([]error, n)
	b.states, b.stateErrs, b.sessions = make([]state.Session, n), make([]error, n), make([]*Session, n)
	for i := range n {
		if b.conns[i], b.errs[i] = conn.Wrap(b.fds[i], p.limits); b.errs[i] == nil {
			b.conns[i].StartFrozen(&p.parked)
		}
		if b.states[i], b.stateErrs[i] = state.DecodeSession(state.Version, b.records[i]); b.stateErrs[i] == nil {
			b.sessions[i] = restoredSession(&b.states[i])
		}
	}
	b.fds, b.records = nil, nil
}

// Wrap waits until every batch added so far is wrapped and every reader
// parked, lays them out by index, and returns how many sockets are ready.
func (p *Prepared) Wrap() int {
	p.layOut()
	n := 0
	for _, c := range p.conns {
		if c != nil {
			n++
		}
	}
	return n
}

// layOut waits for the workers and concatenates their batches, once.
func (p *Prepared) layOut() {
	p.wrapping.Wait()
	if p.laidOut {
		return
	}
	p.laidOut = true
	p.parked.Wait() // every Add to it happened in a finished worker
	n := len(p.ids)
	p.conns, p.errs, p.taken = make([]*conn.Conn, 0, n), make([]error, 0, n), make([]bool, n)
	p.states, p.stateErrs, p.sessions = make([]state.Session, 0, n), make([]error, 0, n), make([]*Session, 0, n)
	for _, b := range p.batches {
		p.conns = append(p.conns, b.conns...)
		p.errs = append(p.errs, b.errs...)
		p.states = append(p.states, b.states...)
		p.stateErrs = append(p.stateErrs, b.stateErrs...)
		p.sessions = append(p.sessions, b.sessions...)
	}
	p.batches = nil
}

// Len is the number of staged sockets: the state's descriptor indexes
// below it are staged ones.
func (p *Prepared) Len() int {
	if p == nil {
		return 0
	}
	return len(p.ids)
}

// stagedState completes a Staged record from the one staged with its
// socket at index i.
func (p *Prepared) stagedState(i int, pause state.Session) (state.Session, error) {
	if i < 0 || i >= p.Len() {
		return pause, fmt.Errorf("record for connection %d refers to no staged socket", pause.ID)
	}
	if p.stateErrs[i] != nil {
		return pause, fmt.Errorf("staged record: %w", p.stateErrs[i])
	}
	st := p.states[i]
	// The id is the pause record's: if it is not the staged socket's, the
	// whole state is refused (restoreSessions).
	st.ID, st.FD, st.Conn, st.Held = pause.ID, pause.FD, pause.Conn, pause.Held
	return st, nil
}

// take returns the wrapped connection at index i, checking that it is the
// connection the record says it is.
func (p *Prepared) take(i int, id uint64) (*conn.Conn, error) {
	if p.ids[i] != id {
		return nil, fmt.Errorf("socket %d was staged for connection %d, not %d", i, p.ids[i], id)
	}
	if p.conns[i] == nil {
		return nil, p.errs[i]
	}
	p.taken[i] = true
	return p.conns[i], nil
}

// Abandon closes every socket not taken, without shutting any down: the
// connections still belong to the old generation (or, for one that ended
// after it was staged, are already over).
func (p *Prepared) Abandon() {
	if p == nil {
		return
	}
	p.layOut()
	for i, c := range p.conns {
		if c != nil && !p.taken[i] {
			c.Abandon()
		}
	}
}

// Restored is a server rebuilt from a previous generation's state, not yet
// running: nothing has been read from or written to any connection. The
// caller reports to the old generation (Report), waits for its commit, and
// only then calls Start. If anything fails before Start, the caller exits
// and the old generation resumes as if nothing had happened.
type Restored struct {
	*Server
	began    time.Time
	received time.Time
	report   reboot.Report
	timings  *RebootTimings
	// fromCheckpoint: rebuilt by the angel after a crash; sessions at a
	// login prompt get their prompt again (what they typed may be lost).
	fromCheckpoint bool
	// parentJournal: a reboot's previous generation's crash journal, to
	// continue once committed (-1: none).
	parentJournal int
}

// Restore rebuilds the talker from a handoff: the versioned state, the
// sockets staged before the pause (prep, which may be nil) and the
// descriptors sent with the state. The state refers to sockets by index:
// staged ones first, then fds. received is when the state arrived (for
// the timings). On error every socket has been closed (never shut down).
func Restore(cfg Config, hdr reboot.Header, stateBytes []byte, prep *Prepared, fds []int, received time.Time) (*Restored, error) {
	began := time.Now()
	fail := func(err error) (*Restored, error) {
		ipc.CloseAll(fds)
		prep.Abandon()
		return nil, err
	}
	snap, err := state.Decode(stateBytes)
	if err != nil {
		return fail(err)
	}
	var committedOutput *journalRecovery
	parentJournal := -1
	if hdr.Journal && len(fds) > 0 {
		// The previous generation's crash journal, last (before the
		// listeners, which a reboot's come apart from).
		jfd := fds[len(fds)-1]
		fds = fds[:len(fds)-1]
		switch {
		case !snap.Checkpoint:
			// A reboot's: continued once the reboot is committed (Start).
			parentJournal = jfd
		default:
			// A crash's (journal.go): its committed changes go over the
			// angel's checkpoint.
			if committedOutput, err = applyJournal(&cfg.Log, snap, jfd, hdr.JournalSince); err != nil {
				cfg.Log.Warn().Err(err).Msg("crash journal not used: recovering from the angel's checkpoint alone")
			} else {
				committedOutput.killed = hdr.Killed
			}
		}
	}
	sys, err := state.DecodeSystem(snap.System)
	if err != nil {
		return fail(fmt.Errorf("state is unreadable: %w", err))
	}
	if cfg.Faults.RejectCheckpoint && snap.Checkpoint && len(snap.System) > 0 {
		return fail(errors.New("injected fault: checkpoint rejected"))
	}
	tDecoded := time.Now()
	// With a live old generation, only migrations it can live with: it
	// keeps using this database if the reboot fails after this point.
	st, err := store.OpenWith(cfg.DataDir, cfg.Migrations, cfg.Faults.FutureMigrations...)
	if err != nil {
		return fail(err)
	}
	s, err := open(&cfg, st)
	if err != nil {
		return fail(err)
	}
	tOpened := time.Now()
	w := s.world
	w.restoreSystem(&sys)
	kept, dropped, err := w.restoreSessions(snap, prep, fds, s.deliver)
	if err != nil {
		s.store.Close()
		return nil, err
	}
	w.restoreLinkDead(sys.LinkDead) // sessions without a socket (linkdead.go)
	w.resumeOutput(committedOutput) // journal.go
	w.adoptJournal(committedOutput) // journal.go
	for _, s := range w.sessions {
		if s.conn != nil {
			w.journalConn(s.conn) // before they start: peeking from the first byte
		}
	}
	tSessions := time.Now()

	t := w.system.LastReboot
	mode := reboot.Mode(snap.Mode)
	if t == nil || snap.Checkpoint {
		// Rebuilt from the angel's checkpoints: there was no old generation
		// to measure anything.
		t = &RebootTimings{Mode: mode, At: hdr.Started, By: "the angel", Reason: "the talker died",
			FromVersion: hdr.FromVer, FromPID: hdr.FromPID}
	}
	w.system.Generation++
	if snap.Checkpoint || mode == reboot.ModeRecover {
		w.system.Recoveries++ // a crash recovery is not a reboot
	} else {
		w.system.Reboots++
	}
	w.system.StartedAt = time.Now()
	t.ToVersion, t.ToPID = cfg.Version, os.Getpid()
	t.Sessions, t.Dropped = kept, dropped
	t.Handoff = received.Sub(t.At) - t.Quiesce - t.Snapshot
	w.system.LastReboot = t

	if err := w.runStartHooks(mode); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("start hooks: %w", err)
	}
	s.cfg.Log.Info().Dur("decode", tDecoded.Sub(began)).Dur("open", tOpened.Sub(tDecoded)).
		Dur("sessions", tSessions.Sub(tOpened)).Dur("hooks", time.Since(tSessions)).Int("state_bytes", len(stateBytes)).
		Msg("restore phases")
	t.Restore = time.Since(began)
	r := &Restored{Server: s, began: began, received: received, timings: t, fromCheckpoint: snap.Checkpoint,
		parentJournal: parentJournal}
	r.report = reboot.Report{Version: cfg.Version, Received: received.Sub(hdr.Started),
		Restored: t.Restore, Sessions: kept, Dropped: dropped}
	return r, nil
}

// Report is what to tell the old generation before becoming ready.
func (r *Restored) Report() reboot.Report { return r.report }

// Abandon gives up on a restore that was not committed: the sockets are
// closed without being shut down (they still belong to the old
// generation) and the database is closed.
func (r *Restored) Abandon() {
	if r.parentJournal >= 0 {
		unix.Close(r.parentJournal) // still the previous generation's
		r.parentJournal = -1
	}
	for _, s := range r.world.sessions {
		s.conn.Abandon()
	}
	r.store.Close()
}

// Start runs the restored talker: the world, then every connection's
// writer (unsent output first, then the "reboot complete" line) and reader.
// The caller then calls Serve on the inherited listener.
func (r *Restored) Start() {
	w := r.world
	if r.parentJournal >= 0 {
		w.continueParentJournal(r.parentJournal) // journal.go
		r.parentJournal = -1
	}
	t := r.timings
	t.Pause = time.Since(t.At)
	msg := ""
	tmpl := w.cfg.Messages.Rebooted
	if t.Mode == reboot.ModeRecover {
		tmpl = w.cfg.Messages.Recovered
	}
	if tmpl != "" {
		// Replace, not Sprintf: an admin's message without %s (or with a
		// stray %) is printed as written.
		msg = strings.Replace(tmpl, "%s", ms(t.Pause), 1)
	}
	staffLine := "*** [staff] " + string(t.Mode) + " by " + t.By + ": " + timingsLine(t)
	// The line saying the reboot is over is queued after each session's
	// unsent output (the world is not running yet).
	sessions := make([]*Session, 0, len(w.sessions))
	lines := newLineCache(msg, false)
	for _, s := range w.sessions {
		sessions = append(sessions, s)
		if s.Player == nil && r.fromCheckpoint {
			w.reprompt(s)
		}
		if s.Player != nil {
			if msg != "" {
				lines.sendTo(s)
			}
			staff := s.ID == t.BySession || s.Player.Rank >= adminRank
			if staff {
				s.println(staffLine)
			}
			// At a prompt of 'password' or 'deleteaccount': asked again,
			// after the lines that came after it (or after a crash).
			if s.Login.Stage != StagePlaying && (msg != "" || staff || r.fromCheckpoint) {
				w.reprompt(s)
			}
			// In the pager or the editor: its prompt again, likewise.
			if s.Login.Stage == StagePlaying && (msg != "" || staff || r.fromCheckpoint) {
				w.textPrompt(s)
			}
		}
	}
	// A player whose TLS stream cannot go on (the crash took records the
	// journal lacks) goes link-dead now, before the world runs: what is
	// said from now on is kept for them, shown once when they come back
	// (a browser's page reconnects by itself). Left to its connection's
	// end at Start, a line said in between went to a connection already
	// closing and was lost.
	conns := make([]*conn.Conn, len(sessions))
	for i, s := range sessions {
		conns[i] = s.conn // (still started: it ends itself, see conn.Start)
		if err := s.conn.TLSCannotContinue(); err != nil {
			w.goLinkDead(s, err)
		}
	}
	tQueued := time.Since(t.At)
	// The world runs before the connections start, so that each one's
	// input is handled as soon as its reader is up rather than after the
	// last connection's. (Connections are safe to start while the world
	// runs: it only queues output to them.)
	r.startWorld()
	parallel(len(conns), func(i int) { conns[i].Start() })
	resumed := time.Since(t.At)
	r.markRunning()
	r.cfg.Log.Info().Int("generation", w.system.Generation).Int("sessions", t.Sessions).
		Int("dropped", t.Dropped).Dur("pause", t.Pause).Dur("queued", tQueued).Dur("all_resumed", resumed).Dur("restore", t.Restore).
		Str("from_version", t.FromVersion).Msg("reboot complete; serving")
}

// restoreSessions rebuilds every session from its record. A record that
// cannot be read costs only that session: its connection is kept and
// taken back to the login prompt, with an apology. A record that names
// the wrong staged socket means the two generations disagree about which
// socket is whose: the whole state is refused (the old generation carries
// on) rather than risk giving anyone another person's session.
func (w *World) restoreSessions(snap *state.Snapshot, prep *Prepared, fds []int, deliver conn.Deliver) (kept, dropped int, err error) {
	nStaged := prep.Len()
	total := nStaged + len(fds)
	used := make([]bool, total)
	closeUnused := func() {
		for i, fd := range fds {
			if !used[nStaged+i] {
				unix.Close(fd)
			}
		}
		prep.Abandon()
	}
	// Decoding records and wrapping sockets dominate a large restore: both
	// run in parallel; linking sessions into the world runs in order here.
	n := len(snap.Sessions)
	states := make([]state.Session, n)
	errs := make([]error, n)
	// pauseOnly: the record is only what the pause changed (Staged), the
	// rest being the one staged with its socket, converted before the
	// pause. A staged socket whose session changed since has its whole
	// record here instead, and nothing of the staged one may be used.
	pauseOnly := make([]bool, n)
	parallel(n, func(i int) {
		if states[i], errs[i] = state.DecodeSession(snap.Version, w.cfg.Faults.garble(snap.Sessions[i])); errs[i] == nil && states[i].Staged {
			pauseOnly[i] = true
			// Only what the pause changed: the rest came with the socket.
			at := states[i].FD
			if i < len(snap.SessionFDs) {
				at = snap.SessionFDs[i]
			}
			states[i], errs[i] = prep.stagedState(at, states[i])
		}
	})
	index := make([]int, n) // each record's socket, or -1
	for i := range snap.Sessions {
		st, err := states[i], errs[i]
		if err == nil && st.ID == 0 {
			err = errors.New("empty record (a connection never checkpointed)")
		}
		errs[i] = err
		at := i // records are written in descriptor order
		if err == nil {
			at = st.FD
		}
		if i < len(snap.SessionFDs) {
			at = snap.SessionFDs[i]
		}
		index[i] = -1
		if at < 0 || at >= total || used[at] {
			w.log.Error().Int("record", i).Msg("restore: session record refers to no descriptor")
			continue
		}
		if at < nStaged && err == nil && prep.ids[at] != st.ID {
			closeUnused()
			return 0, 0, fmt.Errorf("record %d is for connection %d but socket %d was staged for connection %d",
				i, st.ID, at, prep.ids[at])
		}
		used[at] = true
		index[i] = at
	}
	// Each session rebuilt and its socket adopted, in parallel too: a
	// staged one was converted before the pause and only gets what the
	// pause changed.
	sessions := make([]*Session, n)
	adoptErrs := make([]error, n)
	parallel(n, func(i int) {
		at, st := index[i], &states[i]
		switch {
		case at < 0 || errs[i] != nil:
			return
		case at < nStaged:
			var c *conn.Conn
			if c, adoptErrs[i] = prep.take(at, st.ID); adoptErrs[i] == nil {
				c.Attach(st.ID, deliver, w.reportPanic, sessionCarried(st))
				if pauseOnly[i] {
					sessions[i] = prep.sessions[at]
					sessions[i].held = eventsFromWire(st.Held)
					// Where the input stands is the pause's, as for a
					// whole record: the staged one's is older, and a crash
					// journal continued with it would leave a half line
					// typed before the reboot behind the kernel's offset.
					sessions[i].inputFrom(&st.Conn)
				} else {
					sessions[i] = restoredSession(st)
				}
				sessions[i].conn = c
			}
		default:
			var c *conn.Conn
			if c, adoptErrs[i] = conn.Adopt(st.ID, fds[at-nStaged], w.cfg.Limits, deliver, w.reportPanic, sessionCarried(st)); adoptErrs[i] == nil {
				sessions[i] = restoredSession(st)
				sessions[i].conn = c
			}
		}
	})
	for i := range snap.Sessions {
		at := index[i]
		switch {
		case at < 0:
			dropped++
		case errs[i] != nil:
			w.log.Error().Err(errs[i]).Int("record", i).Msg("restore: unreadable session record; back to the login prompt")
			w.restoreFresh(prep, fds, at, deliver)
			dropped++
		case adoptErrs[i] != nil:
			if at >= nStaged {
				unix.Close(fds[at-nStaged])
			}
			w.log.Error().Err(adoptErrs[i]).Uint64("conn", states[i].ID).Msg("restore: session lost")
			dropped++
		default:
			w.restoreSession(sessions[i], states[i].Room)
			kept++
		}
	}
	closeUnused()
	return kept, dropped, nil
}

// restoreSession links a restored session, on its adopted connection,
// into the world, in the room roomID if it is playing.
func (w *World) restoreSession(s *Session, roomID string) {
	s.clock = w.cfg.Now
	if s.Player != nil && s.Login.Stage.inWorld() {
		room := w.rooms[roomID]
		if room == nil {
			room = w.rooms[w.cfg.StartRoom]
		}
		s.room = room
		room.add(s)
		w.online[s.Player.Key()] = s
		w.indexFriends(s)
		w.gmcpRestored(s) // gmcp.go
	} else {
		// A playing session without a player cannot be trusted: never
		// log anyone in without their password.
		s.Player = nil
		if s.Login.Stage.inWorld() {
			s.Login = LoginState{}
		}
	}
	w.sessions[s.ID] = s
	w.perAddr[s.Addr]++
	w.recoverCompression(s) // mccp.go: after a crash, how its output stream goes on
	w.recoverInflate(s)     // mccp3.go: and its input stream
}

// restoreFresh keeps the connection at socket index at, whose record was
// unreadable, sending it back to the login prompt.
func (w *World) restoreFresh(prep *Prepared, fds []int, at int, deliver conn.Deliver) {
	id := w.connIDs.Add(1)
	fresh := conn.Carried{Decoder: telnet.NewDecoder(w.cfg.Limits.MaxLine, w.cfg.Limits.MaxSB),
		Throttle: conn.NewThrottle(w.cfg.Limits, w.cfg.Now())}
	var c *conn.Conn
	var err error
	if at < prep.Len() {
		if c, err = prep.take(at, prep.ids[at]); err == nil {
			c.Attach(id, deliver, w.reportPanic, fresh)
		}
	} else {
		fd := fds[at-prep.Len()]
		if c, err = conn.Adopt(id, fd, w.cfg.Limits, deliver, w.reportPanic, fresh); err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return
	}
	now := w.cfg.Now()
	s := &Session{ID: id, conn: c, Addr: c.Addr, ConnectedAt: now, LastInput: now, Telnet: telnet.NewState(), clock: w.cfg.Now}
	w.sessions[id] = s
	w.perAddr[s.Addr]++
	s.println("")
	s.println("*** Sorry: your session could not be carried across the reboot. Please log in again.")
	s.prompt(promptName)
}

// reprompt repeats a login-stage session's current prompt (or that of
// 'password' or 'deleteaccount' a player is at).
func (w *World) reprompt(s *Session) {
	if s.Player == nil {
		s.println("")
	}
	switch s.Login.Stage {
	case StageName:
		s.prompt(promptName)
	case StagePassword:
		s.prompt(promptPassword)
	case StageConfirmNew:
		s.prompt("Create a new account called " + s.Login.Name + "? (yes/no): ")
	case StageNewPassword:
		s.prompt(promptNewPassword)
	case StageConfirmPassword:
		s.prompt(promptConfirmPass)
	case StageOldPassword:
		s.prompt(promptOldPassword)
	case StageChangePassword, StageForcedPassword:
		s.prompt(promptChangePassword)
	case StageChangeConfirm, StageForcedConfirm:
		s.prompt(promptChangeConfirm)
	case StageDeletePassword:
		s.prompt(promptDeletePassword)
	}
}
