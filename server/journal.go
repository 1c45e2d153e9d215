package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"talker/journal"
	"talker/server/conn"
	"talker/server/telnet"
	"talker/server/tlsrecord"
	"talker/state"
)

// The world's side of the crash journal (package journal): after every
// event it handles, the records of the sessions the event changed (and
// the system state, if the event was input and changed it) are written to
// shared memory and committed, and only then may the input that caused
// them leave the kernel (conn.CommitInput). A kill -9 at any instant then
// leaves the next generation with the angel's last checkpoint plus every
// committed change since: every line handled exactly once, none lost, no
// half line spliced onto a tail.

// journalHolder is a Holder that also takes the journal and numbers
// checkpoints (angel/link's Holder).
type journalHolder interface {
	Holder
	SetJournal(fd int) error
	CheckpointNumbered(system json.RawMessage, records map[uint64]state.Record, n uint64)
	Received() uint64
}

// journaling is the world's journal state, owned by its goroutine.
type journaling struct {
	j      *journal.Journal
	holder journalHolder
	gate   *conn.Gate // output waits for the commit of the event that made it
	// release is the round's connections and how far each may write.
	release []released
	dirty   map[uint64]bool // sessions the event being handled changed
	system  bool            // the event was input: the system state may have changed
	inputs  []*Session      // sessions whose input the event took
	// lastSystem is the system state last journalled; number the last
	// checkpoint's.
	lastSystem []byte
	number     uint64
	phase      journalPhase
}

// journalPhase is where a generation's journal stands.
type journalPhase uint8

const (
	// journalNotHeld: the angel does not have this journal yet (no full
	// sync of this generation has reached it). It still holds an older
	// generation's journal and records, so readers consume input as
	// before: peeking would leave handled lines in the kernel for a
	// recovery from those older records to handle again.
	journalNotHeld journalPhase = iota
	// journalHeld: the angel has it; readers peek, and input leaves the
	// kernel only once what it changed is committed.
	journalHeld
	// journalPassedOn: handed to the next generation at a reboot's pause
	// (passJournalOn), which continues it; nothing more is written here
	// unless the reboot fails (takeJournalBack).
	journalPassedOn
)

type released struct {
	c    *conn.Conn
	upto uint64 // a position in its output stream (conn.CollectOutput)
}

// earlyCheckpoint is how full the active half may get before a checkpoint
// is taken at once rather than at the next tick: then the angel catches
// up and the halves switch long before one fills.
const earlyCheckpoint = 0.5

// startJournal makes the generation's journal and gives it to the angel.
// Without a holder that takes one (no angel, or an older angel/link),
// there is none, and input is read as before.
func (w *World) startJournal(h Holder) {
	jh, ok := h.(journalHolder)
	if !ok || w.cfg.NoJournal {
		w.closeJournal()
		return
	}
	if w.jr == nil && !w.openJournal() {
		return
	}
	if err := jh.SetJournal(w.jr.j.FD()); err != nil {
		w.log.Warn().Err(err).Msg("no crash journal: it could not be given to the angel")
		w.closeJournal()
		return
	}
	w.jr.holder = jh
	for _, s := range w.sessions {
		if s.conn != nil {
			w.journalConn(s.conn)
		}
		w.jr.dirty[s.ID] = true
	}
	w.jr.system = true
	w.commitJournal()
}

// openJournal makes the generation's journal before it serves anyone, so
// that every connection peeks and waits for commits from its first byte
// (Config.Journal: under an angel, which gets it with the holder). It
// reports whether there is one.
func (w *World) openJournal() bool {
	j, err := journal.Create(journal.DefaultHalf)
	if err != nil {
		w.log.Warn().Err(err).Msg("no crash journal: a kill -9 may lose the last lines typed")
		return false
	}
	w.jr = &journaling{j: j, dirty: map[uint64]bool{}, gate: &conn.Gate{}}
	return true
}

// closeJournal gives up the journal (no angel takes it): connections read
// and write as without one.
func (w *World) closeJournal() {
	if w.jr == nil {
		return
	}
	for _, s := range w.sessions {
		if s.conn != nil {
			s.conn.SetJournaled(false)
			s.conn.SetGate(nil)
		}
	}
	w.jr.j.Close()
	w.jr = nil
}

// journalConn puts a connection under the journal: its reader peeks, and
// its output waits for commits.
func (w *World) journalConn(c *conn.Conn) {
	if w.jr == nil {
		return
	}
	c.SetJournaled(w.jr.phase == journalHeld)
	c.SetGate(w.jr.gate)
}

// journalLive turns peeking on once the angel has this generation's
// journal (its first full sync has been written).
func (w *World) journalLive() {
	jr := w.jr
	if jr == nil || jr.phase != journalNotHeld || jr.holder == nil || jr.holder.Received() == 0 {
		return
	}
	jr.phase = journalHeld
	w.peekAll()
}

// peekAll turns peeking on for every session's reader, the journal being
// held now.
func (w *World) peekAll() {
	for _, s := range w.sessions {
		if s.conn != nil {
			s.conn.SetJournaled(true)
		}
	}
}

// journalTouch notes a session changed by the event being handled.
func (w *World) journalTouch(s *Session) {
	if w.jr != nil {
		w.jr.dirty[s.ID] = true
	}
}

// noteInput records where a session's input stands after a batch the
// world is about to handle (or hold): the offset and the reader's decoder
// there, committed with the session's record at the end of the event.
func (w *World) noteInput(s *Session, in *conn.Input) {
	if in.RawEnd == 0 {
		return
	}
	// The decoder goes with the offset, or none does (TLS, WebSocket,
	// MCCP3: their recovery rules start the decoder afresh).
	s.inputAt, s.reader = in.RawEnd, in.Reader
	s.tlsRead, s.tlsReadConn = in.TLSRead, in.Conn // tlsstate.go
	w.touch(s)
	if w.jr != nil {
		w.jr.inputs = append(w.jr.inputs, s)
		for _, ev := range in.Events {
			if ev.Kind == telnet.EventLine {
				w.jr.system = true // a command may change rooms, review, bans...
				break
			}
		}
	}
}

// commitJournal writes what the event just handled changed, commits it,
// and then lets the input it took go from the kernel.
func (w *World) commitJournal() {
	jr := w.jr
	if jr == nil || jr.phase == journalPassedOn {
		return
	}
	pending := jr.gate.Pending()
	if len(pending) == 0 && len(jr.dirty) == 0 && !jr.system && len(jr.inputs) == 0 {
		return
	}
	record := func(c *conn.Conn) func(conn.Output) {
		return func(o conn.Output) {
			jr.j.Append(journal.KindOutput, c.ID, journal.OutputEntry(o.From, o.Bytes))
			if o.Seal != nil { // TLS records: the write half after them (conn/tlsseal.go)
				jr.j.Append(journal.KindTLSWrite, c.ID, o.Seal.AppendBinary(nil))
			}
		}
	}
	for _, c := range pending {
		jr.release = append(jr.release, released{c, c.CollectOutput(record(c))})
	}
	for id := range jr.dirty {
		if s := w.sessions[id]; s != nil {
			if rec, err := w.encodeAngelCheckpoint(s); err == nil {
				jr.j.Append(journal.KindSession, id, rec)
			}
		}
		delete(jr.dirty, id)
	}
	if jr.system {
		if sys := w.encodeSystem(); !bytes.Equal(sys, jr.lastSystem) {
			jr.j.Append(journal.KindSystem, 0, sys)
			jr.lastSystem = sys
		}
		jr.system = false
	}
	jr.j.Commit()
	// Only now may the event's output be written, and its input go.
	for _, r := range jr.release {
		r.c.ReleaseOutput(r.upto)
	}
	clear(jr.release)
	jr.release = jr.release[:0]
	for _, s := range jr.inputs {
		if s.conn != nil {
			s.conn.CommitInput(s.inputAt)
		}
	}
	clear(jr.inputs)
	jr.inputs = jr.inputs[:0]
	if jr.j.Used() > earlyCheckpoint {
		w.checkpoint()
	}
}

// numberCheckpoint is called as a checkpoint's records are taken: it
// numbers it, and when the angel has the checkpoint the active half began
// with, switches halves (the other then holds nothing the angel lacks).
func (w *World) numberCheckpoint() uint64 {
	jr := w.jr
	if jr == nil || jr.holder == nil || jr.phase == journalPassedOn {
		return 0
	}
	w.journalLive()
	jr.number++
	if jr.holder.Received() >= jr.j.Base() {
		jr.j.Switch(jr.number)
	} else {
		jr.j.Checkpointed(jr.number)
	}
	return jr.number
}

// journalRunning commits, before a line runs, that the session is running
// it: if the talker dies in it (a Go fatal error, a kill), the next
// generation does not run it again (poison, below). The session's record
// after the event says it finished.
func (w *World) journalRunning(s *Session, line []byte) {
	if w.jr == nil || w.jr.phase == journalPassedOn {
		return
	}
	kind := journal.KindRunning
	if s.rerun != nil {
		if bytes.Equal(s.rerun, line) {
			kind = journal.KindRerun
		}
		s.rerun = nil // only the first line, as with poison
	}
	w.jr.j.Append(kind, s.ID, line)
	w.jr.j.Commit()
	w.jr.dirty[s.ID] = true
}

// skipPoison reports whether line is the one the session was running when
// the previous generation died (it is not run again: it may be what killed
// it). Only the session's first line after the recovery is compared.
func (w *World) skipPoison(s *Session, line []byte) bool {
	p := s.poison
	if p == nil {
		return false
	}
	s.poison = nil
	if !bytes.Equal(p, line) {
		return false
	}
	w.log.Warn().Uint64("conn", s.ID).Str("player", s.name()).Msg("not running again the line that was running when the talker died")
	s.println("*** Your last command was not run again: the talker stopped while running it.")
	return true
}

// SyncHeld: the angel has this generation's full sync, and so its
// journal. Readers peek from now on, not from the world's next checkpoint
// (up to 200 ms later): a line a reader consumed in between and the world
// had not handled when the talker died was lost.
func (s *Server) SyncHeld() {
	s.world.doFirst(func(w *World) { w.journalLive() })
}

// CheckpointNumber numbers a full sync's checkpoint (the hold channel
// asks right after FullCheckpoint).
func (s *Server) CheckpointNumber() (n uint64) {
	s.world.doFirst(func(w *World) { n = w.numberCheckpoint() })
	return n
}

// applyJournal folds a dead generation's journal into the angel's
// snapshot before it is restored: each session's latest committed record
// and the latest system state replace the checkpoint's. Anything wrong
// with the journal leaves the snapshot as it was (the checkpoint alone,
// as before there was a journal), and says why.
//
// It returns each connection's committed output, for ResumeOutput once
// the connections are adopted.
//
// The descriptor is kept in the result, for this generation to continue
// the same journal (adoptJournal); on an error it is closed.
func applyJournal(log *zerolog.Logger, snap *state.Snapshot, fd int, since uint64) (*journalRecovery, error) {
	entries, err := journal.ReadFD(fd, since)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	folded := journal.Latest(entries)
	sessions, system := folded.Sessions, folded.System
	outputs := make(map[uint64][]conn.Output, len(folded.Output))
	for id, runs := range folded.Output {
		for _, r := range runs {
			outputs[id] = append(outputs[id], conn.Output{From: r.From, Bytes: r.Bytes})
		}
	}
	rec := &journalRecovery{output: outputs, running: folded.Running, rerun: folded.Rerun,
		tlsWrite: map[uint64]*tlsrecord.WriteState{}, fd: fd, since: since}
	for id, b := range folded.TLSWrite {
		if ws, err := tlsrecord.ParseWriteState(b); err == nil {
			rec.tlsWrite[id] = &ws
		}
	}
	if system != nil {
		if _, err := state.DecodeSystem(system); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("journal: its system state does not decode: %w", err)
		}
		snap.System = system
	}
	if len(sessions) == 0 {
		return rec, nil
	}
	applied := 0
	for i, rec := range snap.Sessions {
		st, err := state.DecodeSession(snap.Version, rec)
		if err != nil || st.ID == 0 {
			continue
		}
		newer, ok := sessions[st.ID]
		if !ok {
			continue
		}
		if _, err := state.DecodeSession(checkpointVersion, newer); err != nil {
			continue
		}
		if snap.Version != checkpointVersion {
			if newer, err = state.Transcode(newer, checkpointVersion, snap.Version); err != nil {
				continue
			}
		}
		snap.Sessions[i] = newer
		applied++
	}
	log.Info().Int("entries", len(entries)).Int("sessions", applied).Bool("system", system != nil).
		Uint64("since", since).Msg("crash journal applied over the angel's checkpoint")
	return rec, nil
}

// journalRecovery is what a dead generation's journal leaves for the
// restored sessions: committed output not yet written, and the line each
// was running when it died.
type journalRecovery struct {
	output  map[uint64][]conn.Output
	running map[uint64][]byte
	// rerun: the running line was already run again once (KindRerun);
	// killed: the dead generation was killed from outside
	// (reboot.Header.Killed). A running line is poison unless killed
	// and not rerun.
	rerun  map[uint64]bool
	killed bool
	// tlsWrite: a TLS connection's write half after its last records.
	tlsWrite map[uint64]*tlsrecord.WriteState
	// fd is the journal itself (-1 once taken), since the angel's
	// checkpoint number it was read from.
	fd    int
	since uint64
}

// adoptMaxUsed is how full the dead generation's active half may be for
// this one to continue it.
const adoptMaxUsed = 0.75

// adoptJournal continues the dead generation's journal instead of the
// fresh one open made (journal.Adopt). The angel already holds that
// journal, so this generation is covered from its first event and its
// readers peek from their first byte. With a fresh journal it was not
// until the angel had its first full sync (0.45-1.3 s after the process
// started, at 1,000 clients on a busy machine): the input its readers took
// meanwhile and the world had not yet handled was gone from the kernel,
// and a crash then lost it. Measured at 1,000 clients typing byte by byte,
// 10 SIGSEGVs (whose stack dump takes 1.5-2 s, leaving each generation a
// few seconds): 77 of 4,779 lines lost on a quiet machine, 725 of 4,811 on
// a busy one.
//
// Call it after the sessions are restored and before their connections
// are put under the journal (journalConn).
func (w *World) adoptJournal(rec *journalRecovery) {
	if rec == nil || rec.fd < 0 {
		return
	}
	fd := rec.fd
	rec.fd = -1
	jr := w.jr
	if jr == nil || jr.holder != nil {
		unix.Close(fd)
		return
	}
	j, err := journal.Adopt(fd, rec.since)
	if err != nil {
		unix.Close(fd)
		w.log.Warn().Err(err).Msg("the previous generation's crash journal cannot be continued: this generation's own starts with its first checkpoint")
		return
	}
	if used := j.Used(); used > adoptMaxUsed {
		// Generations that died before the angel had a checkpoint of
		// theirs never let the halves switch: continuing would soon fill
		// the half, and a full journal stops (recoveries then fall back
		// to the angel's checkpoint alone, which lost 391-544 lines and
		// repeated 159-191 in a SIGSEGV storm). A fresh journal is live
		// from this generation's first full sync instead.
		_ = j.Close()
		w.log.Warn().Float64("used", used).Msg("the previous generation's crash journal is nearly full: this generation starts its own, live from its first checkpoint")
		return
	}
	_ = jr.j.Close()
	jr.j, jr.number, jr.phase = j, j.Tag(), journalHeld
	// Every session's record as restored: it ends the dead generation's
	// running lines (journal.Latest), and is what a recovery would make
	// of the journal anyway. Then the lines that are still poison, so
	// that a crash before this generation reads them again skips them too.
	for _, s := range w.sessions {
		jr.dirty[s.ID] = true
	}
	jr.system = true
	w.commitJournal()
	for _, s := range w.sessions {
		if s.poison != nil {
			j.Append(journal.KindRerun, s.ID, s.poison)
		}
	}
	j.Commit()
}

// passJournalOn is called in a reboot's pause, with the snapshot taken:
// the journal's descriptor goes to the next generation with the state, and
// this generation writes nothing more to it (the next appends after its
// last entry). It returns -1 when there is none to pass on, and the phase
// to go back to if the reboot fails.
func (w *World) passJournalOn() (fd int, was journalPhase) {
	jr := w.jr
	if jr == nil || jr.phase == journalPassedOn {
		return -1, journalNotHeld
	}
	was, jr.phase = jr.phase, journalPassedOn
	return jr.j.FD(), was
}

// takeJournalBack undoes passJournalOn after a failed reboot. The next
// generation never wrote to it: it continues the journal only once the
// reboot is committed (Restored.Start), and a reboot fails only before.
func (w *World) takeJournalBack(was journalPhase) {
	if w.jr != nil && w.jr.phase == journalPassedOn {
		w.jr.phase = was
	}
}

// continueParentJournal continues, at a reboot, the previous generation's
// journal (fd, passed on with the state). The angel still holds that
// journal with the previous generation's records: with every restored
// session's record committed to it at once, a crash before this
// generation's first full sync recovers everyone as they are here, TLS
// streams included, instead of from the previous generation's older
// checkpoint (which closed every TLS player with traffic since, and lost a
// telnet player's lines of that window). Call it before the connections
// start.
func (w *World) continueParentJournal(fd int) {
	began := time.Now()
	w.adoptJournal(&journalRecovery{fd: fd})
	if w.jr == nil || w.jr.phase != journalHeld {
		return
	}
	w.log.Info().Uint64("checkpoint", w.jr.number).Int("sessions", len(w.sessions)).Dur("took", time.Since(began)).
		Msg("continuing the previous generation's crash journal")
	w.peekAll()
}

// resumeOutput queues, for each recovered connection, the output the dead
// generation had committed and the socket had not taken (conn.ResumeOutput).
func (w *World) resumeOutput(rec *journalRecovery) {
	if rec == nil {
		return
	}
	for id, line := range rec.running {
		s := w.sessions[id]
		switch {
		case s == nil:
		case rec.killed && !rec.rerun[id]:
			// A kill -9 or the OOM killer ended it, not this line:
			// dropping it would lose a player's line (1 in 4,816 at 10
			// kills among 1,000 players typing). It runs once more.
			s.rerun = append([]byte{}, line...)
		default:
			s.poison = append([]byte{}, line...)
		}
	}
	total, missing, conns := 0, 0, 0
	for id, s := range w.sessions {
		if s.conn == nil || !s.conn.TLS() {
			continue
		}
		// Records sealed at release (conn/tlsseal.go): the socket's count
		// lies in them, or the connection ends at Start.
		q, m := s.conn.ResumeTLS(rec.tlsWrite[id], rec.output[id])
		total, missing = total+q, missing+m
		if q > 0 {
			conns++
		}
	}
	for id, runs := range rec.output {
		s := w.sessions[id]
		if s == nil || s.conn == nil || s.conn.TLS() {
			continue
		}
		q, m := s.conn.ResumeOutput(runs)
		total, missing = total+q, missing+m
		if q > 0 {
			conns++
		}
	}
	if total > 0 || missing > 0 {
		w.log.Info().Int("bytes", total).Int("connections", conns).Int("missing_bytes", missing).
			Msg("output the dead generation committed and never wrote: sent now")
	}
}
