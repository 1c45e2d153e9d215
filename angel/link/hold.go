package link

import (
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fxamacker/cbor/v2"

	"talker/ipc"
	"talker/state"
)

// The hold channel: a talker generation keeps the angel holding a
// duplicate of every socket it serves (listeners and players) and a recent
// checkpoint of every session, so that if the talker dies however hard,
// the angel can give them all to the next generation. After a hello line
// ({"Hold":...}) and the angel's ack, every message is an ipc frame: a
// HoldFrame with its descriptors.
//
// The frames' encoding is agreed in the hello and the ack. A talker that
// asks for CBOR (HoldHello.Records, the state format version of its
// records) and gets AckCBOR sends CBOR frames with its records as they
// are, in the state format's CBOR encoding. An angel that does not know
// the field (a build older than package state) acks with AckJSON: the
// talker then sends JSON frames and its records in JSON, as that angel
// expects. An older talker never asks, and is answered AckJSON.

// HoldHello opens a hold channel.
type HoldHello struct {
	PID int
	// Records is the state format version whose encoding the talker's
	// records are in, if it can send them as they are (CBOR frames).
	Records int `json:",omitempty"`
	// SyncDone: this talker ends every full sync with a SyncDone frame,
	// so the angel may keep what it held until then (see HoldFrame).
	SyncDone bool `json:",omitempty"`
}

// The angel's answer to a HoldHello: the frames' encoding.
const (
	AckJSON = "ok\n"      // JSON frames, records in JSON (state.VersionJSONRecords)
	AckCBOR = "ok cbor\n" // CBOR frames, records in state.VersionCBOR's encoding
)

// HoldFrame updates what the angel holds. It is applied in field order:
// Sync replaces everything; then Add, Drop, Records, System.
type HoldFrame struct {
	Sync      bool                    `json:",omitempty"`
	Listeners []string                `json:",omitempty"` // with Sync: the first len(Listeners) descriptors
	Add       []uint64                `json:",omitempty"` // connections whose sockets follow, in order
	Drop      []uint64                `json:",omitempty"` // connections that have ended
	Records   map[uint64]state.Record `json:",omitempty"` // each session's latest checkpoint record
	System    json.RawMessage         `json:",omitempty"` // the talker-wide state (state.EncodeSystem)
	// SyncDone ends a full sync: connections held from before its Sync
	// frame and not added again since have ended. From a talker whose
	// HoldHello says SyncDone, the angel keeps every connection it held
	// until then, so that a crash in the middle of a long sync (a second
	// or so at 10,000 connections, after a reboot or an angel restart or
	// upgrade) still finds every player's socket held.
	SyncDone bool `json:",omitempty"`
	// Seq numbers the checkpoint this frame completes (the world's count,
	// package journal's tags): the angel then holds every session at
	// least as of it. A full sync's number comes with its SyncDone.
	Seq uint64 `json:",omitempty"`
	// Journal: the frame's last descriptor is the generation's crash
	// journal (a memfd; package journal), which the angel holds and hands
	// to a recovery with the number of the last checkpoint it got.
	Journal bool `json:",omitempty"`
}

// maxHoldFrame bounds a frame (a full sync of 10,000 sessions is a few
// megabytes).
const maxHoldFrame = 256 << 20

// frameCBOR encodes and decodes CBOR frames; its options never change.
var frameCBOR = func() cbor.EncMode {
	em, err := cbor.EncOptions{}.EncMode()
	if err != nil {
		panic(err) // constant options: only a bug gets here
	}
	return em
}()

// SendFrame writes a frame with its descriptors, in CBOR or JSON.
func SendFrame(c *net.UnixConn, f *HoldFrame, fds []int, useCBOR bool) error {
	var b []byte
	var err error
	if useCBOR {
		b, err = frameCBOR.Marshal(f)
	} else {
		b, err = json.Marshal(f)
	}
	if err != nil {
		return err
	}
	return ipc.SendFrame(c, b, fds)
}

// RecvFrame reads one frame, in CBOR or JSON.
func RecvFrame(c *net.UnixConn, useCBOR bool) (HoldFrame, []int, error) {
	var f HoldFrame
	data, fds, err := ipc.RecvFrame(c, maxHoldFrame)
	if err != nil {
		return f, nil, err
	}
	if useCBOR {
		err = cbor.Unmarshal(data, &f)
	} else {
		err = json.Unmarshal(data, &f)
	}
	if err != nil {
		ipc.CloseAll(fds)
		return f, nil, err
	}
	return f, fds, nil
}

// SyncSource is what a Holder needs for a full sync. Descriptors it
// returns are duplicates, closed by the Holder once sent.
type SyncSource interface {
	// Listeners returns the listening sockets by name.
	Listeners() (names []string, fds []int)
	// Checkpoint returns the system state and every session's id.
	Checkpoint() (system json.RawMessage, ids []uint64)
	// Dup duplicates the sockets of those connections still open, with
	// their records (state.VersionCBOR's encoding). It is asked for a
	// chunk at a time, so that a talker with many connections is never
	// held up for long.
	Dup(ids []uint64) (open []uint64, fds []int, records map[uint64]state.Record)
}

// syncChunk bounds the duplicates that exist at once during a sync: a
// talker near its descriptor limit must not need twice its connections.
const syncChunk = 250

// syncPace is the pause between a full sync's chunks.
const syncPace = 5 * time.Millisecond

// Holder is a talker's side of the hold channel. Add, Drop and Checkpoint
// never block; they are batched and sent every few milliseconds. While the
// angel is not connected they are dropped: a full sync follows every
// (re)connection.
type Holder struct {
	sock       string
	pid        int
	sync       SyncSource
	firstDelay time.Duration

	mu        sync.Mutex
	connected bool
	pending   HoldFrame
	fds       []int
	// journal is a duplicate of the generation's crash journal (-1: none),
	// sent with every full sync's SyncDone; received is the number of the
	// last checkpoint written to this connection of the channel.
	journal int
	// pendingJournal is a duplicate of it for the next frame (-1: none).
	pendingJournal int
	received       atomic.Uint64
	wake           chan struct{}
	done           chan struct{}
	closeOnce      sync.Once
}

// NewHolder prepares a hold channel to the angel at sock.
func NewHolder(sock string, pid int, sync SyncSource) *Holder {
	return &Holder{sock: sock, pid: pid, sync: sync, journal: -1, pendingJournal: -1, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// SetJournal gives the angel the generation's crash journal: fd is
// duplicated here (the caller keeps its own). It goes with the next full
// sync's SyncDone, or at once on a channel already synced.
func (h *Holder) SetJournal(fd int) error {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.journal >= 0 {
		unix.Close(h.journal)
	}
	h.journal = dup
	if h.connected {
		if again, err := unix.FcntlInt(uintptr(dup), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			if h.pendingJournal >= 0 {
				unix.Close(h.pendingJournal)
			}
			h.pendingJournal = again
			h.signal()
		}
	}
	return nil
}

// CheckpointNumbered is Checkpoint for checkpoint number n: once written,
// Received says so.
func (h *Holder) CheckpointNumbered(system json.RawMessage, records map[uint64]state.Record, n uint64) {
	h.Checkpoint(system, records)
	h.mu.Lock()
	if h.connected {
		h.pending.Seq = max(h.pending.Seq, n)
	}
	h.mu.Unlock()
}

// Received is the number of the last checkpoint written to the angel on
// the current connection (0 until a full sync has been). The angel reads
// everything written before it acts on a crash, so written is received.
func (h *Holder) Received() uint64 { return h.received.Load() }

// heldSource is a SyncSource told as soon as the angel has a full sync
// (and the journal with it), rather than at its next checkpoint.
type heldSource interface {
	SyncHeld()
}

// numberedSource is a SyncSource that numbers its full checkpoints.
type numberedSource interface {
	CheckpointNumber() uint64
}

func (h *Holder) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Add hands the angel a duplicate of a new connection's socket; fd is
// consumed (closed here once sent, or at once if there is no angel).
func (h *Holder) Add(id uint64, fd int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.connected {
		unix.Close(fd)
		return
	}
	h.pending.Add = append(h.pending.Add, id)
	h.fds = append(h.fds, fd)
	h.signal()
}

// Drop tells the angel a connection has ended.
func (h *Holder) Drop(id uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.connected {
		return
	}
	h.pending.Drop = append(h.pending.Drop, id)
	h.signal()
}

// Checkpoint queues the latest records of changed sessions (in
// state.VersionCBOR's encoding) and the system state.
func (h *Holder) Checkpoint(system json.RawMessage, records map[uint64]state.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.connected {
		return
	}
	if system != nil {
		h.pending.System = system
	}
	if len(records) > 0 && h.pending.Records == nil {
		h.pending.Records = map[uint64]state.Record{}
	}
	for id, r := range records {
		h.pending.Records[id] = r
	}
	h.signal()
}

// DelayFirstSync makes Run wait d before it first connects. A generation
// that has just taken over from another uses it: the angel still holds
// the previous generation's duplicates of the same sockets, and a full
// sync of thousands of connections would compete with the players'
// first moments after the reboot. Call it before Run.
func (h *Holder) DelayFirstSync(d time.Duration) { h.firstDelay = d }

// Run keeps the channel up until Close.
func (h *Holder) Run() {
	if h.firstDelay > 0 {
		select {
		case <-h.done:
			return
		case <-time.After(h.firstDelay):
		}
	}
	for {
		select {
		case <-h.done:
			return
		default:
		}
		c, useCBOR, err := h.connect()
		if err != nil {
			select {
			case <-h.done:
				return
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		h.serve(c, useCBOR)
		c.Close()
		h.mu.Lock()
		h.connected = false
		for _, fd := range h.fds {
			unix.Close(fd)
		}
		h.pending, h.fds = HoldFrame{}, nil
		h.mu.Unlock()
	}
}

// connect opens the channel and agrees the frames' encoding.
func (h *Holder) connect() (c *net.UnixConn, useCBOR bool, err error) {
	nc, err := net.DialTimeout("unix", h.sock, time.Second)
	if err != nil {
		return nil, false, err
	}
	uc := nc.(*net.UnixConn)
	_ = uc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := ipc.WriteJSON(uc, Message{Hold: &HoldHello{PID: h.pid, Records: state.VersionCBOR, SyncDone: true}}); err != nil {
		uc.Close()
		return nil, false, err
	}
	// Wait for the ack before sending frames: the angel reads the hello
	// line through a buffer that must not swallow a frame's descriptors.
	// The ack is read a byte at a time, for the same reason the other way
	// round (the angel sends nothing after it, but a buffer here need not
	// rely on that).
	ack := make([]byte, 0, len(AckCBOR))
	for len(ack) < cap(ack) && (len(ack) == 0 || ack[len(ack)-1] != '\n') {
		var b [1]byte
		if _, err := uc.Read(b[:]); err != nil {
			uc.Close()
			return nil, false, errors.New("hold: no ack from the angel")
		}
		ack = append(ack, b[0])
	}
	switch string(ack) {
	case AckJSON:
	case AckCBOR:
		useCBOR = true
	default:
		uc.Close()
		return nil, false, errors.New("hold: no ack from the angel")
	}
	_ = uc.SetDeadline(time.Time{})
	return uc, useCBOR, nil
}

// encode prepares a frame for the agreed encoding: an angel that takes
// JSON gets the records in JSON (transcoded here, off the world's
// goroutine; a record that cannot be is left out, and comes with the next
// change or sync).
func encode(f *HoldFrame, useCBOR bool) {
	if useCBOR {
		return
	}
	for id, r := range f.Records {
		js, err := state.Transcode(r, state.VersionCBOR, state.VersionJSONRecords)
		if err != nil {
			delete(f.Records, id)
			continue
		}
		f.Records[id] = js
	}
}

// serve sends a full sync, then batches until the connection breaks.
func (h *Holder) serve(c *net.UnixConn, useCBOR bool) {
	h.mu.Lock()
	h.connected = true
	h.mu.Unlock()
	if err := h.fullSync(c, useCBOR); err != nil {
		return
	}
	keepalive := time.NewTicker(time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-h.wake:
		case <-keepalive.C:
			// An empty frame now and then notices an angel that has gone,
			// so that the channel is re-established with its successor.
		}
		// Let a burst of accepts gather into one frame.
		time.Sleep(5 * time.Millisecond)
		h.mu.Lock()
		frame, fds := h.pending, h.fds
		h.pending, h.fds = HoldFrame{}, nil
		if h.pendingJournal >= 0 {
			frame.Journal, fds = true, append(fds, h.pendingJournal) // last: see HoldFrame.Journal
			h.pendingJournal = -1
		}
		h.mu.Unlock()
		encode(&frame, useCBOR)
		err := SendFrame(c, &frame, fds, useCBOR)
		ipc.CloseAll(fds)
		if err != nil {
			return
		}
		if frame.Seq > 0 {
			h.received.Store(frame.Seq)
		}
	}
}

// fullSync replaces what the angel holds: listeners and system state
// first, then the connections in chunks, each with its record.
func (h *Holder) fullSync(c *net.UnixConn, useCBOR bool) error {
	h.received.Store(0) // a new angel, or one that lost what it had: nothing yet
	names, fds := h.sync.Listeners()
	system, ids := h.sync.Checkpoint()
	var seq uint64
	if ns, ok := h.sync.(numberedSource); ok {
		seq = ns.CheckpointNumber()
	}
	err := SendFrame(c, &HoldFrame{Sync: true, Listeners: names, System: system}, fds, useCBOR)
	ipc.CloseAll(fds)
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		chunk := ids[:min(syncChunk, len(ids))]
		ids = ids[len(chunk):]
		open, fds, records := h.sync.Dup(chunk)
		f := HoldFrame{Add: open, Records: records}
		encode(&f, useCBOR)
		err := SendFrame(c, &f, fds, useCBOR)
		ipc.CloseAll(fds)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			// Each chunk took the world a few milliseconds: leave it (and
			// the CPU) to the players in between, so that a sync of
			// thousands never shows in their latency.
			select {
			case <-h.done:
				return nil
			case <-time.After(syncPace):
			}
		}
	}
	done := HoldFrame{SyncDone: true, Seq: seq}
	var jfds []int
	h.mu.Lock()
	if h.journal >= 0 {
		if dup, err := unix.FcntlInt(uintptr(h.journal), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			done.Journal, jfds = true, []int{dup}
		}
	}
	h.mu.Unlock()
	err = SendFrame(c, &done, jfds, useCBOR)
	ipc.CloseAll(jfds)
	if err == nil && seq > 0 {
		h.received.Store(seq)
		if hs, ok := h.sync.(heldSource); ok {
			hs.SyncHeld()
		}
	}
	return err
}

// Close stops the channel.
func (h *Holder) Close() {
	h.closeOnce.Do(func() { close(h.done) })
}
