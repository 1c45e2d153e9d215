package server

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"talker/server/store"
)

// Faults are failures a test injects into one generation, so that every
// way a broken build can fail a reboot is exercised with real processes.
// They come from TALKER_FAULT, which the command line reads once and does
// not pass on (a reboot inherits the environment, and the next generation
// is whatever its own binary is):
//
//	crash-stage, hang-stage          while taking in the staged sockets, before the pause
//	slow-stage                       1.2 s before taking in each batch of staged sockets
//	reject-state, crash-restore,     while restoring the state, in the pause
//	reject-checkpoint                a crash recovery's state, when it carries checkpoints
//	crash-soon                       half a second after serving, every time
//	hang-restore
//	corrupt-session:NAME             NAME's session record arrives damaged, so that the
//	                                 restore's own decoding meets an unreadable record
//	future-schema:additive|breaking  one more schema migration, as a later build would play
type Faults struct {
	Stage   faultAction // while taking in the staged sockets
	Restore faultAction // while restoring the state
	// CorruptSession damages the bytes of the session record naming this
	// player as it arrives in the new generation (staged or at the pause).
	CorruptSession string
	// RejectCheckpoint refuses a crash recovery's state when it carries
	// the talker's checkpoints (not one with the sockets alone), as a
	// binary that cannot read them would.
	RejectCheckpoint bool
	// CrashSoon: the generation crashes (an unrecovered panic) half a
	// second after it starts serving, as a bad build that passes a reboot
	// would.
	CrashSoon bool
	// FutureMigrations are played after this build's schema migrations.
	FutureMigrations []store.Migration
}

// faultAction is what a fault does where it is injected.
type faultAction uint8

const (
	faultNone   faultAction = iota
	faultReject             // refuse, with an error
	faultCrash              // panic
	faultHang               // never return
	faultSlow               // take slowFault, then carry on
)

// slowFault is how long a slow fault takes: less than the tests' ready
// timeout (3 s), so that a child that is slow at every step still makes
// progress.
const slowFault = 1200 * time.Millisecond

// inject does the fault, in a step described by what (for the panic).
func (a faultAction) inject(what string) error {
	switch a {
	case faultReject:
		return errors.New("injected fault: state rejected")
	case faultCrash:
		panic("injected fault: crash while " + what)
	case faultHang:
		select {}
	case faultSlow:
		time.Sleep(slowFault)
	}
	return nil
}

// ParseFaults reads TALKER_FAULT's value; anything it does not know is no
// fault.
func ParseFaults(s string) Faults {
	var f Faults
	switch s {
	case "crash-stage":
		f.Stage = faultCrash
	case "hang-stage":
		f.Stage = faultHang
	case "slow-stage":
		f.Stage = faultSlow
	case "reject-state":
		f.Restore = faultReject
	case "reject-checkpoint":
		f.RejectCheckpoint = true
	case "crash-soon":
		f.CrashSoon = true
	case "crash-restore":
		f.Restore = faultCrash
	case "hang-restore":
		f.Restore = faultHang
	}
	if name, ok := strings.CutPrefix(s, "corrupt-session:"); ok {
		f.CorruptSession = name
	}
	if kind, ok := strings.CutPrefix(s, "future-schema:"); ok {
		f.FutureMigrations = futureMigrations(kind)
	}
	return f
}

// futureMigrations is the schema change future-schema:KIND plays, as if
// this binary were a later build: "additive" (older builds can still use
// the database) or "breaking" (they cannot).
func futureMigrations(kind string) []store.Migration {
	switch kind {
	case "additive":
		return []store.Migration{{OlderCanUse: true, SQL: `CREATE TABLE future_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT '');
			ALTER TABLE players ADD COLUMN future_flag INTEGER NOT NULL DEFAULT 0`}}
	case "breaking":
		return []store.Migration{{OlderCanUse: false, SQL: `ALTER TABLE players RENAME COLUMN title TO motto`}}
	}
	return nil
}

// garble returns raw cut in half if it is a CBOR record with a "Name"
// field equal (ignoring case) to f.CorruptSession, else raw unchanged.
func (f Faults) garble(raw []byte) []byte {
	name := f.CorruptSession
	if name == "" || len(name) >= 24 {
		return raw
	}
	// The key "Name" (a 4-byte text string), then a text string of the
	// name's length.
	marker := append([]byte{0x64, 'N', 'a', 'm', 'e'}, byte(0x60+len(name)))
	for i := 0; i < len(raw); {
		j := bytes.Index(raw[i:], marker)
		if j < 0 {
			return raw
		}
		at := i + j + len(marker)
		if at+len(name) <= len(raw) && strings.EqualFold(string(raw[at:at+len(name)]), name) {
			return raw[:len(raw)/2]
		}
		i += j + 1
	}
	return raw
}
