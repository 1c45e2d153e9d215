package state

import (
	"encoding/json"
	"time"
)

// System is the talker-wide state that lives in memory. It travels as JSON
// in the snapshot's header (and, as is, in the angel's checkpoints).
type System struct {
	Generation    int       `json:"Generation"`    // 1 for a cold start, +1 per seamless reboot or recovery
	ColdStartedAt time.Time `json:"ColdStartedAt"` // start of generation 1
	StartedAt     time.Time `json:"StartedAt"`     // start of this generation
	Reboots       int       `json:"Reboots"`       // seamless reboots since the cold start
	// Recoveries are the crash recoveries since the cold start (a panic's
	// reboot, or the angel's restart with the sockets it held), which
	// Reboots does not count. Added later: a build that predates it
	// ignores it, and one reading a state without it starts from 0.
	Recoveries int      `json:"Recoveries,omitempty"`
	LastReboot *Timings `json:"LastReboot"`
	NextConnID uint64   `json:"NextConnID"`
	LoginGuard Guard    `json:"LoginGuard"`
	// Countdown is a reboot or reset scheduled in-game; Shutdown, a
	// shutdown.
	Countdown *Countdown `json:"Countdown,omitempty"`
	Shutdown  *Countdown `json:"Shutdown,omitempty"`
	// RoomReview is each room's review buffer, by room id.
	RoomReview map[string][]ReviewLine `json:"RoomReview,omitempty"`
	// LinkDead are the sessions whose connection dropped, kept for a
	// while without a socket (version 7, linkdead.go).
	LinkDead []LinkDead `json:"LinkDead,omitempty"`
}

// Timings are the phases of one reboot, as admins see them.
type Timings struct {
	Mode        string        `json:"Mode"`
	At          time.Time     `json:"At"`
	By          string        `json:"By"`
	BySession   uint64        `json:"BySession"`
	Reason      string        `json:"Reason"`
	FromVersion string        `json:"FromVersion"`
	ToVersion   string        `json:"ToVersion"`
	FromPID     int           `json:"FromPID"`
	ToPID       int           `json:"ToPID"`
	Sessions    int           `json:"Sessions"`
	Dropped     int           `json:"Dropped"`
	Prepare     time.Duration `json:"Prepare"`
	Exec        time.Duration `json:"Exec"`
	Stage       time.Duration `json:"Stage"`
	Quiesce     time.Duration `json:"Quiesce"`
	Snapshot    time.Duration `json:"Snapshot"`
	Handoff     time.Duration `json:"Handoff"`
	Restore     time.Duration `json:"Restore"`
	Pause       time.Duration `json:"Pause"`
}

// Countdown is a reboot, reset or shutdown scheduled for later.
type Countdown struct {
	Req          Request   `json:"Req"`
	At           time.Time `json:"At"`
	LastAnnounce time.Time `json:"LastAnnounce"`
}

// Request is who asked for a reboot or shutdown, and why.
type Request struct {
	Mode      string `json:"Mode"`
	Reason    string `json:"Reason"`
	By        string `json:"By"`
	BySession uint64 `json:"BySession"`
}

// Guard is the failed-login throttle, per address, per name and per name
// at an address, and the count of new accounts per address. ByPair and
// NewAccounts were added later: a build that predates them ignores them
// (encoding/json skips unknown keys) and starts those counts afresh.
type Guard struct {
	ByAddr      map[string]*Failures `json:"ByAddr"`
	ByName      map[string]*Failures `json:"ByName"`
	ByPair      map[string]*Failures `json:"ByPair,omitempty"`
	NewAccounts map[string]*Failures `json:"NewAccounts,omitempty"`
}

// Failures is one address's or name's recent failed logins.
type Failures struct {
	Count int       `json:"Count"`
	Last  time.Time `json:"Last"`
	Until time.Time `json:"Until"`
}

// EncodeSystem encodes the talker-wide state as the snapshot's header and
// the angel's checkpoints carry it.
func EncodeSystem(s *System) (json.RawMessage, error) { return json.Marshal(s) }

// DecodeSystem decodes it; an absent one (null) is the zero System.
func DecodeSystem(b json.RawMessage) (System, error) {
	var s System
	if len(b) == 0 {
		return s, nil
	}
	err := json.Unmarshal(b, &s)
	return s, err
}
