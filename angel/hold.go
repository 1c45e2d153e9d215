package angel

import (
	"encoding/json"
	"net"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel/link"
	"talker/reboot"
	"talker/state"
)

// What the angel holds for crash recovery: a duplicate of every socket the
// talker serves and the latest checkpoint of every session. The angel never
// reads a player's socket; it only keeps it open, writes a line to it while
// no talker is running, and hands it to the next generation.

type heldConn struct {
	fd int
	// stale: held from before a full sync still in progress, and not
	// added again by it yet (released at its SyncDone).
	stale  bool
	record state.Record // the latest checkpoint record; nil before the first
	// version is the state format version whose encoding record is in:
	// state.VersionCBOR, or state.VersionJSONRecords from a talker that
	// sends JSON (a build older than package state).
	version int
}

type heldListener struct {
	name string
	fd   int
}

// holdings is owned by the angel's goroutine.
type holdings struct {
	conns     map[uint64]*heldConn
	listeners []heldListener
	system    json.RawMessage // state.EncodeSystem's, passed through untouched
	updated   time.Time       // when a frame last changed anything (for status)
	// journal is the talker's crash journal (package journal), if it sent
	// one; seq the number of the last checkpoint received, from which the
	// journal's entries are newer.
	journal    int
	hasJournal bool
	seq        uint64
}

func (h *holdings) empty() bool { return len(h.conns) == 0 && len(h.listeners) == 0 }

// apply folds one frame from the talker into what is held; fds are the
// frame's descriptors (listeners first, then added connections), version
// the encoding of its records. With syncDone (the talker ends its full
// syncs with SyncDone), a Sync replaces the listeners at once but the
// connections only as the sync re-adds them, the rest at its SyncDone.
func (h *holdings) apply(f link.HoldFrame, fds []int, version int, syncDone bool) {
	if h.conns == nil {
		h.conns = map[uint64]*heldConn{}
	}
	if f.Journal && len(fds) > 0 {
		// The last descriptor (link.HoldFrame.Journal).
		h.setJournal(fds[len(fds)-1])
		fds = fds[:len(fds)-1]
	}
	if f.Seq > 0 {
		h.seq = f.Seq
	}
	next := 0
	take := func() int {
		if next >= len(fds) {
			return -1
		}
		next++
		return fds[next-1]
	}
	if f.Sync {
		if syncDone {
			for _, c := range h.conns {
				c.stale = true
			}
			h.releaseListeners()
		} else {
			h.releaseAll(false)
		}
		for _, name := range f.Listeners {
			if fd := take(); fd >= 0 {
				h.listeners = append(h.listeners, heldListener{name: name, fd: fd})
			}
		}
	}
	for _, id := range f.Add {
		fd := take()
		if fd < 0 {
			break
		}
		if old := h.conns[id]; old != nil {
			unix.Close(old.fd)
			old.fd, old.stale = fd, false
			continue
		}
		h.conns[id] = &heldConn{fd: fd}
	}
	for ; next < len(fds); next++ {
		unix.Close(fds[next]) // more descriptors than the frame names
	}
	for _, id := range f.Drop {
		if c := h.conns[id]; c != nil {
			unix.Close(c.fd)
			delete(h.conns, id)
		}
	}
	for id, rec := range f.Records {
		if c := h.conns[id]; c != nil {
			c.record, c.version = rec, version
		}
	}
	if f.System != nil {
		h.system = f.System
	}
	if f.SyncDone {
		for id, c := range h.conns {
			if c.stale {
				unix.Close(c.fd)
				delete(h.conns, id)
			}
		}
	}
	if f.Sync || f.SyncDone || len(f.Add) > 0 || len(f.Drop) > 0 || len(f.Records) > 0 || f.System != nil {
		h.updated = time.Now()
	}
}

// releaseAll closes every held descriptor. With hangUp, player connections
// are shut down too (the angel is giving up on them); without, they are
// only closed here (someone else serves them).
func (h *holdings) releaseAll(hangUp bool) {
	for id, c := range h.conns {
		if hangUp {
			_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
		}
		unix.Close(c.fd)
		delete(h.conns, id)
	}
	h.releaseListeners()
	if h.hasJournal {
		unix.Close(h.journal)
		h.hasJournal, h.seq = false, 0
	}
}

// setJournal holds fd as the talker's crash journal.
func (h *holdings) setJournal(fd int) {
	if h.hasJournal {
		unix.Close(h.journal)
	}
	h.journal, h.hasJournal = fd, true
}

func (h *holdings) releaseListeners() {
	for _, l := range h.listeners {
		unix.Close(l.fd)
	}
	h.listeners = nil
}

// tell writes a line to every held player connection, without blocking:
// the sockets are non-blocking, and a full buffer just misses the line.
func (h *holdings) tell(line string) {
	b := []byte(line + "\r\n")
	for _, c := range h.conns {
		_, _ = unix.Write(c.fd, b)
	}
}

// offer prepares the handoff of everything held to a new generation: a
// snapshot in the state format, built from the checkpoints (in CBOR, the
// encoding of state.VersionCBOR, which every build since version 3 reads;
// records an older talker sent in JSON are re-encoded), with the listeners
// after the sessions' sockets. (The records' login stages are not looked
// at for the version: the generation started is the binary at the
// talker's path, normally the one that wrote them.)
//
// With socketsOnly, the checkpoints are left out (every record null, no
// system state): what a new generation that refused them still takes, so
// that its players see the login prompt again rather than a closed
// connection.
func (h *holdings) offer(runDir string, dead *generation, crashedAt time.Time, socketsOnly bool) (*reboot.Offer, error) {
	snap := state.Snapshot{Version: state.VersionFor(false, false, 0, false, false), Mode: string(reboot.ModeRecover),
		System: h.system, Checkpoint: true}
	if socketsOnly {
		snap.System = nil
	}
	ids := make([]uint64, 0, len(h.conns))
	for id := range h.conns {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var fds []int
	for _, id := range ids {
		c := h.conns[id]
		rec := c.record
		if rec == nil || socketsOnly {
			// Accepted but never checkpointed: still a connection worth
			// keeping; the new generation sends it to the login prompt.
			rec = state.NullRecord(snap.Version)
		} else if c.version != snap.Version {
			var err error
			if rec, err = state.Transcode(rec, c.version, snap.Version); err != nil {
				rec = state.NullRecord(snap.Version) // the connection is kept all the same
			}
		}
		snap.Sessions = append(snap.Sessions, rec)
		snap.SessionFDs = append(snap.SessionFDs, len(fds))
		fds = append(fds, c.fd)
	}
	hdr := reboot.Header{Mode: reboot.ModeRecover, Started: crashedAt}
	if dead != nil {
		hdr.FromPID, hdr.FromVer, hdr.Killed = dead.pid, dead.version, dead.killed
	}
	if h.hasJournal && !socketsOnly {
		// Before the listeners, which are the last len(Listeners).
		hdr.Journal, hdr.JournalSince = true, h.seq
		fds = append(fds, h.journal)
	}
	for _, l := range h.listeners {
		hdr.Listeners = append(hdr.Listeners, l.name)
		fds = append(fds, l.fd)
	}
	b, err := state.Encode(&snap)
	if err != nil {
		return nil, err
	}
	return reboot.NewOffer(runDir, hdr, b, fds)
}

// serveHold reads a talker's hold channel until it ends. A talker whose
// records are in the CBOR of a state format this build reads sends CBOR
// frames; any other, JSON (see package link).
func (a *Angel) serveHold(c net.Conn, hello link.HoldHello) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return
	}
	// Held sockets are what every player's connection falls back on after
	// a crash: they are taken only from the talker itself (its pid, as the
	// kernel gives it, and one the angel trusts), never from whatever else
	// can reach the socket.
	if peer, err := peerPID(c); err != nil || peer != hello.PID {
		a.log.Warn().Int("named_pid", hello.PID).Int("peer_pid", peer).Msg("hold channel naming a process other than the peer's; refused")
		return
	}
	trusted := make(chan bool, 1)
	a.events <- holdAsk{pid: hello.PID, reply: trusted}
	if !<-trusted {
		a.log.Warn().Int("pid", hello.PID).Msg("hold channel from a process that is not the talker; refused")
		return
	}
	useCBOR := hello.Records >= state.VersionCBOR && hello.Records <= state.Version
	ack, version := link.AckJSON, state.VersionJSONRecords
	if useCBOR {
		ack, version = link.AckCBOR, state.VersionCBOR
	}
	if _, err := uc.Write([]byte(ack)); err != nil {
		return
	}
	a.events <- holdOpen{pid: hello.PID, delta: 1}
	defer func() { a.events <- holdOpen{pid: hello.PID, delta: -1} }()
	for {
		f, fds, err := link.RecvFrame(uc, useCBOR)
		if err != nil {
			return
		}
		a.events <- holdEvent{pid: hello.PID, frame: f, fds: fds, version: version, syncDone: hello.SyncDone}
	}
}

// holdOpen counts a generation's hold channels being read (+1 when one
// starts, -1 when it ends).
type holdOpen struct {
	pid, delta int
}

// holdDrainWait bounds how long a recovery waits for a dead generation's
// hold channel to be read to its end: normally a few milliseconds (the
// frames are in the socket's buffer); longer only if the angel itself is
// starved of CPU.
const holdDrainWait = 2 * time.Second

// holdDraining says whether a recovery should wait for the dead
// generation's hold channel: it is still being read, and not for long.
func (a *Angel) holdDraining(now time.Time) bool {
	return a.lastDead != nil && a.holdsOpen[a.lastDead.pid] > 0 && now.Sub(a.crashedAt) < holdDrainWait
}

// holdAsk asks the angel's loop whether pid may hold sockets.
type holdAsk struct {
	pid   int
	reply chan bool
}

type holdEvent struct {
	pid     int
	frame   link.HoldFrame
	fds     []int
	version int // of the frame's records
	// syncDone: the talker ends its full syncs with SyncDone.
	syncDone bool
}

// offerEvent reports how a recovery handoff went.
type offerEvent struct {
	pid    int
	report reboot.Report
	err    error
}
