package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"

	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/telnet"
)

// SnapshotVersion is the format of the state a reboot hands over. A binary
// reads every version up to its own and refuses newer ones (before it is
// ready, so the old generation simply carries on). Bump it when a change
// cannot be read by the previous binary's decoder, and keep reading the old.
//
//   - Version 1 is one JSON object (the angel still writes it for a crash
//     recovery, and testdata keeps one).
//   - Version 2 is a container: a magic line, a JSON header line (the
//     snapshot without its sessions) and each session's JSON record with a
//     length prefix, so that neither side scans a multi-megabyte JSON
//     document as a whole.
//   - Version 3 is the same container with CBOR session records (RFC 8949,
//     fxamacker/cbor): half the size and twice as fast to encode and decode
//     as JSON, which is most of a reboot's cost at 10,000 connections.
//   - Version 4 records may carry Held: input the old generation received
//     but left for the new one to handle; and a record may be Staged: only
//     what changes during the pause, the rest being the record sent with
//     the socket before it. A binary that would ignore either (and lose
//     lines, or sessions) must refuse the state, hence the bump.
const SnapshotVersion = 4

// snapshotMagic starts a version 2 (or later) container.
const snapshotMagic = "talker-state\n"

// Snapshot is everything a new generation needs besides the sockets.
type Snapshot struct {
	Version int
	Mode    reboot.Mode
	System  SystemState
	// Sessions are encoded one by one, so that a record this binary cannot
	// read costs only that one session.
	Sessions []json.RawMessage
	// SessionFDs, if present, gives each record's descriptor index (a
	// record's own FD field is then ignored: the angel builds this envelope
	// from checkpoints that do not know the order it sends sockets in).
	SessionFDs []int `json:",omitempty"`
	// Checkpoint marks state rebuilt by the angel from checkpoints after a
	// crash, rather than handed over by a live generation: partial lines
	// and unsent output are gone, and players are told.
	Checkpoint bool `json:",omitempty"`
}

// recordCodec encodes and decodes session records for a snapshot version.
// (Sessions holds the records whatever their encoding; only versions 1
// and 2 are JSON.)
type recordCodec struct {
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
}

var cborRecords = func() recordCodec {
	// Times keep their sub-second part (a float of Unix seconds); decoding
	// is strict about nothing but well-formedness, so that a field added
	// by a newer binary is simply ignored.
	// Map keys are sorted so that the same session always encodes to the
	// same bytes: a reboot compares a session's record at the pause with
	// the one it staged (see Server.stage).
	em, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, Sort: cbor.SortBytewiseLexical}.EncMode()
	if err != nil {
		panic(err)
	}
	dm, err := cbor.DecOptions{}.DecMode()
	if err != nil {
		panic(err)
	}
	return recordCodec{marshal: em.Marshal, unmarshal: dm.Unmarshal}
}()

var jsonRecords = recordCodec{marshal: json.Marshal, unmarshal: json.Unmarshal}

// codecFor returns the record codec of a snapshot version.
func codecFor(version int) recordCodec {
	if version >= 3 {
		return cborRecords
	}
	return jsonRecords
}

// SystemState is the talker-wide state that lives in memory.
type SystemState struct {
	Generation    int       // 1 for a cold start, +1 per seamless reboot
	ColdStartedAt time.Time // start of generation 1
	StartedAt     time.Time // start of this generation
	Reboots       int       // seamless reboots since the cold start
	LastReboot    *RebootTimings
	NextConnID    uint64
	LoginGuard    loginGuard
	Countdown     *countdown `json:",omitempty"`
	// Shutdown is an in-game shutdown countdown (shutdown.go).
	Shutdown *countdown `json:",omitempty"`
	// RoomReview is each room's review buffer (review.go), by room id.
	RoomReview map[string][]ReviewLine `json:",omitempty"`
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

// SessionState is one connection's state across a reboot: all plain data.
type SessionState struct {
	ID          uint64
	FD          int // index into the handed-over descriptors
	Addr        string
	ConnectedAt time.Time
	LastInput   time.Time
	Telnet      telnet.State
	Conn        conn.Carried
	Login       LoginState
	Player      *player.Player `json:",omitempty"`
	LoggedInAt  time.Time
	AFK         bool
	AFKMessage  string
	ReplyTo     string
	Room        string
	TellReview  []ReviewLine `json:",omitempty"` // the session's recap buffer
	// Held is input received and decoded but not yet handled, in order:
	// the next generation handles it before anything the client sends
	// after the reboot.
	Held []telnet.Event `json:",omitempty"`
	// Staged marks a record that carries only FD, Conn and Held: the rest
	// is the record staged with the socket it refers to, unchanged since.
	Staged bool `json:",omitempty"`
}

// stageChunk describes one batch of staged sockets: each one's
// connection id and its session's record as it was then (without what
// only the connection's goroutines may read; see checkpointState).
type stageChunk struct {
	IDs     []uint64
	Records [][]byte
}

// state is a session's whole record, to be read with its connection's
// goroutines frozen: what the angel checkpoints plus the connection's
// carried state and the held input.
func (s *Session) state(fd int) SessionState {
	st := s.checkpointState()
	st.FD, st.Conn, st.Held = fd, s.conn.Carry(), s.held
	return st
}

// encodeSnapshot writes the snapshot in its versioned container format.
// Version is SnapshotVersion unless the caller chose an older one whose
// records are the same (see World.snapshot).
func encodeSnapshot(snap *Snapshot) ([]byte, error) {
	if snap.Version == 0 {
		snap.Version = SnapshotVersion
	}
	records := snap.Sessions
	snap.Sessions = nil
	head, err := json.Marshal(snap)
	snap.Sessions = records
	if err != nil {
		return nil, err
	}
	size := len(snapshotMagic) + len(head) + 1
	for _, r := range records {
		size += binary.MaxVarintLen32 + len(r)
	}
	b := make([]byte, 0, size)
	b = append(b, snapshotMagic...)
	b = append(b, head...)
	b = append(b, '\n')
	b = binary.AppendUvarint(b, uint64(len(records)))
	for _, r := range records {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b, nil
}

// decodeSnapshot reads a snapshot of this version or an older one. The
// session records are not decoded here (see restoreSessions).
func decodeSnapshot(b []byte) (*Snapshot, error) {
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		return decodeSnapshotV1(b)
	}
	rest := b[len(snapshotMagic):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, errors.New("state is unreadable: no header")
	}
	var snap Snapshot
	if err := json.Unmarshal(rest[:nl], &snap); err != nil {
		return nil, fmt.Errorf("state is unreadable: %w", err)
	}
	if snap.Version < 2 || snap.Version > SnapshotVersion {
		return nil, fmt.Errorf("state format version %d is not one this binary reads (1..%d)", snap.Version, SnapshotVersion)
	}
	rest = rest[nl+1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return nil, errors.New("state is unreadable: bad record count")
	}
	rest = rest[k:]
	snap.Sessions = make([]json.RawMessage, 0, n)
	for i := uint64(0); i < n; i++ {
		size, k := binary.Uvarint(rest)
		if k <= 0 || size > uint64(len(rest)-k) {
			return nil, fmt.Errorf("state is unreadable: record %d is cut short", i)
		}
		snap.Sessions = append(snap.Sessions, json.RawMessage(rest[k:k+int(size)]))
		rest = rest[k+int(size):]
	}
	return &snap, nil
}

// decodeSnapshotV1 reads the version 1 format: one JSON object.
func decodeSnapshotV1(b []byte) (*Snapshot, error) {
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("state is unreadable: %w", err)
	}
	if snap.Version != 1 {
		return nil, fmt.Errorf("state format version %d is not one this binary reads (1..%d)", snap.Version, SnapshotVersion)
	}
	return &snap, nil
}
