package server

import (
	"bytes"
	"context"
		"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"talker/ipc"
	"talker/reboot"
	"talker/server/conn"
	"talker/state"
)

// Handoffer is what the server needs from the process to reboot: package
// reboot's Upgrader. Without one (an in-process test, say) reboots are
// refused with a clear message.
type Handoffer interface {
	Begin(req reboot.BeginRequest) (*reboot.Handover, error)
	WaitForParent(ctx context.Context) error
}

// RebootRequest asks for a seamless reboot (or reset).
type RebootRequest struct {
	Mode      reboot.Mode // ModeReboot or ModeReset
	Reason    string
	By        string // who asked, for messages and logs
	BySession uint64 // the admin's session, to tell them the outcome in-game
}

// RebootTimings are the phases of one reboot, as admins see them.
type RebootTimings struct {
	Mode        reboot.Mode
	At          time.Time
	By          string // who asked (a player, "console", "signal")
	BySession   uint64 // the session to tell, if in-game
	Reason      string
	FromVersion string
	ToVersion   string
	FromPID     int
	ToPID       int
	Sessions    int
	Dropped     int
	Prepare     time.Duration // start the new binary and stage the sockets, before the pause
	Exec        time.Duration // of Prepare: until the new binary said hello
	Stage       time.Duration // of Prepare: handing it the sockets and their records
	Quiesce     time.Duration // stop reading, drain the world, stop writing
	Snapshot    time.Duration // encode the state
	Handoff     time.Duration // write the state, pass it and the unstaged sockets
	Restore     time.Duration // decode and rebuild in the new binary
	Pause       time.Duration // from the start of the quiesce to everyone resumed
}

// ErrRebootInProgress is returned when a reboot is asked for during one.
var ErrRebootInProgress = errors.New("a reboot is already in progress")

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
	stopHooksRan := false
	fail := func(err error) (*RebootTimings, error) {
		log.Error().Err(err).Msg("reboot failed; still serving")
		if stopHooksRan && !s.isShutdown() {
			s.markRunning() // (a shutdown meanwhile has recorded its own mode)
		}
		s.world.do(func(w *World) {
			if stopHooksRan {
				w.runStartHooksAfterRollback(req.Mode)
			}
			w.rebootFailed(req, err)
			// What was held back for the next generation is handled here
			// after all, in order, before anything typed since.
			w.rebooting = false
			w.replayHeld()
		})
		return nil, err
	}
	if s.cfg.Upgrader == nil {
		log.Warn().Msg("reboot refused: no upgrader (not started by 'talker run')")
		return nil, errors.New("reboot is not available: this talker was not started by 'talker run'")
	}
	if s.isShutdown() {
		log.Warn().Msg("reboot refused: the talker is shutting down")
		return nil, errors.New("the talker is shutting down")
	}
	path, err := reboot.Preflight()
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ReadyTimeout)
	err = s.cfg.Upgrader.WaitForParent(ctx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("the previous generation has not exited yet: %w", err))
	}
	log.Info().Str("binary", path).Str("reason", req.Reason).Msg("reboot starting")
	// Stop hooks run while the world is still live, so they can still talk
	// to players and change state that the snapshot then carries.
	var hookErr error
	s.world.do(func(w *World) {
		w.rebooting = true
		w.announceReboot(req)
		hookErr = w.runStopHooks(req.Mode)
	})
	stopHooksRan = true
	// The mode of this stop is on disk until the new generation (or this
	// one, after a rollback) records that it runs: if both die meanwhile,
	// the next cold start knows a reboot was under way.
	if req.Mode != reboot.ModeRestart {
		if err := s.store.SetMeta(metaStopMode, string(req.Mode)); err != nil {
			log.Error().Err(err).Msg("could not record the stop mode")
		}
	}
	if hookErr != nil {
		return fail(hookErr)
	}

	// The new binary starts, and takes in every player's socket, while
	// this generation still serves: a binary that cannot start costs the
	// players nothing, and none of that work is part of the pause.
	tBegin := s.cfg.Now()
	h, err := s.cfg.Upgrader.Begin(reboot.BeginRequest{Mode: req.Mode, Version: s.cfg.Version})
	if err != nil {
		return fail(err)
	}
	var st *staged
	if h.Staging() && req.Mode != reboot.ModeRestart {
		if st, err = s.stage(h); err != nil {
			return fail(err)
		}
	}

	// A password check takes a noticeable fraction of a second: none has
	// started since the reboot began, and those already running finish
	// before the pause rather than in it.
	// Everything must fit before the handover's deadline: the pause needs
	// at least a quarter of the ready timeout for the quiesce, the snapshot
	// and the new generation's restore.
	pauseBudget := s.cfg.ReadyTimeout / 4
	s.waitHashes(h.Deadline().Add(-pauseBudget))
	// Collect now, while still serving, so that the snapshot's allocations
	// reuse memory instead of faulting in new pages; then no collection
	// until the pause is over.
	runtime.GC()
	if time.Until(h.Deadline()) < pauseBudget {
		h.Abort()
		return fail(errors.New("timed out before the pause: starting the new binary and staging took too long"))
	}
	// After a failure from here on: everyone carries on from the pause (a
	// restart, whose players are gone, records that it is running again).
	resume := func() {
		s.resume()
		if req.Mode == reboot.ModeRestart {
			s.markRunning()
		}
	}

	// The pause players notice starts here: from now on their input waits
	// until the new generation (or, on failure, this one) reads it. The
	// snapshot's garbage can wait for the collector until it is over.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := s.cfg.Now()
	timings := &RebootTimings{Mode: req.Mode, At: start, By: req.By, BySession: req.BySession,
		Reason: req.Reason, FromVersion: s.cfg.Version, FromPID: pid(), Prepare: start.Sub(tBegin)}
	timings.Exec, timings.Stage = h.Timings()
	s.pauseAccept()
	tAccept := s.cfg.Now()
	if req.Mode == reboot.ModeRestart {
		// A restart disconnects everyone (after their last output) and
		// hands over nothing but the listeners.
		var closing []*conn.Conn
		s.world.do(func(w *World) { closing = w.disconnectAll("restart") })
		waitClosed(closing, min(s.cfg.Limits.FlushWait, time.Until(h.Deadline())/2))
		if err := s.store.SetMeta(metaStopMode, string(reboot.ModeRestart)); err != nil {
			log.Error().Err(err).Msg("could not record the stop mode")
		}
	}
	quiesced := make(chan struct{})
	s.world.doFirst(func(w *World) { w.startQuiesce(quiesced, h.Staging()) })
	tReaders := s.cfg.Now()
	select {
	case <-quiesced:
	case <-time.After(max(time.Until(h.Deadline())-pauseBudget/2, pauseBudget/2)):
		h.Abort()
		resume()
		return fail(errors.New("timed out waiting for connections to pause"))
	}
	var state []byte
	var fds []int
	var snapErr error
	s.world.do(func(w *World) {
		t := s.cfg.Now()
		timings.Quiesce = t.Sub(start)
		state, fds, snapErr = w.snapshot(req.Mode, timings, st, h.Staged())
		timings.Snapshot = s.cfg.Now().Sub(t)
	})
	if snapErr != nil {
		h.Abort()
		resume()
		return fail(fmt.Errorf("snapshot: %w", snapErr))
	}
	log.Info().Int("sessions", st.count()+len(fds)).Int("staged", st.count()).Int("state_bytes", len(state)).
		Dur("quiesce", timings.Quiesce).Dur("accept_paused", tAccept.Sub(start)).Dur("readers_asked", tReaders.Sub(tAccept)).
		Dur("snapshot", timings.Snapshot).Msg("handing over")
	res, err := h.Complete(reboot.Request{Mode: req.Mode, State: state, FDs: fds,
		Started: start, Version: s.cfg.Version})
	if err != nil {
		resume()
		return fail(err)
	}
	timings.Handoff = res.Transfer + res.StateWrite
	timings.Restore = res.Child.Restored
	timings.ToVersion = res.Child.Version
	timings.ToPID = res.Child.PID
	timings.Sessions, timings.Dropped = res.Child.Sessions, res.Child.Dropped
	timings.Pause = s.cfg.Now().Sub(start)
	log.Info().Int("new_pid", res.Child.PID).Dur("exec", res.Exec).Dur("stage", res.Stage).
		Dur("handoff", timings.Handoff).Dur("restore", timings.Restore).
		Dur("total", timings.Pause).Msg("handed over to the new generation; exiting")
	s.world.do(func(w *World) { w.system.LastReboot = timings })
	close(s.handedOver)
	s.closeControl()
	return timings, nil
}

// HandedOver is closed once a reboot has succeeded: the process must exit
// (with reboot.ExitHandedOver) without closing any connection.
func (s *Server) HandedOver() <-chan struct{} { return s.handedOver }

// resume undoes a quiesce after a failed handoff: every writer, then every
// reader, then the listener, exactly as before.
func (s *Server) resume() {
	s.world.do(func(w *World) { w.resumeAll() })
	s.resumeAccept()
}

// announceReboot tells players a reboot is starting. A countdown to the
// same kind of reboot is done by this one (put back if it fails); a
// countdown to another kind carries on, in the next generation too.
func (w *World) announceReboot(req RebootRequest) {
	w.supersededCountdown = nil
	if c := w.countdown; c != nil && c.Req.Mode == req.Mode {
		w.supersededCountdown, w.countdown = c, nil
	}
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

// rebootFailed tells players the reboot did not happen and the admin why.
func (w *World) rebootFailed(req RebootRequest, err error) {
	w.recovering = false
	if c := w.supersededCountdown; c != nil && w.countdown == nil {
		// The countdown this reboot pre-empted still has a reboot to do,
		// unless its time has come meanwhile: this failure was its reboot.
		w.supersededCountdown = nil
		if left := c.At.Sub(w.cfg.Now()); left > 0 {
			w.countdown = c
			defer w.announceCountdown(left)
		}
	}
	for _, s := range w.online {
		if s.ID == req.BySession {
			s.println("*** Reboot failed: " + err.Error())
		} else if w.cfg.Messages.RebootFailed != "" {
			s.println(w.cfg.Messages.RebootFailed)
		}
	}
	for _, s := range w.online {
		if s.ID != req.BySession && s.Player.Rank >= adminRank {
			s.println("*** [staff] The reboot failed: " + err.Error())
		}
	}
}

// waitHashes waits (at most until until) until no password check is
// running; the world starts none meanwhile (mustDefer).
func (s *Server) waitHashes(until time.Time) {
	idle := make(chan struct{})
	s.world.do(func(w *World) {
		if w.hashJobs == 0 {
			close(idle)
		} else {
			w.hashIdle = idle
		}
	})
	select {
	case <-idle:
	case <-time.After(time.Until(until)):
		// The quiesce waits for the rest.
	}
}

// startQuiesce freezes every reader; done is closed once all have stopped
// and no password check is running. It runs ahead of whatever the world
// has queued: from now on input is deferred (mustDefer), and carried to
// the next generation, rather than handled. An idle reader is frozen where
// it waits, without being woken; only one in the middle of a batch is
// waited for (it reports Stopped when it has delivered it).
//
// With carry false (the new binary is an older build, which would refuse
// held input), input is handled here as it used to be: what was held back
// since the reboot began is handled now (a password check it starts is
// waited for), and so is everything queued.
func (w *World) startQuiesce(done chan struct{}, carry bool) {
	w.quiesce = &quiesceState{readers: make(map[uint64]bool), done: done}
	w.carrying = carry
	for id, s := range w.sessions {
		if !s.conn.FreezeReading() {
			w.quiesce.readers[id] = true
		}
	}
	if !carry {
		w.rebooting = false
		w.replayHeld()
	}
	w.checkQuiesced()
}

type quiesceState struct {
	readers map[uint64]bool // sessions whose reader has not stopped yet
	done    chan struct{}
}

// checkQuiesced closes the quiesce's done channel once nothing is in
// flight: every reader stopped and no password check outstanding.
func (w *World) checkQuiesced() {
	q := w.quiesce
	if q == nil || len(q.readers) > 0 || w.hashJobs > 0 {
		return
	}
	w.quiesce = nil
	w.frozen = true
	close(q.done)
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
func (s *Server) stage(h *reboot.Handover) (*staged, error) {
	var ids []uint64
	s.world.do(func(w *World) {
		ids = make([]uint64, 0, len(w.sessions))
		for id := range w.sessions {
			ids = append(ids, id)
		}
	})
	st := &staged{index: make(map[uint64]int, len(ids)), records: make(map[uint64]state.Record, len(ids))}
	for len(ids) > 0 {
		var chunk state.StageChunk
		var fds []int
		base, size := h.Staged(), 0
		s.world.do(func(w *World) {
			for len(ids) > 0 && len(fds) < ipc.MaxPerMessage {
				id := ids[0]
				sess := w.sessions[id]
				if sess == nil {
					ids = ids[1:]
					continue // gone meanwhile
				}
				rec, err := sess.encodeCheckpoint()
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
		data, err := state.EncodeStageChunk(&chunk)
		if err != nil {
			ipc.CloseAll(fds)
			h.Abort()
			return nil, fmt.Errorf("staging: %w", err)
		}
		err = h.Stage(data, fds)
		ipc.CloseAll(fds)
		if err != nil {
			return nil, err
		}
	}
	if _, err := h.EndStage(); err != nil {
		return nil, err
	}
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
				w.remove(s, "connection lost")
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
	// Version 3 when nothing needs 4 (no staged record, no held input), so
	// that a reboot into the previous build still works.
	held := false
	for _, s := range order {
		held = held || len(s.held) > 0
	}
	snap.Version = state.VersionFor(held, st.count() > 0)
	snap.Sessions = make([]state.Record, len(order))
	errs := make([]error, len(order))
	parallel(len(order), func(i int) {
		s, fd := order[i], snap.SessionFDs[i]
		if st != nil {
			if rec, ok := st.records[s.ID]; ok {
				if now, err := s.encodeCheckpoint(); err == nil && bytes.Equal(now, rec) {
					r := s.pauseRecord(fd)
					snap.Sessions[i], errs[i] = state.EncodeSession(snap.Version, &r)
					return
				}
			}
		}
		r := s.fullRecord(fd)
		snap.Sessions[i], errs[i] = state.EncodeSession(snap.Version, &r)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fds, fmt.Errorf("encode session %d: %w", order[i].ID, err)
		}
	}
	sys := w.systemRecord()
	sys.LastReboot = timingsToWire(t)
	var err error
	if snap.System, err = state.EncodeSystem(&sys); err != nil {
		return nil, fds, err
	}
	b, err := state.Encode(snap)
	return b, fds, err
}

// parallel calls fn(0..n-1) on as many goroutines as there are CPUs.
func parallel(n int, fn func(i int)) { parallelOn(runtime.GOMAXPROCS(0), n, fn) }

// parallelOn calls fn(0..n-1) on at most cpus goroutines (at least one).
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

// sessionsInRoomOrder lists rooms' members in arrival order, then every
// session not in a room.
func (w *World) sessionsInRoomOrder() []*Session {
	out := make([]*Session, 0, len(w.sessions))
	seen := make(map[*Session]bool, len(w.sessions))
	for _, id := range w.roomIDs() {
		for _, s := range w.rooms[id].Members {
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

// resumeAll thaws every writer, then every reader, after a failed
// handoff: the world carries on from exactly where it stopped.
func (w *World) resumeAll() {
	w.frozen = false
	w.quiesce = nil
	w.carrying = false
	for _, s := range w.sessions {
		s.conn.ThawWriting()
	}
	for _, s := range w.sessions {
		// Thaws a frozen reader; starts a connection accepted during the
		// pause.
		s.conn.Start()
	}
}

// runStartHooks and runStopHooks run the lifecycle hooks, which can ask
// the world which mode they run in (hookapi.go).
func (w *World) runStartHooks(mode reboot.Mode) error {
	w.hookMode = mode
	return w.cfg.Hooks.RunStart(mode, w)
}

func (w *World) runStopHooks(mode reboot.Mode) error {
	w.hookMode = mode
	return w.cfg.Hooks.RunStop(mode, w)
}

// runStartHooksAfterRollback: the stop hooks have run, so a generation
// that carries on after a failed reboot runs the start hooks of the same
// mode, as if it had been reloaded into itself.
func (w *World) runStartHooksAfterRollback(mode reboot.Mode) {
	if err := w.runStartHooks(mode); err != nil {
		w.log.Error().Err(err).Msg("start hooks after a failed reboot")
	}
}

// countdown is a reboot (or, in World.shutdownCountdown, a shutdown)
// scheduled for later, announced as it nears.
type countdown struct {
	Req          RebootRequest
	At           time.Time
	LastAnnounce time.Time
}

// scheduleReboot starts a countdown, or reboots now for seconds <= 0.
func (w *World) scheduleReboot(req RebootRequest, seconds int) {
	if seconds <= 0 {
		go w.requestReboot(req)
		return
	}
	now := w.cfg.Now()
	w.countdown = &countdown{Req: req, At: now.Add(time.Duration(seconds) * time.Second), LastAnnounce: now}
	w.announceCountdown(time.Duration(seconds) * time.Second)
}

func (w *World) announceCountdown(left time.Duration) {
	what := "reboot"
	if w.countdown.Req.Mode == reboot.ModeReset {
		what = "reset"
	}
	msg := "*** The talker will " + what + " in " + ago(left.Round(time.Second)) + "; you will stay connected."
	if w.countdown.Req.Reason != "" {
		msg += " (" + w.countdown.Req.Reason + ")"
	}
	w.toOnline(msg)
}

// tickCountdown announces a countdown every minute, then every 10 seconds
// in the last minute, and fires it when it is due.
func (w *World) tickCountdown(now time.Time) {
	c := w.countdown
	if c == nil {
		return
	}
	fire, announce, left := c.step(now)
	switch {
	case fire:
		w.countdown = nil
		go w.requestReboot(c.Req)
	case announce:
		w.announceCountdown(left)
	}
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

// requestReboot is called off the world goroutine: the reboot needs the
// world to answer its requests.
func (w *World) requestReboot(req RebootRequest) {
	if w.reboot == nil {
		return
	}
	if _, err := w.reboot(req); err != nil && errors.Is(err, ErrRebootInProgress) {
		w.do(func(w *World) {
			if s := w.sessions[req.BySession]; s != nil {
				s.println("A reboot is already in progress.")
			}
		})
	}
}

func (w *World) roomIDs() []string {
	ids := make([]string, 0, len(w.rooms))
	for id := range w.rooms {
		ids = append(ids, id)
	}
	sortStrings(ids)
	return ids
}

// timingsLine formats a reboot's phases for admins.
func timingsLine(t *RebootTimings) string {
	parts := []string{
		"prepare " + ms(t.Prepare) + " (exec " + ms(t.Exec) + ", staging " + ms(t.Stage) + "; before the pause)",
		"quiesce " + ms(t.Quiesce),
		"snapshot " + ms(t.Snapshot),
		"handoff " + ms(t.Handoff),
		"restore " + ms(t.Restore),
		"pause " + ms(t.Pause),
	}
	s := strings.Join(parts, ", ") + "; " + itoa(t.Sessions) + " sessions"
	if t.Dropped > 0 {
		s += " (" + itoa(t.Dropped) + " could not be restored)"
	}
	return s + "; version " + t.FromVersion + " -> " + t.ToVersion + ", pid " + itoa(t.FromPID) + " -> " + itoa(t.ToPID)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// disconnectAll closes every session after its pending output, returning
// the connections to wait for.
func (w *World) disconnectAll(reason string) []*conn.Conn {
	w.disconnecting = true
	defer func() { w.disconnecting = false }()
	var closing []*conn.Conn
	for _, s := range w.sessions {
		closing = append(closing, s.conn)
		w.closeSession(s, reason)
	}
	return closing
}

// waitClosed waits (at most d in all) for connections to finish closing.
func waitClosed(conns []*conn.Conn, d time.Duration) {
	deadline := time.After(d)
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-deadline:
			return
		}
	}
}
