// Package journal is the talker's crash journal: a log in shared memory (a
// memfd that the angel holds a descriptor of) into which the world writes,
// after every event it handles, the records of the sessions that event
// changed, and then commits them with one store. A kill -9, a SIGSEGV, the
// OOM killer or a Go fatal error can stop the talker at any instruction;
// the memory stays (it belongs to the memfd, not to the process), so the
// next generation reads every committed entry and nothing half-written.
//
// It complements the angel's checkpoints, which arrive every 200 ms over a
// socket: a recovery starts from the angel's checkpoint and applies the
// journal's entries made after it. Each entry is tagged with the number of
// the last checkpoint the world had taken when it was made; the angel
// says which checkpoint it had last received, and entries with a tag at
// least that are newer than what it holds.
//
// The log has two halves. Entries go to the active one. Once the angel has
// received the checkpoint taken when that half became active, the other
// half holds only entries older than what the angel has, and the world
// switches: the other half is emptied and becomes active (Switch). A half
// that fills before that (a long stall of the angel) stops the journal
// until the next switch, and the header says so: a recovery then uses the
// checkpoint alone, as it did before the journal existed.
//
// Layout (little-endian): a 4 KiB header, then the two halves.
//
//	header: magic "TLKJ" | version u32 | half size u64 | active u32 | broken u32
//	        | committed[2] u64 (bytes of each half that are committed)
//	        | base[2] u64 (the checkpoint number when each half became active)
//	entry:  length u32 (of the payload) | kind u8 | tag u64 | id u64 | payload
//
// One goroutine writes (the world's; a mutex makes that a rule rather than
// an assumption); the committed lengths are stored atomically after the
// entries they cover, and read atomically.
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kind says what an entry's payload is.
type Kind uint8

// Kinds of entries.
const (
	// KindSession is a session's record (the state format's checkpoint
	// record, in state.VersionCBOR's encoding) keyed by its connection id.
	KindSession Kind = 1
	// KindSystem is the talker-wide state (state.EncodeSystem); id 0.
	KindSystem Kind = 2
	// KindOutput is output committed for a connection: the absolute
	// offset in its output stream of the first byte (u64), then the bytes.
	KindOutput Kind = 3
	// KindRunning says a session is running a line (the payload): the
	// next record of that session says it finished. A journal whose last
	// word on a session is this one died running it (see Folded.Running).
	KindRunning Kind = 4
	// KindTLSWrite is a TLS connection's write half after the records of
	// the KindOutput entry before it (tlsrecord.WriteState's encoding):
	// the sequence number and secret the next record is sealed under.
	KindTLSWrite Kind = 5
	// KindRerun is KindRunning for a line a generation already died
	// running, killed from outside (reboot.Header.Killed), so run once
	// more: dying again with it, however, makes it poison. A poison line
	// not yet read again is journalled this way too, so that it stays
	// poison. Builds that do not know this kind ignore it (they run the
	// line again).
	KindRerun Kind = 6
)

const (
	magic      = "TLKJ"
	version    = 1
	headerSize = 4096
	entryHead  = 4 + 1 + 8 + 8
	// Offsets of the header's fields.
	offMagic     = 0
	offVersion   = 4
	offHalf      = 8
	offActive    = 16
	offBroken    = 20
	offCommitted = 24 // two u64
	offBase      = 40 // two u64
	// DefaultHalf is each half's size: a say in a room of 1,000 changes
	// about two records of 300-600 bytes, so 32 MiB holds tens of
	// thousands of events, far more than the 200 ms between checkpoints
	// brings. The memfd is sparse: only pages written take memory.
	DefaultHalf = 32 << 20
	// maxPayload bounds one entry: a session record with a full pager is
	// tens of KiB; the system state with many link-dead sessions can be
	// a few MiB.
	maxPayload = 16 << 20
)

// Journal is the writer's side: one per talker generation.
type Journal struct {
	fd   int
	mem  []byte
	half int

	mu     sync.Mutex
	active int
	pos    int    // append position in the active half
	tag    uint64 // the last checkpoint taken
	broken bool   // a half filled: appends stop until the next switch
	// healing: appending again since a switch after a break, but the
	// header still says broken until the angel has that switch's
	// checkpoint (the next switch): entries from the gap are missing.
	healing bool
}

// Create makes a journal in a new memfd with halves of half bytes.
func Create(half int) (*Journal, error) {
	if half < 4096 {
		return nil, errors.New("journal: half too small")
	}
	fd, err := unix.MemfdCreate("talker-journal", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("journal: memfd: %w", err)
	}
	size := headerSize + 2*half
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("journal: size: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("journal: map: %w", err)
	}
	j := &Journal{fd: fd, mem: mem, half: half}
	copy(mem[offMagic:], magic)
	binary.LittleEndian.PutUint32(mem[offVersion:], version)
	binary.LittleEndian.PutUint64(mem[offHalf:], uint64(half))
	return j, nil
}

// Adopt continues a dead generation's journal (fd, its memfd as the angel
// handed it on, now owned by the journal): entries are appended after its
// last committed one, tagged no lower than its newest tag or since (the
// angel's last checkpoint number). Because the angel already holds this
// very journal, a generation that adopts it is covered from its first
// event: a crash before its own first checkpoint reaches the angel
// recovers from the dead generation's checkpoint plus everything both
// committed. A journal that stopped (a half filled) is not adopted.
func Adopt(fd int, since uint64) (*Journal, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if st.Size < headerSize {
		return nil, errors.New("journal: too short")
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("journal: map: %w", err)
	}
	fail := func(err error) (*Journal, error) {
		unix.Munmap(mem)
		return nil, err
	}
	// Every check a recovery makes, without copying a payload: a
	// reboot's new generation adopts its parent's journal in the pause,
	// where copying 2 x 32 MiB would show.
	newest := uint64(0)
	if err := walk(mem, func(e Entry, _ []byte) { newest = max(newest, e.Tag) }); err != nil {
		return fail(err)
	}
	half := int(binary.LittleEndian.Uint64(mem[offHalf:]))
	active := int(binary.LittleEndian.Uint32(mem[offActive:]))
	if active > 1 {
		return fail(errors.New("journal: no such half active"))
	}
	j := &Journal{fd: fd, mem: mem, half: half, active: active}
	j.pos = int(atomic.LoadUint64(j.u64(offCommitted + 8*active)))
	j.tag = max(since, atomic.LoadUint64(j.u64(offBase+8*active)), newest)
	return j, nil
}

// Tag is the number of the last checkpoint the entries appended now are
// newer than.
func (j *Journal) Tag() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.tag
}

// FD is the memfd, for handing a duplicate to the angel. The journal keeps
// it.
func (j *Journal) FD() int { return j.fd }

// Close unmaps the journal and closes its descriptor.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mem == nil {
		return nil
	}
	err := unix.Munmap(j.mem)
	j.mem = nil
	unix.Close(j.fd)
	return err
}

func (j *Journal) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&j.mem[off])) }
func (j *Journal) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&j.mem[off])) }

// Append adds an entry to the active half, uncommitted until Commit. It
// returns false if the journal is broken (full): the caller need not care,
// the checkpoints still run.
func (j *Journal) Append(kind Kind, id uint64, payload []byte) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.broken || j.mem == nil {
		return false
	}
	n := entryHead + len(payload)
	if len(payload) > maxPayload || j.pos+n > j.half {
		// Full: stop until the next switch, and say so in the header
		// first, so that a recovery does not apply a journal with a gap.
		j.broken = true
		atomic.StoreUint32(j.u32(offBroken), 1)
		return false
	}
	at := headerSize + j.active*j.half + j.pos
	e := j.mem[at : at+n]
	binary.LittleEndian.PutUint32(e[0:], uint32(len(payload)))
	e[4] = byte(kind)
	binary.LittleEndian.PutUint64(e[5:], j.tag)
	binary.LittleEndian.PutUint64(e[13:], id)
	copy(e[entryHead:], payload)
	j.pos += n
	return true
}

// Commit makes every entry appended so far part of the journal: one
// atomic store, after the entries' own bytes.
func (j *Journal) Commit() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mem == nil || j.broken {
		return
	}
	atomic.StoreUint64(j.u64(offCommitted+8*j.active), uint64(j.pos))
}

// Used returns how full the active half is, from 0 to 1: the world takes
// a checkpoint early when it passes one half.
func (j *Journal) Used() float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return float64(j.pos) / float64(j.half)
}

// Checkpointed records that checkpoint number n has been taken: entries
// appended from now on are newer than it.
func (j *Journal) Checkpointed(n uint64) {
	j.mu.Lock()
	j.tag = n
	j.mu.Unlock()
}

// Base returns the checkpoint number taken when the active half became
// active: once the angel has it, the world may Switch.
func (j *Journal) Base() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return atomic.LoadUint64(j.u64(offBase + 8*j.active))
}

// Switch empties the inactive half and makes it the active one, its
// entries newer than checkpoint n (the one just taken). Call it only when
// the angel has received checkpoint Base(): the inactive half then holds
// nothing the angel lacks. It also ends a broken spell: from checkpoint n
// on, the journal is complete again.
func (j *Journal) Switch(n uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mem == nil {
		return
	}
	next := 1 - j.active
	// Order matters for a reader after a crash at any point: the half is
	// emptied (committed 0) before its base changes and before it is
	// made active.
	atomic.StoreUint64(j.u64(offCommitted+8*next), 0)
	atomic.StoreUint64(j.u64(offBase+8*next), n)
	atomic.StoreUint32(j.u32(offActive), uint32(next))
	j.active, j.pos, j.tag = next, 0, n
	switch {
	case j.broken:
		// Entries start again, complete from checkpoint n on; but until
		// the angel has n, what it holds plus these would miss the gap.
		j.broken, j.healing = false, true
	case j.healing:
		// The angel has the checkpoint the last switch took: whole again.
		j.healing = false
		atomic.StoreUint32(j.u32(offBroken), 0)
	}
}

// Entry is one committed entry, as read back.
type Entry struct {
	Kind    Kind
	Tag     uint64
	ID      uint64
	Payload []byte
}

// ErrBroken says the journal stopped (a half filled) since the angel's
// last checkpoint it could have filled: it must not be applied.
var ErrBroken = errors.New("journal: stopped since the last checkpoint (a half filled); not applied")

// ReadFD reads a journal from a descriptor (the angel's duplicate of a
// dead generation's memfd) and returns its committed entries with a tag
// of at least since, in the order they were made. Anything malformed is an
// error: a recovery then uses the checkpoint alone.
func ReadFD(fd int, since uint64) ([]Entry, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if st.Size < headerSize {
		return nil, errors.New("journal: too short")
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("journal: map: %w", err)
	}
	defer unix.Munmap(mem)
	return Parse(mem, since)
}

// Parse reads a journal's bytes (see ReadFD). The entries' payloads are
// copies.
func Parse(mem []byte, since uint64) ([]Entry, error) {
	var out []Entry
	err := walk(mem, func(e Entry, payload []byte) {
		if e.Tag >= since {
			e.Payload = append([]byte(nil), payload...)
			out = append(out, e)
		}
	})
	return out, err
}

// walk makes every check Parse makes and gives fn each committed entry,
// oldest first, with its payload in mem (fn copies what it keeps).
func walk(mem []byte, fn func(e Entry, payload []byte)) error {
	if len(mem) < headerSize || string(mem[offMagic:offMagic+4]) != magic {
		return errors.New("journal: not a journal")
	}
	if v := binary.LittleEndian.Uint32(mem[offVersion:]); v != version {
		return fmt.Errorf("journal: version %d, this build reads %d", v, version)
	}
	half := binary.LittleEndian.Uint64(mem[offHalf:])
	if half == 0 || uint64(len(mem)) < headerSize+2*half {
		return errors.New("journal: size does not match its header")
	}
	if binary.LittleEndian.Uint32(mem[offBroken:]) != 0 {
		return ErrBroken
	}
	type span struct {
		base      uint64
		off, size int
	}
	var halves []span
	for h := 0; h < 2; h++ {
		committed := binary.LittleEndian.Uint64(mem[offCommitted+8*h:])
		if committed > half {
			return errors.New("journal: a committed length past its half")
		}
		halves = append(halves, span{binary.LittleEndian.Uint64(mem[offBase+8*h:]), headerSize + h*int(half), int(committed)})
	}
	// The older half first: entries are made in order of their halves'
	// bases (a switch always moves to a later checkpoint).
	sort.SliceStable(halves, func(a, b int) bool { return halves[a].base < halves[b].base })
	for _, h := range halves {
		b := mem[h.off : h.off+h.size]
		for len(b) > 0 {
			if len(b) < entryHead {
				return errors.New("journal: a torn entry inside the committed part")
			}
			n := int(binary.LittleEndian.Uint32(b[0:]))
			if n > maxPayload || entryHead+n > len(b) {
				return errors.New("journal: an entry longer than the committed part")
			}
			fn(Entry{Kind: Kind(b[4]), Tag: binary.LittleEndian.Uint64(b[5:]), ID: binary.LittleEndian.Uint64(b[13:])}, b[entryHead:entryHead+n])
			b = b[entryHead+n:]
		}
	}
	return nil
}

// OutputEntry is the payload of a KindOutput entry.
func OutputEntry(from uint64, b []byte) []byte {
	return append(binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(b)), from), b...)
}

// Run is a stretch of a connection's output stream from the journal.
type Run struct {
	From  uint64
	Bytes []byte
}

// Folded is what a recovery takes from a journal: each session's last
// record, the last system state (nil if none), and each connection's
// committed output, in order.
type Folded struct {
	Sessions map[uint64][]byte
	System   []byte
	Output   map[uint64][]Run
	// Running is, per session, the line it was running when the talker
	// died: a recovery must not run it again (it may be what killed the
	// talker), and says so.
	Running map[uint64][]byte
	// Rerun: the session's running line is a KindRerun one (a second
	// death with it).
	Rerun map[uint64]bool
	// TLSWrite is, per TLS connection whose output was sealed at
	// release, its write half after its last committed records.
	TLSWrite map[uint64][]byte
}

// Latest folds entries (see Folded).
func Latest(entries []Entry) Folded {
	f := Folded{Sessions: map[uint64][]byte{}, Output: map[uint64][]Run{}, Running: map[uint64][]byte{},
		Rerun: map[uint64]bool{}, TLSWrite: map[uint64][]byte{}}
	for _, e := range entries {
		switch e.Kind {
		case KindRunning:
			f.Running[e.ID] = e.Payload
			delete(f.Rerun, e.ID)
		case KindRerun:
			f.Running[e.ID] = e.Payload
			f.Rerun[e.ID] = true
		case KindSession:
			f.Sessions[e.ID] = e.Payload
			delete(f.Running, e.ID)
			delete(f.Rerun, e.ID)
		case KindSystem:
			f.System = e.Payload
		case KindTLSWrite:
			f.TLSWrite[e.ID] = e.Payload
		case KindOutput:
			if len(e.Payload) >= 8 {
				f.Output[e.ID] = append(f.Output[e.ID], Run{From: binary.LittleEndian.Uint64(e.Payload), Bytes: e.Payload[8:]})
			}
		}
	}
	return f
}
