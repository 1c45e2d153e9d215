package reboot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The handoff protocol: what the two generations (or the angel and a new
// generation) say to each other over a private Unix socket, and the files
// they leave in the run directory. The parent's side is parent.go, the
// child's child.go, the angel's offer.go.
//
// The child connects to the socket named in its environment and sends a
// hello line (its one-time token, its protocol). A staged parent then sends
// frames (package ipc: a JSON message with descriptors): "begin", any
// number of "stage", "stage-end"; the child acknowledges each "stage" with
// a StageReport line holding only Acked (if "begin" asked for it), and
// answers "stage-end" with a StageReport line; after the pause, "state"
// with the remaining descriptors. A parent that does not stage (an older build), and the angel, send the Header
// alone with every descriptor. The child answers with a Report line, and
// the parent ends with a commit line: true, the child may use the
// descriptors; false or nothing, it must not. Every key on this socket is
// part of the protocol between builds: a reboot runs between this build and
// the previous one both ways.

// Environment variables that tell a new generation where its handoff is.
// They are set only for the duration of one reboot attempt.
const (
	envHandoff = "TALKER_HANDOFF"
	envToken   = "TALKER_HANDOFF_TOKEN"
)

// maxHeader bounds the header the child accepts.
const maxHeader = 1 << 20

// Header travels with the descriptors: what the child needs to find and
// interpret the state.
type Header struct {
	Mode      Mode
	StateFile string    // path of the state file in the run directory
	Started   time.Time // when the reboot began (for the pause the players saw)
	FromPID   int
	FromVer   string
	// Listeners names listening sockets handed over after the sessions'
	// descriptors (the last len(Listeners) of them), as "network:address".
	// A reboot's listeners come through tableflip instead; the angel, which
	// is not the new generation's parent, sends them this way.
	Listeners []string `json:",omitempty"`
	// Journal: the descriptors include, last (a crash recovery: just
	// before the listeners), the previous generation's crash journal
	// (package journal). A reboot's child continues it; a crash recovery
	// applies it over the angel's checkpoint, then continues it;
	// JournalSince is the number of the last checkpoint the angel got,
	// from which the journal's entries are newer.
	Journal      bool   `json:",omitempty"`
	JournalSince uint64 `json:",omitempty"`
	// Killed: the dead generation was killed by a signal from another
	// process than the angel (an admin's kill -9 or kill -SEGV, the OOM
	// killer), not by a fault or a fatal error of its own. The line
	// a session was running then did not end it, so it runs once more
	// rather than being skipped; dying again while running it makes it
	// poison (journal.KindRerun).
	Killed bool `json:",omitempty"`
}

// Report is what the child tells the parent before it becomes ready (or
// instead of it, when it refuses).
type Report struct {
	OK       bool
	Error    string        `json:",omitempty"`
	PID      int           // the new generation's pid
	Version  string        // the new binary's version
	Received time.Duration // from start of exec to state and descriptors received
	Restored time.Duration // decoding and rebuilding the world
	Sessions int           // sessions restored
	Dropped  int           // sessions that could not be restored
}

// Request is one reboot attempt, from the old generation's side.
type Request struct {
	Mode    Mode
	State   []byte // the opaque, versioned state
	FDs     []int  // descriptors to hand over, in the order the state refers to them
	Started time.Time
	Version string
	// Journal is the parent's crash journal (a memfd) for a child that
	// continues it (protoJournal); 0 or less: none.
	Journal int
}

// Result tells the old generation how the handoff went.
type Result struct {
	Child      Report
	StateWrite time.Duration // writing the state file
	Exec       time.Duration // from starting the child to it asking for its state
	Stage      time.Duration // sending the staged sockets until the child had them all
	Transfer   time.Duration // sending the descriptors
}

// protoStaged is the handoff protocol a new binary announces in its hello
// when it can be staged: sent the players' sockets while the old generation
// is still serving, so that starting the binary and wrapping every socket
// happen before the pause instead of in it. A binary that does not announce
// it (an older build) gets everything in one message after the pause, as
// the angel's recovery offer always sends it. (2 was a development
// version whose stage messages carried only ids: such a binary is handed
// over to unstaged.)
const protoStaged = 3

// protoAcks is a staged child that acknowledges each staged batch once it
// has taken it in (a StageReport line with only Acked set), when the parent
// asks for it in its "begin" message: the parent's wait for the last of
// them then sees progress batch by batch, however many there are. A parent
// that does not ask (an older build) gets no acks.
const protoAcks = 4

// protoJournal is a child that, on a reboot, takes the parent's crash
// journal as the last descriptor of the "state" message (Header.Journal)
// and continues it once committed. A child that does not announce it (an
// older build) starts its own journal, as before.
const protoJournal = 5

// message is what the old generation sends a staged child, each with its
// descriptors: "begin" (the header so far), any number of "stage" chunks,
// "stage-end", then "state" (the complete header, once the old generation
// has paused and written the state file).
type message struct {
	Kind   string
	Header *Header `json:",omitempty"`
	Data   []byte  `json:",omitempty"` // "stage": the caller's description of the sockets
	// Acks, in "begin": acknowledge each staged batch (protoAcks).
	Acks bool `json:",omitempty"`
}

// hello is the child's first line: the one-time token from its
// environment and the protocol it speaks (0: everything in one message).
type hello struct {
	Token string
	Proto int
}

// commit ends a handoff: true, the child may use the descriptors; false
// (or the connection closing before it), it must not.
type commit struct{ Commit bool }

// StageReport is what a staged child says once it has taken in every
// staged socket.
type StageReport struct {
	// Acked, alone on a line, acknowledges that many staged batches taken
	// in so far (protoAcks); the report proper never sets it.
	Acked   int `json:",omitempty"`
	OK      bool
	Error   string        `json:",omitempty"`
	Sockets int           // sockets wrapped and ready
	Took    time.Duration // from the first stage message to ready
}

// BeginRequest starts a reboot attempt.
type BeginRequest struct {
	Mode    Mode
	Version string
}

// staleAfter is how old a handoff's file must be before sweepStale
// removes it: far beyond any ready timeout, so that no handoff in progress
// (of this talker's generations, or of the angel's recovery) loses one.
const staleAfter = 10 * time.Minute

// sweepStale removes state files and handoff sockets that a process which
// died in the middle of a handoff left in the run directory (a state file
// holds players' sessions: it must not linger).
func sweepStale(dir string, olderThan time.Duration, now time.Time) (removed int) {
	for _, pattern := range []string{"state-*.bin", "handoff-*.sock"} {
		names, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, name := range names {
			fi, err := os.Lstat(name)
			if err != nil || now.Sub(fi.ModTime()) < olderThan {
				continue
			}
			if os.Remove(name) == nil {
				removed++
			}
		}
	}
	return removed
}

func writeStateFile(dir string, state []byte) (string, error) {
	f, err := os.CreateTemp(dir, "state-*.bin") // 0600, unpredictable name
	if err != nil {
		return "", fmt.Errorf("state file: %w", err)
	}
	if _, err := f.Write(state); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("state file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("state file: %w", err)
	}
	return f.Name(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
