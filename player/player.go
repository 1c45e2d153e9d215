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
	LastSeen     time.Time // last logout or login, as everyone saw it: an invisible member of staff's leave it alone (server/invis.go)
	LastAddress  string    // address of the last login
	Logins       int       // number of successful logins
	TimeOnline   time.Duration

	// Settings the player chooses (see the talker's colour, prompt,
	// timestamps, earmuffs, entermsg and exitmsg commands).
	Colour bool // colour codes become ANSI colour (off: they are stripped), if ColourChosen
	// ColourChosen: the player set colour on or off; until they do, colour
	// follows what their client says it understands (MTTS, terminal type).
	ColourChosen bool
	// ScreenReader: output for a screen reader (no colour, no decoration,
	// lists read as sentences): follow the client's MTTS bit, on, or off.
	ScreenReader ScreenReader
	Prompt       bool   // send a prompt after the output of each command
	PromptText   string // the prompt ("" = the default)
	Timestamps   bool   // prefix conversation with [HH:MM]
	Earmuffs     bool   // hear no shouts
	EnterMsg     string // shown after the name on arriving in a room ("" = "arrives.")
	ExitMsg      string // shown after the name on leaving a room ("" = "goes to <room>.")
	Pager        int    // lines a page ('pager'): 0 the client's window height, -1 no paging
	Wrap         int    // columns to wrap at ('wrap'): 0 the client's window width (NAWS)

	// The profile 'examine' shows (see the talker's plan, gender, email
	// and url commands). A private e-mail is shown only to its owner and
	// to staff.
	Plan        string
	Gender      string
	Email       string
	EmailPublic bool
	URL         string

	// Invisible: a member of staff hidden from who, where and room lists
	// of lower ranks ('invis').
	Invisible bool

	// What staff have done to the player.
	Gagged bool // may not talk to anyone
	Jailed bool // kept in the jail room

	// Lists are the player's per-person flags (friend, ignore, invite),
	// keyed by the other person's Key.
	Lists map[string]ListEntry `json:",omitempty"`

	// Aliases are the player's command aliases, by name ('alias'), and
	// Channels the talk channels they belong to, by name ('channel').
	// Both are stored in their own tables and carried by reboots.
	Aliases  map[string]string `json:",omitempty"`
	Channels []string          `json:",omitempty"`
}

// ScreenReader is a player's screen reader setting.
type ScreenReader uint8

// Screen reader settings. The values are stored: never renumber them.
const (
	ScreenReaderAuto ScreenReader = iota // as the client says (MTTS bit 64)
	ScreenReaderOn                       // the player turned it on
	ScreenReaderOff                      // the player turned it off
)

// Ignore is what of someone a player does not want to hear, as bits.
type Ignore uint8

// What can be ignored. IgnoreAll is every bit.
const (
	IgnoreTells  Ignore = 1 << iota // tells, remotes, whispers, replies and mail
	IgnoreShouts                    // shouts
	IgnoreRoom                      // says, emotes and thoughts in the room, log-in notices
	IgnoreAll    = IgnoreTells | IgnoreShouts | IgnoreRoom
)

// String names what is ignored: "all", "tells", "tells and shouts", ...
func (i Ignore) String() string {
	if i&IgnoreAll == IgnoreAll {
		return "everything"
	}
	var parts []string
	for _, b := range []struct {
		bit  Ignore
		name string
	}{{IgnoreTells, "tells"}, {IgnoreShouts, "shouts"}, {IgnoreRoom, "room talk"}} {
		if i&b.bit != 0 {
			parts = append(parts, b.name)
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " and ")
}

// ListEntry is what a player has said about one other person.
type ListEntry struct {
	Name   string // the other person's name as registered, for display
	Friend bool   // told when they log in and out; listed by fwho
	Ignore Ignore // what of theirs is not shown
	Invite bool   // may enter this player's rooms even when locked
}

// Empty reports whether the entry says nothing (and can be dropped).
func (e ListEntry) Empty() bool { return !e.Friend && e.Ignore == 0 && !e.Invite }

// Entry returns the player's list entry for another player's key.
func (p *Player) Entry(key string) ListEntry { return p.Lists[key] }

// IsFriend reports whether the player has the other on their friend list.
func (p *Player) IsFriend(key string) bool { return p.Lists[key].Friend }

// Ignores reports whether the player ignores any of what of the other.
func (p *Player) Ignores(key string, what Ignore) bool { return p.Lists[key].Ignore&what != 0 }

// SetEntry replaces the entry for key, dropping it when it is empty.
func (p *Player) SetEntry(key string, e ListEntry) {
	if e.Empty() {
		delete(p.Lists, key)
		return
	}
	if p.Lists == nil {
		p.Lists = map[string]ListEntry{}
	}
	p.Lists[key] = e
}

// Key returns the name in the form used to look accounts up: names are
// unique regardless of case.
func (p *Player) Key() string { return Key(p.Name) }

// Key folds a name to its lookup form.
func Key(name string) string { return strings.ToLower(name) }
