package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
)

// Tests for the fixes of the review of the invisibility, notes and GMCP
// work: notes only on those one outranks, 'last' and invisible staff,
// invisibility worded as a logout, GMCP after a resumed session.

// TestNotesOnlyOnThoseOutranked: staff read and write notes on players
// below their rank, never on a peer, a superior or themselves.
func TestNotesOnlyOnThoseOutranked(t *testing.T) {
	ts := startServer(t)
	alice := ts.account("Alice", player.Resident)
	sue := ts.account("Sue", player.Staff)
	sam := ts.account("Sam", player.Staff)
	boss := ts.account("Boss", player.Admin)
	_ = alice

	boss.Send("note sue late to the staff meeting")
	boss.Expect("Note added to Sue's file.")
	sue.Send("notes boss")
	sue.Expect("You cannot read the notes on Boss, who is admin: only people below your own rank.")
	sue.Send("note boss is a tyrant")
	sue.Expect("You cannot write a note on Boss, who is admin: only people below your own rank.")
	sam.Send("notes sue")
	sam.Expect("You cannot read the notes on Sue, who is staff: only people below your own rank.")
	sue.Send("notes sue")
	sue.Expect("You cannot read the notes on yourself.")
	sue.Send("note alice helpful in the lounge")
	sue.Expect("Note added to Alice's file.")
	sue.Send("notes alice")
	sue.Expect("Sue: helpful in the lounge")

	boss.Send("notes sue")
	got := boss.Expect("late to the staff meeting")
	if strings.Contains(got, "tyrant") {
		t.Errorf("a refused note was filed:\n%s", got)
	}
	if got := sue.Quiet(200 * time.Millisecond); strings.Contains(got, "staff meeting") {
		t.Errorf("Sue read the notes on herself:\n%s", got)
	}
}
