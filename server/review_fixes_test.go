package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
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

// gmcpModules is what the scripted GMCP client asks for, as Mudlet does.
var gmcpModules = []string{"Char", "Room", "Comm.Channel"}

// gmcpDial connects a client that agrees to GMCP.
func (ts *testServer) gmcpDial() *talkertest.Client {
	return ts.dial(talkertest.Options{Width: 200, Height: 50, GMCP: gmcpModules})
}

// TestGMCPAfterResume: a player whose session is resumed (link-dead, or
// taken over from another connection) on a connection that agreed to GMCP
// is sent Char.Name, Char.Status, Room.Info and Room.Players, as a login
// sends them; a connection without GMCP is sent no GMCP at all.
func TestGMCPAfterResume(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.gmcpDial()
	alice.Register("Alice", "secret-Alice")
	alice.ExpectGMCP(`Char.Name {"name":"Alice"`)
	alice.ExpectGMCP("Room.Players ")
	bob := ts.newPlayer("Bob")
	alice.ExpectGMCP(`Room.AddPlayer {"name":"Bob"`)

	// Link-dead, then resumed by a login on a GMCP connection.
	dropAndWait(t, alice, bob, "Alice")
	again := ts.gmcpDial()
	if got := again.Login("alice", "secret-Alice"); !strings.Contains(got, "taken over your session") {
		t.Fatalf("not a resumed session:\n%s", got)
	}
	want := []string{`Char.Name {"name":"Alice"`, `Char.Status {"name":"Alice","rank":"newbie"`,
		`Room.Info {"num":` + itoa(int(roomNum("main"))) + `,"id":"main"`, "Room.Players "}
	for _, w := range want {
		got := again.ExpectGMCP(w)
		if w == "Room.Players " && (!strings.Contains(got, `"name":"Alice"`) || !strings.Contains(got, `"name":"Bob"`)) {
			t.Errorf("Room.Players after the resume: %s", got)
		}
	}

	// Taken over from a live connection by another GMCP one.
	third := ts.gmcpDial()
	if got := third.Login("alice", "secret-Alice"); !strings.Contains(got, "taken over your session") {
		t.Fatalf("not a resumed session:\n%s", got)
	}
	for _, w := range want {
		third.ExpectGMCP(w)
	}
	again.WaitClosed()

	// A plain telnet client resuming gets no GMCP bytes.
	dropAndWait(t, third, bob, "Alice")
	plain := ts.dial()
	if got := plain.Login("alice", "secret-Alice"); !strings.Contains(got, "taken over your session") {
		t.Fatalf("not a resumed session:\n%s", got)
	}
	plain.Send("version")
	plain.Expect("running talker version")
	if raw := plain.Raw(); bytes.Contains(raw, []byte{255, 250, 201}) {
		t.Errorf("GMCP sent to a client that did not agree to it: %q", raw)
	}
}
