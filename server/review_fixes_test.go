package server

import (
	"bytes"
	"fmt"
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

// seen collects what c received for one event: the text up to and
// including until, whatever follows within 200 ms, and the GMCP messages
// after the first gmcpFrom.
func seen(c *talkertest.Client, until string, gmcpFrom int) (string, []string) {
	got := c.Expect(until)
	got += c.Quiet(200 * time.Millisecond)
	return got, c.GMCPSince(gmcpFrom)
}

// TestInvisLooksLikeLogoutAndLogin: to those below a member of staff,
// turning invisible shows exactly what logging out does, and turning
// visible again exactly what logging in does: the same lines (a friend's
// wording for a friend) and the same GMCP room messages; nothing to those
// who keep sight of them but the staff line. On a small talker everyone
// is told; on a crowded one (more than AnnounceAll on: 4 here, with
// AnnounceAll 2) only friends, and the room hears nothing.
func TestInvisLooksLikeLogoutAndLogin(t *testing.T) {
	for _, announceAll := range []int{DefaultConfig().AnnounceAll, 2} {
		crowded := announceAll == 2
		t.Run(fmt.Sprint("announce_all_", announceAll), func(t *testing.T) {
			ts := startServer(t, func(c *Config) { c.AnnounceAll = announceAll })
			alice := ts.gmcpDial()
			alice.Register("Alice", "secret-Alice")
			bob := ts.account("Bob", player.Resident)
			boss := ts.account("Boss", player.Admin)
			sue := ts.account("Sue", player.Staff)
			alice.Send("friend sue")
			alice.Expect("Sue")
			alice.Quiet(200 * time.Millisecond)
			bob.Quiet(200 * time.Millisecond)

			type event struct {
				alice, bob string
				gmcp       []string
			}
			capture := func(what string, n int) event {
				var e event
				e.alice, e.gmcp = seen(alice, "[ Your friend Sue has "+what+" ]", n)
				if crowded {
					e.bob = bob.Quiet(200 * time.Millisecond)
				} else {
					e.bob, _ = seen(bob, "[ Sue has "+what+" ]", 0)
				}
				return e
			}
			n := len(alice.GMCPMessages())
			sue.Send("quit")
			sue.WaitClosed()
			logout := capture("disconnected", n)
			boss.Quiet(200 * time.Millisecond)
			n = len(alice.GMCPMessages())
			sue = ts.login("Sue")
			login := capture("connected", n)
			boss.Quiet(200 * time.Millisecond)
			if crowded == strings.Contains(logout.alice, "Sue has left the talker.") || crowded == strings.Contains(login.bob, "Sue arrives.") ||
				crowded && (logout.bob != "" || login.bob != "") ||
				len(logout.gmcp) != 1 || !strings.HasPrefix(logout.gmcp[0], `Room.RemovePlayer "Sue"`) ||
				len(login.gmcp) != 1 || !strings.HasPrefix(login.gmcp[0], `Room.AddPlayer {"name":"Sue"`) {
				t.Fatalf("a real logout and login: %+v %+v", logout, login)
			}

			n = len(alice.GMCPMessages())
			sue.Send("invis on")
			sue.Expect("You are now invisible")
			invis := capture("disconnected", n)
			n = len(alice.GMCPMessages())
			sue.Send("vis")
			sue.Expect("You are visible again.")
			vis := capture("connected", n)
			if invis.alice != logout.alice || invis.bob != logout.bob || strings.Join(invis.gmcp, "\n") != strings.Join(logout.gmcp, "\n") {
				t.Errorf("turning invisible does not look like logging out:\nlogout %q\ninvis  %q", logout, invis)
			}
			if vis.alice != login.alice || vis.bob != login.bob || strings.Join(vis.gmcp, "\n") != strings.Join(login.gmcp, "\n") {
				t.Errorf("turning visible does not look like logging in:\nlogin %q\nvis   %q", login, vis)
			}
			got := boss.Quiet(200 * time.Millisecond)
			if strings.Contains(got, "connected") || strings.Contains(got, "left the talker") || strings.Contains(got, "arrives") {
				t.Errorf("an admin, who sees Sue throughout, was shown her come and go:\n%s", got)
			}
		})
	}
}

// TestInvisNotInTheStaffLogOfLowerStaff: an admin turning invisible or
// visible is not shown to staff below them, live or in 'stafflog' (it
// would tell them what invisibility hides from them); their peers see both.
func TestInvisNotInTheStaffLogOfLowerStaff(t *testing.T) {
	ts := startServer(t)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)
	ann := ts.account("Ann", player.Admin)
	boss.Send("invis on")
	boss.Expect("You are now invisible")
	ann.Expect("*** [staff] Boss invis")
	boss.Send("vis")
	ann.Expect("*** [staff] Boss vis")
	sue.Send("invis on")
	boss.Expect("*** [staff] Sue invis")
	if got := sue.Expect("You are now invisible"); strings.Contains(got, "[staff] Boss") {
		t.Errorf("staff below an admin were told live of the admin's invisibility:\n%s", got)
	}
	sue.Send("stafflog")
	sue.Expect("staff actions:")
	got := sue.Expect("Sue invis")
	if strings.Contains(got, "Boss") {
		t.Errorf("staff below an admin were shown the admin's invisibility:\n%s", got)
	}
	ann.Send("stafflog")
	ann.Expect("staff actions:")
	got = ann.Expect("Sue invis")
	if !strings.Contains(got, "Boss invis") || !strings.Contains(got, "Boss vis") {
		t.Errorf("an admin's stafflog lacks a peer's invis and vis:\n%s", got)
	}
}
