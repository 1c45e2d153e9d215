// Package player holds what a talker knows about a person: the account
// (name, rank, password hash) and the plain-data Player struct that is stored
// in the database, shown by examine, and carried across a reboot.
//
// Nothing here does I/O; the talker's store persists these values and its
// world goroutine is their only owner while the talker runs.
package player

import (
	"fmt"
	"strings"
	"time"
)

// Rank orders what a player may do. Higher ranks include the powers of the
// lower ones.
type Rank int

// Ranks, lowest first. The numeric values are stored in the database, so they
// must never be renumbered; leave gaps for ranks added later.
const (
	Newbie   Rank = 0
	Resident Rank = 10
	Staff    Rank = 20
	Admin    Rank = 30
)

// Ranks lists every rank, lowest first.
var rankNames = [...]struct {
	r    Rank
	name string
}{{Newbie, "newbie"}, {Resident, "resident"}, {Staff, "staff"}, {Admin, "admin"}}

// String returns the rank's name as players type it.
func (r Rank) String() string {
	for _, rn := range rankNames {
		if rn.r == r {
			return rn.name
		}
	}
	return fmt.Sprintf("rank(%d)", int(r))
}

// AllRanks returns every rank, lowest first.
func AllRanks() []Rank {
	out := make([]Rank, len(rankNames))
	for i, rn := range rankNames {
		out[i] = rn.r
	}
	return out
}

// ParseRank reads a rank name (case-insensitive, prefixes of at least three
// letters accepted, e.g. "adm").
func ParseRank(s string) (Rank, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		for _, rn := range rankNames {
			if strings.HasPrefix(rn.name, s) {
				return rn.r, nil
			}
		}
	}
	return 0, fmt.Errorf("unknown rank %q (ranks: newbie, resident, staff, admin)", s)
}

// Player is the stored, plain-data description of one account. It is what
// the database holds, what examine shows and what a reboot carries.
type Player struct {
	Name         string    // display name, as registered (e.g. "Alice")
	PasswordHash string    // see HashPassword; never shown, never logged
	Rank         Rank      //
	Title        string    // shown after the name in who and look
	Description  string    // shown by examine
	Room         string    // room id the player was last in
	Home         string    // room id `home` takes them to ("" = the talker's main room)
	CreatedAt    time.Time //
	LastSeen     time.Time // last logout (or last activity when online)
	LastAddress  string    // address of the last login
	Logins       int       // number of successful logins
	TimeOnline   time.Duration
}

// Key returns the name in the form used to look accounts up: names are
// unique regardless of case.
func (p *Player) Key() string { return Key(p.Name) }

// Key folds a name to its lookup form.
func Key(name string) string { return strings.ToLower(name) }
