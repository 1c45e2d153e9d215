package state

import "time"

// LinkDead is a logged-in session whose connection dropped (issue 17): it
// has no socket, so it travels in the System state rather than among the
// records paired with descriptors (Snapshot.SessionFDs), and the angel,
// which passes the System state through untouched, carries it across a
// crash as a reboot does (version 7: an older build would drop it).
type LinkDead struct {
	// Session is its checkpoint record (FD -1, no Conn, no Held).
	Session Session `json:"Session"`
	// Since is when the connection dropped; Until when the session ends
	// if nobody logs in to resume it.
	Since time.Time `json:"Since"`
	Until time.Time `json:"Until"`
	// Missed is the output sent to the session since, oldest first, as
	// rendered for its terminal (one send a chunk); Dropped counts the
	// lines dropped from its front to keep it within its bound.
	Missed  [][]byte `json:"Missed,omitempty"`
	Dropped int      `json:"Dropped,omitempty"`
}
