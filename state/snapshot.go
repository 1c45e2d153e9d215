package state

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Format versions (see the package comment).
const (
	VersionJSON        = 1 // one JSON object
	VersionJSONRecords = 2 // the container, with JSON records
	VersionCBOR        = 3 // the container, with CBOR records
	VersionHeld        = 4 // records may be Staged and carry Held input
	VersionStages      = 5 // a record's Login.Stage may be past LastStageV4
	VersionTexts       = 6 // a record may carry a Pager or an Editor
	Version            = 7 // a record may carry session-7 state (compression, GMCP, transports, modes): the newest this build reads and writes
)

// LastStageV4 is the last login stage a build of version 4 knows
// (playing). The stages after it (a password being changed or checked
// in-game, a new one being chosen after a one-time password) need version
// 5: a build that does not know them would drop a logged-in player, or
// leave one at a prompt it no longer answers.
const LastStageV4 = 5

// VersionFor is the oldest version that carries records with held input or
// staged records (version 4), login stages up to stage, the highest of
// them (5), a pager or an editor in use (texts, 6), and state only version
// 7 carries (v7: see the package comment), so that a build as old as
// version 3 still reads what needs nothing newer. (A build before 6 would
// drop a pager silently and, worse, run the lines of a mail being written
// as commands.)
func VersionFor(held, staged bool, stage uint8, texts, v7 bool) int {
	switch {
	case v7:
		return Version
	case texts:
		return VersionTexts
	case stage > LastStageV4:
		return VersionStages
	case held || staged:
		return VersionHeld
	}
	return VersionCBOR
}

// magic starts a version 2 (or later) container.
const magic = "talker-state\n"

// Snapshot is everything a new generation needs besides the sockets.
type Snapshot struct {
	Version int
	Mode    string // the reboot's mode: "reboot", "reset", "restart" or "recover"
	// System is the talker-wide state, a System in JSON: the angel passes
	// the talker's own through untouched, so a field it does not know is
	// not lost.
	System json.RawMessage
	// Sessions are the records, one by one, so that a record this build
	// cannot read costs only that one session. Their encoding is the
	// version's.
	Sessions []Record
	// SessionFDs, if present, gives each record's descriptor index (a
	// record's own FD is then ignored: the angel builds its snapshot from
	// checkpoints, which do not know the order it sends sockets in).
	SessionFDs []int
	// Checkpoint marks state rebuilt by the angel from checkpoints after a
	// crash rather than handed over by a live generation: half-typed lines
	// and unsent output are gone, and players are told.
	Checkpoint bool
}

// header is the container's JSON header line (and, in version 1, the whole
// document). Its keys and their order are the format.
type header struct {
	Version    int             `json:"Version"`
	Mode       string          `json:"Mode"`
	System     json.RawMessage `json:"System"`
	Sessions   []Record        `json:"Sessions"` // null in the header; the records follow it
	SessionFDs []int           `json:"SessionFDs,omitempty"`
	Checkpoint bool            `json:"Checkpoint,omitempty"`
}

// Encode writes the snapshot in its version's container (Version if
// snap.Version is 0). Version 1 is not written any more.
func Encode(snap *Snapshot) ([]byte, error) {
	v := snap.Version
	if v == 0 {
		v = Version
	}
	if v < VersionJSONRecords || v > Version {
		return nil, fmt.Errorf("state: cannot write format version %d", v)
	}
	system := snap.System
	if len(system) == 0 {
		system = json.RawMessage("null")
	}
	head, err := json.Marshal(header{Version: v, Mode: snap.Mode, System: system,
		SessionFDs: snap.SessionFDs, Checkpoint: snap.Checkpoint})
	if err != nil {
		return nil, err
	}
	size := len(magic) + len(head) + 1 + binary.MaxVarintLen64
	for _, r := range snap.Sessions {
		size += binary.MaxVarintLen32 + len(r)
	}
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = append(b, head...)
	b = append(b, '\n')
	b = binary.AppendUvarint(b, uint64(len(snap.Sessions)))
	for _, r := range snap.Sessions {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b, nil
}

// Decode reads a snapshot of this version or an older one. The records are
// not decoded (DecodeSession, with the snapshot's version); they share b's
// memory.
func Decode(b []byte) (*Snapshot, error) {
	if !bytes.HasPrefix(b, []byte(magic)) {
		return decodeV1(b)
	}
	rest := b[len(magic):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, errors.New("state is unreadable: no header")
	}
	var h header
	if err := json.Unmarshal(rest[:nl], &h); err != nil {
		return nil, fmt.Errorf("state is unreadable: %w", err)
	}
	if h.Version < VersionJSONRecords || h.Version > Version {
		return nil, unknownVersion(h.Version)
	}
	rest = rest[nl+1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return nil, errors.New("state is unreadable: bad record count")
	}
	rest = rest[k:]
	snap := h.snapshot()
	snap.Sessions = make([]Record, 0, n)
	for i := uint64(0); i < n; i++ {
		size, k := binary.Uvarint(rest)
		if k <= 0 || size > uint64(len(rest)-k) {
			return nil, fmt.Errorf("state is unreadable: record %d is cut short", i)
		}
		snap.Sessions = append(snap.Sessions, Record(rest[k:k+int(size)]))
		rest = rest[k+int(size):]
	}
	return snap, nil
}

// decodeV1 reads the version 1 format: one JSON object.
func decodeV1(b []byte) (*Snapshot, error) {
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("state is unreadable: %w", err)
	}
	if h.Version != VersionJSON {
		return nil, unknownVersion(h.Version)
	}
	snap := h.snapshot()
	snap.Sessions = h.Sessions
	return snap, nil
}

func (h *header) snapshot() *Snapshot {
	sys := h.System
	if string(sys) == "null" {
		sys = nil
	}
	return &Snapshot{Version: h.Version, Mode: h.Mode, System: sys, SessionFDs: h.SessionFDs, Checkpoint: h.Checkpoint}
}

func unknownVersion(v int) error {
	return fmt.Errorf("state format version %d is not one this binary reads (1..%d)", v, Version)
}
