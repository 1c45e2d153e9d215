package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"talker/config"
	"talker/ipc"
	"talker/reboot"
	"talker/server/conn"
	"talker/state"
)

// The old generation's side of a seamless reboot (the new generation's is
// reboot_child.go). Server.Reboot runs one attempt through its phases, in
// order:
//
//	preflight  the binary exists and is executable; the configuration file checks; the previous generation has exited
//	begin      the new binary starts (its child) and connects
//	stage      every socket and its session's record are sent while players carry on
//	announce   players are told (only now: a reboot that failed so far is one they never
//	           hear of); the stop hooks run; the World enters phaseRebooting
//	pause      accept loops parked, every reader frozen (phasePausing, then phasePaused)
//	snapshot   writers frozen; what changed since the staging, or the whole record
//	commit     the state is sent; once the child has restored it and is ready, commit
//
// Any failure takes the one way back, attempt.rollback: the child is
// killed, everyone resumes from exactly where they paused, the start hooks
// run again, the admin is told (and players, if they were), and held input
// is handled.

// Reboot hands every connection to a freshly started copy of the binary.
// On success it returns the timings and the process must exit (HandedOver
// is closed); on failure the talker has resumed serving and the error says
// why.
func (s *Server) Reboot(req RebootRequest) (*RebootTimings, error) {
	if !s.rebootMu.TryLock() {
		// Said to whoever asked (in-game, the launcher); a SIGHUP has no
		// one to tell but the log.
		s.cfg.Log.Warn().Str("by", req.By).Str("mode", string(req.Mode)).Msg("reboot refused: a reboot is already in progress")
		return nil, ErrRebootInProgress
	}
	defer s.rebootMu.Unlock()
	log := s.cfg.Log.With().Str("mode", string(req.Mode)).Str("by", req.By).Logger()
	if s.cfg.Upgrader == nil {
		log.Warn().Msg("reboot refused: no upgrader (not started by 'talker run')")
		return nil, errors.New("reboot is not available: this talker was not started by 'talker run'")
	}
	if s.isShutdown() {
		log.Warn().Msg("reboot refused: the talker is shutting down")
		return nil, errors.New("the talker is shutting down")
	}
	a := &attempt{s: s, req: req, log: log, gcPercent: -1, journal: -1}
	defer a.collectGarbageAgain()
	if err := a.run(); err != nil {
		return nil, a.rollback(err)
	}
	return a.timings, nil
}

// HandedOver is closed once a reboot has succeeded: the process must exit
// (with reboot.ExitHandedOver) without closing any connection.
func (s *Server) HandedOver() <-chan struct{} { return s.handedOver }

// attempt is one reboot in progress on the old generation's side. Its
// fields record how far it got, which is all rollback needs to know.
type attempt struct {
	s   *Server
	req RebootRequest
	log zerolog.Logger

	stopHooksRan bool            // announce ran the stop hooks: the start hooks run again on a rollback
	begun        time.Time       // the new binary was started
	child        *reboot.Attempt // the new binary, from begin on
	staged       *staged         // what was sent before the pause (nil if the child does not stage)
	paused       bool            // the pause began: a rollback resumes everyone
	gcPercent    int             // the collector's setting before the pause turned it off (-1: not yet)
	// journal is the crash journal passed on with the state (-1: none),
	// journalWas its phase before, for a rollback (journal.go).
	journal    int
	journalWas journalPhase
	timings    *RebootTimings // from the pause on
	// For the log: when the pause began, the accept loops had parked and
	// the readers had been asked to stop.
	pauseStart, acceptPaused, readersAsked time.Time
}

// run goes through the phases; the first error ends it.
func (a *attempt) run() error {
	path, err := reboot.Preflight()
	if err != nil {
		return err
	}
	// The new generation reads the configuration file afresh: one that
	// would not start is refused here, before anyone is told anything.
	if a.s.cfg.ConfigFile != "" {
		if _, err := config.Read(a.s.cfg.ConfigFile, a.s.cfg.Overrides); err != nil {
			return fmt.Errorf("the configuration file has mistakes (the talker carries on as it is): %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.s.cfg.ReadyTimeout)
	err = a.s.cfg.Upgrader.WaitForParent(ctx)
	cancel()
	if err != nil {
		return fmt.Errorf("the previous generation has not exited yet: %w", err)
	}
	a.log.Info().Str("binary", path).Str("reason", a.req.Reason).Msg("reboot starting")
	// Players are told only once the new generation is up and holds every
	// player's socket (staged): a binary that cannot start, or fails while
	// taking them in, is a reboot players never hear of (the admin who
	// asked, and the staff, are told why).
	if err := a.begin(); err != nil {
		return err
	}
	if err := a.announce(); err != nil {
		return err
	}
	if err := a.pause(); err != nil {
		return err
	}
	stateBytes, fds, err := a.snapshot()
	if err != nil {
		return err
	}
	return a.commit(stateBytes, fds)
}

// announce tells players and runs the stop hooks while the world is still
// live, so that they can still talk to players and change state that the
// snapshot then carries.
func (a *attempt) announce() error {
	var hookErr error
	a.s.world.do(func(w *World) {
		w.beginReboot(a.req)
		w.announceReboot(a.req)
		hookErr = w.runStopHooks(a.req.Mode)
	})
	a.stopHooksRan = true
	// The mode of this stop is on disk until the new generation (or this
	// one, after a rollback) records that it runs: if both die meanwhile,
	// the next cold start knows a reboot was under way.
	if a.req.Mode != reboot.ModeRestart {
		if err := a.s.store.SetMeta(metaStopMode, string(a.req.Mode)); err != nil {
			a.log.Error().Err(err).Msg("could not record the stop mode")
		}
	}
	return hookErr
}

// begin starts the new binary and stages every player's socket with it
// while this generation still serves: a binary that cannot start costs the
// players nothing, and none of that work is part of the pause.
func (a *attempt) begin() error {
	a.begun = a.s.cfg.Now()
	child, err := a.s.cfg.Upgrader.Begin(reboot.BeginRequest{Mode: a.req.Mode, Version: a.s.cfg.Version})
	if err != nil {
		return err
	}
	a.child = child
	if child.Staging() && a.req.Mode != reboot.ModeRestart {
		a.staged, err = a.s.stage(child)
	}
	return err
}

// pause stops everything players could change: the accept loops, then
// every reader (the World enters phasePausing, then phasePaused).
func (a *attempt) pause() error {
	s, deadline := a.s, a.child.Deadline()
	// A password check takes a noticeable fraction of a second: none has
	// started since the reboot began, and those already running finish
	// before the pause rather than in it. Everything must fit before the
	// handoff's deadline: the pause needs at least a quarter of the ready
	// timeout for the quiesce, the snapshot and the new generation's
	// restore.
	pauseBudget := s.cfg.ReadyTimeout / 4
	s.waitHashes(deadline.Add(-pauseBudget))
	// Collect now, while still serving, so that the snapshot's allocations
	// reuse memory instead of faulting in new pages; then no collection
	// until the attempt is over (the snapshot's garbage can wait).
	runtime.GC()
	if time.Until(deadline) < pauseBudget {
		return errors.New("timed out before the pause: starting the new binary and staging took too long")
	}
	// The pause players notice starts here: from now on their input waits
	// until the new generation (or, on failure, this one) reads it.
	a.gcPercent = debug.SetGCPercent(-1)
	a.pauseStart = s.cfg.Now()
	a.timings = &RebootTimings{Mode: a.req.Mode, At: a.pauseStart, By: a.req.By, BySession: a.req.BySession,
		Reason: a.req.Reason, FromVersion: s.cfg.Version, FromPID: pid(), Prepare: a.pauseStart.Sub(a.begun)}
	a.timings.Exec, a.timings.Stage = a.child.Timings()
	s.pauseAccept()
	a.paused = true
	a.acceptPaused = s.cfg.Now()
	if a.req.Mode == reboot.ModeRestart {
		// A restart disconnects everyone (after their last output) and
		// hands over nothing but the listeners.
		var closing []*conn.Conn
		s.world.do(func(w *World) { closing = w.disconnectAll(closeRestart) })
		waitClosed(closing, min(s.cfg.Limits.FlushWait, time.Until(deadline)/2))
		if err := s.store.SetMeta(metaStopMode, string(reboot.ModeRestart)); err != nil {
			a.log.Error().Err(err).Msg("could not record the stop mode")
		}
	}
	quiesced := make(chan struct{})
	s.world.doFirst(func(w *World) { w.startQuiesce(quiesced, a.child.Staging()) })
	a.readersAsked = s.cfg.Now()
	select {
	case <-quiesced:
		return nil
	case <-time.After(max(time.Until(deadline)-pauseBudget/2, pauseBudget/2)):
		return errors.New("timed out waiting for connections to pause")
	}
}

// snapshot encodes the paused world.
func (a *attempt) snapshot() ([]byte, []int, error) {
	var stateBytes []byte
	var fds []int
	var err error
	t := a.timings
	a.s.world.do(func(w *World) {
		start := a.s.cfg.Now()
		t.Quiesce = start.Sub(a.pauseStart)
		if a.req.Mode != reboot.ModeRestart && a.child.ContinuesJournal() {
			// Before the snapshot, which then leaves the input readers
			// took in the sockets (World.carry).
			a.journal, a.journalWas = w.passJournalOn()
		}
		stateBytes, fds, err = w.snapshot(a.req.Mode, t, a.staged, a.child.Staged())
		t.Snapshot = a.s.cfg.Now().Sub(start)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot: %w", err)
	}
	a.log.Info().Int("sessions", a.staged.count()+len(fds)).Int("staged", a.staged.count()).Int("state_bytes", len(stateBytes)).
		Dur("quiesce", t.Quiesce).Dur("accept_paused", a.acceptPaused.Sub(a.pauseStart)).
		Dur("readers_asked", a.readersAsked.Sub(a.acceptPaused)).Dur("snapshot", t.Snapshot).Msg("handing over")
	return stateBytes, fds, nil
}

// commit sends the state and the sockets not staged, and waits for the new
// generation to restore them and become ready. Then this one has handed
// over: it answers whoever asked, and exits.
func (a *attempt) commit(stateBytes []byte, fds []int) error {
	res, err := a.child.Complete(reboot.Request{Mode: a.req.Mode, State: stateBytes, FDs: fds,
		Started: a.pauseStart, Version: a.s.cfg.Version, Journal: a.journal})
	if err != nil {
		return err
	}
	t := a.timings
	t.Handoff = res.Transfer + res.StateWrite
	t.Restore = res.Child.Restored
	t.ToVersion = res.Child.Version
	t.ToPID = res.Child.PID
	t.Sessions, t.Dropped = res.Child.Sessions, res.Child.Dropped
	t.Pause = a.s.cfg.Now().Sub(a.pauseStart)
	a.log.Info().Int("new_pid", res.Child.PID).Dur("exec", res.Exec).Dur("stage", res.Stage).
		Dur("handoff", t.Handoff).Dur("restore", t.Restore).
		Dur("total", t.Pause).Msg("handed over to the new generation; exiting")
	a.s.world.do(func(w *World) { w.system.LastReboot = t })
	close(a.s.handedOver)
	a.s.closeControl()
	return nil
}

// rollback is the one way back from a failed attempt, however far it got:
// the new binary is killed, everyone resumes from exactly where they
// paused (a restart, whose players are gone, records that it runs again),
// the start hooks of the same mode run if the stop hooks did, players and
// the admin are told, and what was held back for the next generation is
// handled here, in order. It returns err.
func (a *attempt) rollback(err error) error {
	s := a.s
	if a.child != nil {
		a.child.Abort() // (nothing to do if the handoff itself failed: it killed the child)
	}
	if a.journal > 0 {
		s.world.do(func(w *World) { w.takeJournalBack(a.journalWas) })
		a.journal = -1
	}
	if a.paused {
		s.resume()
		if a.req.Mode == reboot.ModeRestart {
			s.markRunning()
		}
	}
	a.log.Error().Err(err).Msg("reboot failed; still serving")
	if a.stopHooksRan && !s.isShutdown() {
		s.markRunning() // (a shutdown meanwhile has recorded its own mode)
	}
	s.world.do(func(w *World) {
		if a.stopHooksRan {
			w.runStartHooksAfterRollback(a.req.Mode)
		}
		w.rebootFailed(a.req, err, a.stopHooksRan)
		w.endReboot()
	})
	return err
}

// collectGarbageAgain turns the collector back on if the pause turned it
// off.
func (a *attempt) collectGarbageAgain() {
	if a.gcPercent >= 0 {
		debug.SetGCPercent(a.gcPercent)
	}
}

// resume undoes a pause after a failed handoff: every writer, then every
// reader, then the listener, exactly as before.
func (s *Server) resume() {
	s.world.do(func(w *World) { w.resumeAll() })
	s.resumeAccept()
}

// announceReboot tells players a reboot is starting.
func (w *World) announceReboot(req RebootRequest) {
	msg := w.cfg.Messages.Rebooting
	switch req.Mode {
	case reboot.ModeRecover:
		return // players see one line, after: that the talker tripped and recovered
	case reboot.ModeReset:
		msg = w.cfg.Messages.Resetting
	case reboot.ModeRestart:
		msg = w.cfg.Messages.Restarting
	}
	if msg == "" {
		return // configured to say nothing
	}
	if req.Reason != "" {
		msg += " (" + req.Reason + ")"
	}
	w.toOnline(msg)
}

// rebootFailed tells the admin why the reboot did not happen, and the
// players that it was called off if they were told it was coming (one
// refused before the announcement, by its preflight, they never see).
func (w *World) rebootFailed(req RebootRequest, err error, announced bool) {
	for _, s := range w.online {
		if s.ID == req.BySession {
			s.println("*** Reboot failed: " + err.Error())
		} else if announced && w.cfg.Messages.RebootFailed != "" {
			s.println(w.cfg.Messages.RebootFailed)
		}
	}
	for _, s := range w.online {
		if s.ID != req.BySession && s.Player.Rank >= adminRank {
			s.println("*** [staff] The reboot failed: " + err.Error())
		}
	}
}

// runStartHooksAfterRollback: the stop hooks have run, so a generation
// that carries on after a failed reboot runs the start hooks of the same
// mode, as if it had been reloaded into itself.
func (w *World) runStartHooksAfterRollback(mode reboot.Mode) {
	if err := w.runStartHooks(mode); err != nil {
		w.log.Error().Err(err).Msg("start hooks after a failed reboot")
	}
}

// waitHashes waits (at most until until) until no password check is
// running; the world starts none meanwhile (mustDefer), and those still
// queued go back to being their sessions' input (hashqueue.go).
func (s *Server) waitHashes(until time.Time) {
	idle := make(chan struct{})
	s.world.do(func(w *World) {
		w.requeueHashesAsInput()
		if w.hashJobs == 0 || w.reboot == nil {
			close(idle)
		} else {
			w.reboot.hashesIdle = idle
		}
	})
	select {
	case <-idle:
	case <-time.After(time.Until(until)):
		// The quiesce waits for the rest.
	}
}

// startQuiesce freezes every reader; done is closed once all have stopped
// and no password check is running (phasePaused). It runs ahead of
// whatever the world has queued: from now on input is deferred (mustDefer),
// and carried to the next generation, rather than handled. An idle reader
// is frozen where it waits, without being woken; only one in the middle of
// a batch is waited for (it reports Stopped when it has delivered it).
//
// With carry false (the new binary is an older build, which would refuse
// held input), input is handled here as it used to be: what was held back
// since the reboot began is handled now (a password check it starts is
// waited for), and so is everything queued.
func (w *World) startQuiesce(done chan struct{}, carry bool) {
	w.pause = &pauseState{carry: carry, readers: make(map[uint64]bool), done: done}
	if w.phase != phaseStopping {
		w.phase = phasePausing
	}
	if carry {
		w.requeueHashesAsInput()
	}
	for id, s := range w.sessions {
		if !s.conn.FreezeReading() {
			w.pause.readers[id] = true
		}
	}
	if !carry {
		w.replayHeld()
	}
	w.checkQuiesced()
}

// checkQuiesced enters phasePaused once nothing is in flight: every reader
// stopped and no password check outstanding.
func (w *World) checkQuiesced() {
	if w.phase != phasePausing || len(w.pause.readers) > 0 || w.hashJobs > 0 {
		return
	}
	w.phase = phasePaused
	close(w.pause.done)
}

// resumeAll thaws every writer, then every reader, after a failed
// handoff: the world carries on from exactly where it stopped, still in
// the reboot until it ends (endReboot).
func (w *World) resumeAll() {
	w.pause = nil
	if w.paused() {
		w.phase = phaseServing
		if w.reboot != nil {
			w.phase = phaseRebooting
		}
	}
	for _, s := range w.sessions {
		s.conn.ThawWriting()
	}
	for _, s := range w.sessions {
		// Thaws a frozen reader; starts a connection accepted during the
		// pause.
		s.conn.Start()
	}
}

// disconnectAll closes every session after its pending output, returning
// the connections to wait for.
func (w *World) disconnectAll(reason closeReason) []*conn.Conn {
	var closing []*conn.Conn
	for _, s := range w.sessions {
		closing = append(closing, s.conn)
		w.closeSession(s, reason)
	}
	w.endAllLinkDead(reason)
	return closing
}

// A stage message must stay well under what the child accepts (a
// megabyte, sent as base64 in JSON): chunks end at maxStageChunk bytes of
// records, and a session whose record alone is bigger than
// maxStagedRecord is not staged at all (it goes whole with the state).
const (
	maxStageChunk   = 512 << 10
	maxStagedRecord = 256 << 10
)

// staged is what a reboot sent the new binary before the pause: each
// staged session's descriptor index and record, by connection id.
type staged struct {
	index   map[uint64]int
	records map[uint64]state.Record
}

func (st *staged) count() int {
	if st == nil {
		return 0
	}
	return len(st.index)
}

// stage sends every session's socket, with its record, to the new binary
// while this generation still serves, so that neither wrapping the
// sockets nor decoding the records is part of the pause. A chunk at a
// time, each taken in one short world call: the sockets are sent as
// duplicates (a connection that closes meanwhile is simply not staged and
// can never hand the child a reused descriptor; at most 253 extra
// descriptors exist at once), the records as encoded then. At the pause,
// a session whose record is unchanged sends only what a pause changes
// (see snapshot). A connection that ends after it was staged is shut down
// here, which the child's copy cannot keep open; the snapshot does not
// mention it, so the child closes it.
func (s *Server) stage(child *reboot.Attempt) (*staged, error) {
	var ids []uint64
	s.world.do(func(w *World) {
		ids = make([]uint64, 0, len(w.sessions))
		for id := range w.sessions {
			ids = append(ids, id)
		}
	})
	st := &staged{index: make(map[uint64]int, len(ids)), records: make(map[uint64]state.Record, len(ids))}
	// Where the staging goes, for the log: waiting for and working in the
	// world, sending (which waits on the child's pace), the child's last.
	var inWorld, working, sending time.Duration
	for len(ids) > 0 {
		var chunk state.StageChunk
		var fds []int
		base, size := child.Staged(), 0
		t0 := time.Now()
		// Ahead of the queued chat: each call is short (253 records, 7–10
		// ms under load at 10,000), and behind the queue the 40 calls
		// waited 1.3–2.1 s of a 3.7–4.2 s staging (0.3–0.7 s with doFirst).
		s.world.doFirst(func(w *World) {
			began := time.Now()
			defer func() { working += time.Since(began) }()
			for len(ids) > 0 && len(fds) < ipc.MaxPerMessage {
				id := ids[0]
				sess := w.sessions[id]
				if sess == nil {
					ids = ids[1:]
					continue // gone meanwhile
				}
				rec, err := w.encodeCheckpoint(sess)
				if err != nil || len(rec) > maxStagedRecord {
					ids = ids[1:]
					continue // handed over whole, socket and all, at the pause
				}
				if len(fds) > 0 && size+len(rec) > maxStageChunk {
					break // it starts the next chunk
				}
				ids = ids[1:]
				fd, err := sess.conn.DupFD()
				if err != nil {
					continue // closed meanwhile
				}
				st.index[id] = base + len(fds)
				st.records[id] = rec
				chunk.IDs = append(chunk.IDs, id)
				chunk.Records = append(chunk.Records, rec)
				fds = append(fds, fd)
				size += len(rec)
			}
		})
		t1 := time.Now()
		data, err := state.EncodeStageChunk(&chunk)
		if err != nil {
			ipc.CloseAll(fds)
			return nil, fmt.Errorf("staging: %w", err)
		}
		err = child.Stage(data, fds)
		ipc.CloseAll(fds)
		if err != nil {
			return nil, err
		}
		inWorld += t1.Sub(t0)
		sending += time.Since(t1)
	}
	t2 := time.Now()
	if _, err := child.EndStage(); err != nil {
		return nil, err
	}
	s.cfg.Log.Info().Int("staged", st.count()).Dur("world", inWorld).Dur("world_work", working).Dur("send", sending).
		Dur("last", time.Since(t2)).Msg("sockets staged")
	return st, nil
}

// snapshot stops every writer and captures the world. A session whose
// socket was staged (st, which may be nil) refers to it, and if its record
// has not changed since, carries only what the pause changes; the others'
// descriptors are returned, numbered from nStaged on. They are the
// connections' own: valid while the world stays frozen, not to be closed.
func (w *World) snapshot(mode reboot.Mode, t *RebootTimings, st *staged, nStaged int) ([]byte, []int, error) {
	snap := &state.Snapshot{Mode: string(mode)}
	// Freeze every writer: only those in the middle of a write are
	// interrupted, all of them first, then waited for, so that the waits
	// overlap instead of adding up.
	var writing []*conn.Conn
	for _, s := range w.sessions {
		if s.conn.FreezeWriting() {
			writing = append(writing, s.conn)
		}
	}
	for _, c := range writing {
		c.WaitWriting()
	}
	// Sessions in room order first, so that the new generation rebuilds
	// each room's members in the order they arrived.
	// The sockets' own descriptors are handed over, not duplicates: with
	// every writer and reader stopped and the world frozen, nothing closes
	// one before the handoff is over, and duplicating 10,000 sockets would
	// need 10,000 more descriptors than the process may have.
	// A connection found closed under the frozen world (its writer met a
	// reset) is logged out here, before anything is handed over: its
	// player is saved and the departure queued to the others as unsent
	// output. A logout can drop a client whose backlog is full, so this
	// repeats until none is closed; descriptors are taken only after.
	for closed := true; closed; {
		closed = false
		for _, s := range w.sessions {
			if s.conn.HungUp() {
				w.log.Info().Uint64("conn", s.ID).Str("player", s.name()).Msg("connection closed during the pause")
				if !w.goLinkDead(s, errors.New("closed during the pause")) {
					w.remove(s, closeConnectionLost)
				}
				closed = true
			}
		}
	}
	all := w.sessionsInRoomOrder()
	order := all[:0]
	var fds []int
	snap.SessionFDs = make([]int, 0, len(all))
	for _, s := range all {
		if st != nil {
			if idx, ok := st.index[s.ID]; ok {
				order = append(order, s)
				snap.SessionFDs = append(snap.SessionFDs, idx)
				continue
			}
		}
		fd, err := s.conn.RawFD()
		if err != nil {
			// Closed under the frozen world (the writer found it broken):
			// there is nothing to hand over.
			w.log.Warn().Uint64("conn", s.ID).Err(err).Msg("snapshot: connection already closed; not carried")
			continue
		}
		order = append(order, s)
		snap.SessionFDs = append(snap.SessionFDs, nStaged+len(fds))
		fds = append(fds, fd)
	}
	// Encoding is most of the snapshot's cost at scale; the world is
	// frozen (nothing changes while this runs), so records are encoded in
	// parallel.
	// Version 3 when nothing needs 4 (no staged record, no held input) or
	// 5 (nobody at an in-game password prompt) or 6 (nobody in the pager
	// or the editor), so that a reboot into the previous build still works.
	held, stage, texts, v7 := false, StageName, false, false
	for _, s := range order {
		held = held || len(s.held) > 0
		stage = max(stage, s.Login.Stage)
		texts = texts || s.Pager != nil || s.Editor != nil
		v7 = v7 || s.needsVersion7()
	}
	v7 = v7 || len(w.linkDead) > 0 // carried in the system state (linkdead.go)
	snap.Version = state.VersionFor(held, st.count() > 0, uint8(stage), texts, v7)
	snap.Sessions = make([]state.Record, len(order))
	errs := make([]error, len(order))
	parallel(len(order), func(i int) {
		s, fd := order[i], snap.SessionFDs[i]
		if st != nil {
			if rec, ok := st.records[s.ID]; ok {
				if w.checkpointUnchanged(s, rec) {
					r := w.pauseRecord(s, fd)
					snap.Sessions[i], errs[i] = state.EncodeSession(snap.Version, &r)
					return
				}
			}
		}
		snap.Sessions[i], errs[i] = w.encodeFull(s, fd, snap.Version)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fds, fmt.Errorf("encode session %d: %w", order[i].ID, err)
		}
	}
	sys := w.systemRecord()
	sys.LastReboot = timingsToWire(t)
	sys.LinkDead = w.linkDeadToWire() // (the angel's checkpoints splice them in: linkdead.go)
	var err error
	if snap.System, err = state.EncodeSystem(&sys); err != nil {
		return nil, fds, err
	}
	b, err := state.Encode(snap)
	return b, fds, err
}

// sessionsInRoomOrder lists rooms' members in arrival order, then every
// session not in a room.
func (w *World) sessionsInRoomOrder() []*Session {
	out := make([]*Session, 0, len(w.sessions))
	seen := make(map[*Session]bool, len(w.sessions))
	for _, id := range w.roomIDs() {
		for _, s := range w.rooms[id].Members {
			if s.linkDead != nil {
				continue // no socket: carried in the system state (linkdead.go)
			}
			out = append(out, s)
			seen[s] = true
		}
	}
	for _, s := range w.sessions {
		if !seen[s] {
			out = append(out, s)
		}
	}
	return out
}
