package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
	"talker/state"
)

// linkDeadServer is a test talker with link-dead sessions kept for window
// and no line rate (the tests say many lines at once).
func linkDeadServer(t *testing.T, window time.Duration) *testServer {
	return startServer(t, func(c *Config) {
		c.LinkDead = window
		c.Limits.LineRate = 0
	})
}

// dropAndWait closes a client's TCP connection without quitting and waits
// until the room has been told.
func dropAndWait(t *testing.T, c, watcher *talkertest.Client, name string) {
	t.Helper()
	c.Close()
	watcher.Expect(name + " has lost their connection.")
}

// TestLinkDeadResumeShowsMissedLinesOnce: a player whose connection drops
// stays in the world, link-dead ('who' says so, a tell says it is kept);
// logging in again from a new connection resumes the same session (room,
// title) and shows what was said meanwhile once, in order; the room is told.
func TestLinkDeadResumeShowsMissedLinesOnce(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.newPlayer("Alice")
	alice.Send("go lounge")
	alice.Expect("The Lounge")
	alice.Send("title the Patient")
	alice.Expect("Your title is now")
	bob := ts.newPlayer("Bob")
	bob.Send("go lounge")
	bob.Expect("Alice the Patient")

	dropAndWait(t, alice, bob, "Alice")
	bob.Send("who")
	who := bob.Expect("newbie)")
	if !strings.Contains(who, "Alice the Patient") || !strings.Contains(who, "link-dead") {
		t.Errorf("who does not show Alice link-dead:\n%s", who)
	}
	for i := 1; i <= 5; i++ {
		bob.Send(fmt.Sprintf("say missed line %d", i))
		bob.Expect(fmt.Sprintf("You say 'missed line %d'", i))
	}
	bob.Send("tell alice are you there?")
	bob.Expect("Alice is link-dead: your message is kept")
	ts.srv.Do(func(w *World) {
		if s := w.online["alice"]; s == nil || s.linkDead == nil || w.sessions[s.ID] == s {
			t.Errorf("Alice is not a link-dead session out of the sessions with sockets")
		}
	})

	again := ts.dial()
	got := again.Login("alice", "secret-Alice")
	bob.Expect("Alice has reconnected.")
	again.Quiet(200 * time.Millisecond)
	text := again.Text()
	if !strings.Contains(got, "taken over your session") || !strings.Contains(got, "The Lounge") {
		t.Errorf("resume transcript lacks the welcome or the room:\n%s", got)
	}
	last := -1
	for i := 1; i <= 5; i++ {
		line := fmt.Sprintf("Bob says 'missed line %d'", i)
		if n := strings.Count(text, line); n != 1 {
			t.Errorf("%q shown %d times, want once:\n%s", line, n, text)
		}
		at := strings.Index(text, line)
		if at < last {
			t.Errorf("%q out of order:\n%s", line, text)
		}
		last = at
	}
	if !strings.Contains(text, "Bob asks you 'are you there?'") {
		t.Errorf("the tell was not kept:\n%s", text)
	}
	if strings.Contains(text, "dropped") {
		t.Errorf("nothing was dropped, but the player is told so:\n%s", text)
	}
	again.Send("title")
	again.Send("say I am back")
	bob.Expect("Alice says 'I am back'")
	ts.srv.Do(func(w *World) {
		s := w.online["alice"]
		if s == nil || s.linkDead != nil || w.sessions[s.ID] != s || s.room.ID != "lounge" || len(w.linkDead) != 0 {
			t.Errorf("Alice is not playing again in the lounge")
		}
		if n := len(w.rooms["lounge"].Members); n != 2 {
			t.Errorf("the lounge has %d members, want 2", n)
		}
		if s.Player.Title != "the Patient" {
			t.Errorf("title %q after resuming", s.Player.Title)
		}
	})
	// Shown once: a second look at the screen a while later adds nothing.
	again.Quiet(300 * time.Millisecond)
	if n := strings.Count(again.Text(), "Bob says 'missed line 1'"); n != 1 {
		t.Errorf("missed line shown %d times in all", n)
	}
}

// TestLinkDeadWindowEnds: once the window passes without a login, the
// session ends as a lost connection always did: the room and everyone are
// told, the player is saved with the time last seen, and a later login is
// a fresh one.
func TestLinkDeadWindowEnds(t *testing.T) {
	ts := linkDeadServer(t, time.Second)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	dropped := time.Now()
	dropAndWait(t, alice, bob, "Alice")
	bob.Expect("Alice has left the talker.")
	bob.Expect("[ Alice has disconnected ]")
	if d := time.Since(dropped); d < 900*time.Millisecond || d > 4*time.Second {
		t.Errorf("the session ended %v after the drop, want about 1 s (the window, then a tick)", d)
	}
	ts.srv.Do(func(w *World) {
		if w.online["alice"] != nil || len(w.linkDead) != 0 || len(w.rooms["main"].Members) != 1 {
			t.Errorf("Alice still in the world after the window")
		}
		p, err := w.store.Player("Alice")
		if err != nil || p.LastSeen.Before(dropped) {
			t.Errorf("last seen not saved at the end: %v %v", p, err)
		}
	})
	again := ts.dial()
	got := again.Login("alice", "secret-Alice")
	if strings.Contains(got, "taken over") || !strings.Contains(got, "You were last here") {
		t.Errorf("a login after the window is not a fresh one:\n%s", got)
	}
}

// TestLinkDeadOff: with the window 0, a dropped connection ends the
// session at once, as before.
func TestLinkDeadOff(t *testing.T) {
	ts := linkDeadServer(t, 0)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	alice.Close()
	bob.Expect("Alice has left the talker.")
	if strings.Contains(bob.Text(), "lost their connection") {
		t.Errorf("link-dead with the window off:\n%s", bob.Text())
	}
}

// TestLinkDeadQuitIsNotKept: 'quit' ends the session at once even with a
// window.
func TestLinkDeadQuitIsNotKept(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	alice.Send("quit")
	bob.Expect("Alice has left the talker.")
	ts.srv.Do(func(w *World) {
		if w.online["alice"] != nil || len(w.linkDead) != 0 {
			t.Errorf("a player who quit is kept")
		}
	})
}

// TestLinkDeadMissedLinesBounded: past linkDeadLines lines, the oldest are
// dropped, and the player is told how many after the rest.
func TestLinkDeadMissedLinesBounded(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	dropAndWait(t, alice, bob, "Alice")
	const said = linkDeadLines + 10
	for i := 1; i <= said; i++ {
		bob.Send(fmt.Sprintf("say line %03d", i))
	}
	bob.Expect(fmt.Sprintf("You say 'line %03d'", said))
	again := ts.dial()
	again.Login("alice", "secret-Alice")
	again.Quiet(200 * time.Millisecond)
	text := again.Text()
	if strings.Contains(text, "'line 010'") || !strings.Contains(text, "'line 011'") || !strings.Contains(text, fmt.Sprintf("'line %03d'", said)) {
		t.Errorf("not the last %d lines kept:\n%s", linkDeadLines, text)
	}
	note := "(10 earlier lines were dropped)"
	if !strings.Contains(text, note) || strings.Index(text, note) < strings.Index(text, fmt.Sprintf("'line %03d'", said)) {
		t.Errorf("no %q after the lines:\n%s", note, text)
	}
}

// TestLinkDeadKeepBounds: the buffer's two bounds, lines and bytes.
func TestLinkDeadKeepBounds(t *testing.T) {
	var ld linkDead
	for i := 0; i < 250; i++ {
		ld.keep([]byte(fmt.Sprintf("line %d\r\n", i)))
	}
	if ld.lines != linkDeadLines || ld.dropped != 50 || string(ld.missed[0]) != "line 50\r\n" {
		t.Errorf("lines bound: %d kept, %d dropped, first %q", ld.lines, ld.dropped, ld.missed[0])
	}
	var big linkDead
	chunk := []byte(strings.Repeat("x", 1000) + "\r\n")
	for i := 0; i < 100; i++ {
		big.keep(chunk)
	}
	if big.size > linkDeadBytes || big.size+len(chunk) <= linkDeadBytes || big.dropped != 100-len(big.missed) {
		t.Errorf("bytes bound: %d bytes in %d chunks, %d dropped", big.size, len(big.missed), big.dropped)
	}
}

// TestResumeToken: a token issued to a playing session lets a new
// connection take it over without the password, once; a wrong or used
// token does nothing. It works whether the old connection has dropped or
// is still open (then closed).
func TestResumeToken(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	token := func() (tok string) {
		ts.srv.Do(func(w *World) { tok = w.resumeToken(w.online["alice"]) })
		return tok
	}
	// present offers tok from a new connection at the name prompt.
	present := func(tok string) (*talkertest.Client, bool) {
		c := ts.dial()
		c.Expect("enter your name: ")
		var ok bool
		ts.srv.Do(func(w *World) {
			var newest *Session // the connection just made
			for _, s := range w.sessions {
				if s.Player == nil && (newest == nil || s.ID > newest.ID) {
					newest = s
				}
			}
			ok = w.resumeByToken(newest, tok)
		})
		return c, ok
	}
	first := token()
	if second := token(); len(first) < 40 || second == first {
		t.Fatalf("tokens %q, %q: want long and new each time", first, second)
	}
	if _, ok := present(first); ok {
		t.Errorf("a token replaced by a newer one still works")
	}
	tok := token()
	dropAndWait(t, alice, bob, "Alice")
	bob.Send("say while you were gone")
	bob.Expect("You say 'while you were gone'")
	if _, ok := present(tok + "x"); ok {
		t.Errorf("a wrong token works")
	}
	back, ok := present(tok)
	if !ok {
		t.Fatalf("the token did not resume the link-dead session")
	}
	back.Expect("taken over your session")
	back.Expect("Bob says 'while you were gone'")
	bob.Expect("Alice has reconnected.")
	back.Send("say token worked")
	bob.Expect("Alice says 'token worked'")
	if _, ok := present(tok); ok {
		t.Errorf("a used token works again")
	}
	// With the old connection still open: taken over, the old one closed.
	live := token()
	other, ok := present(live)
	if !ok {
		t.Fatalf("the token did not take over a live session")
	}
	back.Expect("logged in from another connection")
	back.WaitClosed()
	other.Send("say from the other")
	bob.Expect("Alice says 'from the other'")
	ts.srv.Do(func(w *World) {
		if s := w.online["alice"]; s.resumeDigest != "" || !s.needsVersion7() == (s.resumeDigest != "") {
			t.Errorf("a used token is still kept")
		}
	})
}

// TestLinkDeadSnapshot: a snapshot with a link-dead session is version 7
// (an older build would drop it, so a reboot into one is refused) and
// carries it in the system state, with its missed lines, its deadline and
// no descriptor; with nobody link-dead it is not.
func TestLinkDeadSnapshot(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	alice := ts.newPlayer("Alice")
	bob := ts.newPlayer("Bob")
	alice.Expect("Bob arrives.")
	bob.Send("say ready") // nothing held from the login
	bob.Expect("You say 'ready'")
	snap, err := decodeSnapshot(takeSnapshot(t, ts))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version == state.Version {
		t.Errorf("nobody link-dead: version %d", snap.Version)
	}
	dropAndWait(t, alice, bob, "Alice")
	bob.Send("say while away")
	bob.Expect("You say 'while away'")
	snap, err = decodeSnapshot(takeSnapshot(t, ts))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != state.Version {
		t.Errorf("someone link-dead: version %d, want %d", snap.Version, state.Version)
	}
	if len(snap.Sessions) != 1 || len(snap.SessionFDs) != 1 {
		t.Errorf("%d records and %d descriptors, want Bob's alone", len(snap.Sessions), len(snap.SessionFDs))
	}
	sys := systemOf(t, snap)
	if len(sys.LinkDead) != 1 {
		t.Fatalf("%d link-dead sessions carried, want 1", len(sys.LinkDead))
	}
	ld := sys.LinkDead[0]
	if ld.Session.Player == nil || ld.Session.Player.Name != "Alice" || ld.Session.FD != -1 ||
		time.Until(ld.Until) < 50*time.Second || !strings.Contains(string(ld.Missed[len(ld.Missed)-1]), "Bob says 'while away'") {
		t.Errorf("carried link-dead session: %+v", ld)
	}
}

// TestLinkDeadKicked: staff can end a link-dead session; the player is
// logged out once, and the session is gone for good.
func TestLinkDeadKicked(t *testing.T) {
	ts := linkDeadServer(t, time.Minute)
	boss := ts.account("Boss", player.Admin)
	alice := ts.newPlayer("Alice")
	boss.Expect("Alice arrives.")
	dropAndWait(t, alice, boss, "Alice")
	boss.Send("kick alice")
	boss.Expect("Alice has left the talker.")
	boss.Expect("You have kicked Alice off the talker.")
	ts.srv.Do(func(w *World) {
		if w.online["alice"] != nil || len(w.linkDead) != 0 {
			t.Errorf("a kicked link-dead session is still there")
		}
		w.tick(w.cfg.Now().Add(2 * time.Minute)) // past the window: nothing more
	})
	boss.Quiet(200 * time.Millisecond)
	if n := strings.Count(boss.Text(), "Alice has left the talker."); n != 1 {
		t.Errorf("departure told %d times", n)
	}
}

// TestLinkDeadQuietInACrowd: in a room of more than Config.AnnounceAll
// people, a connection lost and a session resumed are not announced, as
// comings and goings are not (a crowd dropping at once would cost N²
// lines); in a smaller room they are (dropAndWait, above).
func TestLinkDeadQuietInACrowd(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.LinkDead = time.Minute
		c.Limits.LineRate = 0
		c.AnnounceAll = 2
	})
	amy := ts.newPlayer("Amy")
	ben := ts.newPlayer("Ben")
	cat := ts.newPlayer("Cat")
	cat.Close()
	for dead := 0; dead == 0; time.Sleep(5 * time.Millisecond) {
		ts.srv.world.do(func(w *World) { dead = len(w.linkDead) })
	}
	again := ts.dial()
	if got := again.Login("cat", "secret-Cat"); !strings.Contains(got, "taken over your session") {
		t.Fatalf("not a resumed session:\n%s", got)
	}
	ben.Send("say marker")
	got := amy.Expect("marker")
	for _, not := range []string{"has lost their connection", "has reconnected"} {
		if strings.Contains(got, not) {
			t.Errorf("announced in a room of 3 with AnnounceAll 2: %q in\n%s", not, got)
		}
	}
}

// TestMassDropSendsTheSystemStateOnce: when a crowd drops at once, the
// system state (which lists every link-dead session) goes to the angel
// at once only once per systemNowEvery, the rest with the next checkpoint
// tick; and at shutdown once after the last link-dead session ends, not
// once each. Once per drop took the world 6 s for 1,000 players, and a
// shutdown after them 5.7 s more.
func TestMassDropSendsTheSystemStateOnce(t *testing.T) {
	frozen := time.Now()
	ts := startServer(t, func(c *Config) {
		c.LinkDead = time.Minute
		c.Limits.LineRate = 0
		c.Now = func() time.Time { return frozen } // one burst: no systemNowEvery passes
	})
	const n = 30
	var players []*talkertest.Client
	for i := range n {
		players = append(players, ts.newPlayer(fmt.Sprintf("Crowd%c%c", 'a'+i/26, 'a'+i%26)))
	}
	h := &countingHolder{}
	ts.srv.SetHolder(h)
	before := h.checkpoints.Load()
	for _, p := range players {
		p.Close()
	}
	for dead := 0; dead < n; time.Sleep(5 * time.Millisecond) {
		ts.srv.world.do(func(w *World) { dead = len(w.linkDead) })
	}
	// One at once, and at most a few checkpoint ticks (200 ms) meanwhile.
	if sent := h.checkpoints.Load() - before; sent > 5 {
		t.Errorf("%d players dropping sent the angel %d checkpoints, want one at once and the ticks'", n, sent)
	}
	before = h.checkpoints.Load()
	ts.srv.world.do(func(w *World) { w.endAllLinkDead(closeShutdown) })
	if sent := h.checkpoints.Load() - before; sent != 1 {
		t.Errorf("ending %d link-dead sessions sent %d checkpoints, want 1", n, sent)
	}
}
