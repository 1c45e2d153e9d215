package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
	"talker/state"
)

// loginSized logs an account in (created with the given rank) from a
// client whose window is h lines high.
func (ts *testServer) loginSized(name string, rank player.Rank, h int) *talkertest.Client {
	ts.t.Helper()
	if _, err := CreateAccount(&ts.cfg, ts.srv.Store(), name, "secret-"+name, rank); err != nil {
		ts.t.Fatalf("create %s: %v", name, err)
	}
	c := ts.dial(talkertest.Options{Width: 200, Height: h})
	c.Login(name, "secret-"+name)
	return c
}

const morePrompt = "[Return] next, [b]ack, [t]op, [q]uit -- "

// pageLines is the text of one page: the lines before the more prompt.
func pageLines(t *testing.T, got string) []string {
	t.Helper()
	got = strings.TrimSuffix(got, morePrompt)
	i := strings.LastIndex(got, "-- more (")
	if i < 0 {
		t.Fatalf("no more prompt in %q", got)
	}
	return strings.Split(strings.Trim(got[:i], "\n"), "\n")
}

// TestPagerKeys: 'help' (longer than the window) comes a page at a time;
// Return, b, t and q do what the prompt says; another player's line is
// shown at once, in the middle of it; any other command leaves the pager
// and runs; short output is not paged; 'pager' sets the length or turns
// it off.
func TestPagerKeys(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.loginSized("Alice", player.Resident, 12)
	bob := ts.account("Bob", player.Resident)
	alice.Quiet(200 * time.Millisecond)

	alice.Send("help")
	first := pageLines(t, alice.Expect(morePrompt))
	if len(first) != 11 || !strings.HasPrefix(first[0], "Commands (type 'help <command>'") {
		t.Fatalf("first page (%d lines, want 11 for a window of 12):\n%s", len(first), strings.Join(first, "\n"))
	}
	if got := alice.Quiet(200 * time.Millisecond); got != "" {
		t.Fatalf("more than a page was sent: %q", got)
	}
	alice.Send("")
	second := pageLines(t, alice.Expect(morePrompt))
	if len(second) != 11 || second[0] == first[0] {
		t.Fatalf("second page:\n%s", strings.Join(second, "\n"))
	}
	// Someone else's line is not held back by the pager: it comes at
	// once, on a line of its own, and the prompt again below it.
	bob.Send("say hello Alice")
	if got := alice.Expect("Bob says 'hello Alice'"); got != "\nBob says 'hello Alice'" {
		t.Errorf("another's line in the pager: %q", got)
	}
	if got := alice.Expect(morePrompt); !strings.HasPrefix(got, "\n-- more (") {
		t.Errorf("the prompt after another's line: %q", got)
	}
	alice.Send("b")
	if back := pageLines(t, alice.Expect(morePrompt)); strings.Join(back, "\n") != strings.Join(first, "\n") {
		t.Errorf("b did not go back to the first page:\n%s", strings.Join(back, "\n"))
	}
	alice.Send(" ")
	alice.Expect(second[10])
	alice.Expect(morePrompt)
	alice.Send("")
	alice.Expect(morePrompt)
	alice.Send("t")
	if top := pageLines(t, alice.Expect(morePrompt)); top[0] != first[0] {
		t.Errorf("t did not go to the top: %q", top[0])
	}
	alice.Send("q")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "Commands") || strings.Contains(got, "more") {
		t.Errorf("q showed more: %q", got)
	}
	alice.Send("say after the pager")
	alice.Expect("You say 'after the pager'")

	// Paging to the end leaves the pager.
	alice.Send("help")
	got := alice.Expect(morePrompt)
	for !strings.Contains(got, "title ") {
		alice.Send("")
		got = alice.Expect("\n")
		got += alice.Quiet(100 * time.Millisecond)
	}
	alice.Send("say done reading")
	alice.Expect("You say 'done reading'")

	// A command at the more prompt leaves the pager and runs.
	alice.Send("help")
	alice.Expect(morePrompt)
	alice.Send("say in the middle")
	alice.Expect("You say 'in the middle'")
	bob.Expect("Alice says 'in the middle'")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "more (") {
		t.Errorf("still paging after a command: %q", got)
	}

	// Short output is not paged.
	alice.Send("help say")
	alice.Expect("Usage: say")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "more (") {
		t.Errorf("short output paged: %q", got)
	}

	// The setting.
	alice.Send("pager 30")
	alice.Expect("Your pages are now 30 lines long.")
	alice.Send("help")
	if page := pageLines(t, alice.Expect(morePrompt)); len(page) != 30 {
		t.Errorf("a page of %d lines with 'pager 30'", len(page))
	}
	alice.Send("q")
	alice.Send("pager 2")
	alice.Expect("Usage: pager")
	alice.Send("pager off")
	alice.Expect("Your pager is off.")
	alice.Send("help")
	alice.Expect("title ")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "more (") {
		t.Errorf("paged with the pager off: %q", got)
	}
	alice.Send("pager")
	alice.Expect("Your pager is off")
	if p, _ := ts.srv.Store().Player("alice"); p == nil || p.Pager != -1 {
		t.Errorf("the setting was not saved: %+v", p)
	}
	alice.Send("pager auto")
	alice.Expect("Your pages follow your window's height.")
}

// TestEditorMailAndDescription: 'mail send <name>' alone and
// 'description' alone open the editor; its dot commands list, delete the
// last line, help, abandon and finish; the mail arrives whole, the
// description is set, and a text is bounded.
func TestEditorMailAndDescription(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)

	alice.Send("mail send bob")
	alice.Expect("Writing mail to Bob")
	alice.Expect(editorPrompt)
	for _, l := range []string{"Dear Bob,", "", "say this is not a command", "a line to delete"} {
		alice.Send(l)
		alice.Expect(editorPrompt)
	}
	alice.Send(".d")
	alice.Expect("Deleted line 4: a line to delete")
	alice.Send("the cake is ^Rnot^N a lie.")
	alice.Send(".frob")
	alice.Expect("'.frob' is not an editor command")
	alice.Send(".h")
	alice.Expect("A line with only '.' finishes")
	alice.Send(".l")
	listed := alice.Expect("4:  the cake is not a lie.")
	if !strings.Contains(listed, "1:  Dear Bob,") {
		t.Errorf("listing: %q", listed)
	}
	if got := bob.Quiet(200 * time.Millisecond); strings.Contains(got, "Alice says") {
		t.Errorf("a line typed in the editor ran as a command: %q", got)
	}
	// Another's line comes at once, with the editor's prompt again below.
	bob.Send("say still writing")
	if got := alice.Expect("Bob says 'still writing'\n" + editorPrompt); !strings.HasSuffix(got, "] \nBob says 'still writing'\n] ") {
		t.Errorf("another's line in the editor: %q", got)
	}
	alice.Send(".")
	alice.Expect("Mail sent to Bob.")
	bob.Expect("*** You have new mail from Alice.")
	bob.Send("mail")
	bob.Expect("Dear Bob, /  / say this is")
	bob.Send("mail read 1")
	got := bob.Expect("the cake is not a lie.")
	if !strings.Contains(got, "Dear Bob,\n\nsay this is not a command\nthe cake is not a lie.") {
		t.Errorf("the mail read back: %q", got)
	}

	// Abandoned, and empty.
	alice.Send("mail send bob")
	alice.Expect("Writing mail")
	alice.Send("never sent")
	alice.Send(".abort")
	alice.Expect("Abandoned: nothing was sent.")
	alice.Send("mail send bob")
	alice.Send(".")
	alice.Expect("Your mail was empty: nothing was sent.")
	if n, _, _ := ts.srv.Store().CountMail("bob"); n != 1 {
		t.Errorf("%d mails in Bob's box, want 1", n)
	}

	// The description, and the bound.
	alice.Send("desc")
	alice.Expect("Writing your description (up to 20 lines")
	for i := 1; i <= maxDescLines; i++ {
		alice.Send("line " + itoa(i))
	}
	alice.Send("one too many")
	alice.Expect("The text is full (20 lines")
	alice.Send(".")
	alice.Expect("Your description is now:")
	bob.Send("examine alice")
	got = bob.Expect("line 20")
	if !strings.Contains(got, "line 1\nline 2\n") || strings.Contains(got, "one too many") {
		t.Errorf("examine: %q", got)
	}
	alice.Send("desc edit")
	alice.Expect("Your description now:")
	alice.Send("replaced")
	alice.Send(".q")
	alice.Expect("Abandoned: nothing was changed.")
	if p, _ := ts.srv.Store().Player("alice"); p == nil || !strings.HasPrefix(p.Description, "line 1\nline 2") {
		t.Errorf("the description saved: %+v", p)
	}
	alice.Send("desc A tall person.")
	alice.Expect("Your description is now: A tall person.")
}

// TestPagerAndEditorInTheRecord: the checkpoint record of a player in the
// pager or the editor carries the page and the lines typed, and a session
// restored from it is where the player was.
func TestPagerAndEditorInTheRecord(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.loginSized("Alice", player.Resident, 12)
	ts.account("Bob", player.Resident)
	alice.Send("help")
	alice.Expect(morePrompt)
	alice.Send("")
	alice.Expect(morePrompt)
	var pager *Pager
	ts.srv.Do(func(w *World) {
		r := w.online["alice"].checkpointRecord()
		pager = restoredSession(&r).Pager
	})
	if pager == nil || pager.Top != 11 || !strings.HasPrefix(pager.Lines[0], "Commands") {
		t.Fatalf("the record's pager: %+v", pager)
	}
	alice.Send("q")
	alice.Send("mail send bob")
	alice.Send("first line")
	alice.Send("second line")
	alice.Send(".l")
	alice.Expect("2:  second line")
	var ed *Editor
	ts.srv.Do(func(w *World) {
		r := w.online["alice"].checkpointRecord()
		ed = restoredSession(&r).Editor
	})
	if ed == nil || ed.Target != editMail || ed.To != "Bob" || strings.Join(ed.Lines, "|") != "first line|second line" {
		t.Fatalf("the record's editor: %+v", ed)
	}
}

// TestSnapshotVersionWithPagerOrEditor: a reboot's state is version 6
// while anyone is in the pager or the editor (a build before it would run
// the lines of a mail as commands, so it must refuse the state), and
// still version 3, which the previous release reads, once nobody is.
func TestSnapshotVersionWithPagerOrEditor(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits.LineRate = 0 })
	alice := ts.loginSized("Alice", player.Resident, 12)
	bob := ts.account("Bob", player.Resident)
	for _, c := range []*talkertest.Client{alice, bob} { // nothing held from the logins
		c.Send("say ready")
		c.Expect("You say 'ready'")
	}
	version := func() int {
		t.Helper()
		snap, err := decodeSnapshot(takeSnapshot(t, ts))
		if err != nil {
			t.Fatal(err)
		}
		return snap.Version
	}
	if v := version(); v != state.VersionCBOR {
		t.Fatalf("nobody in the pager or the editor: version %d", v)
	}
	alice.Send("help")
	alice.Expect(morePrompt)
	if v := version(); v != state.VersionTexts {
		t.Errorf("someone in the pager: version %d, want %d", v, state.VersionTexts)
	}
	alice.Send("mail send bob") // leaves the pager, opens the editor
	alice.Expect("Writing mail to Bob")
	if v := version(); v != state.VersionTexts {
		t.Errorf("someone in the editor: version %d, want %d", v, state.VersionTexts)
	}
	alice.Send(".q")
	alice.Expect("Abandoned")
	if v := version(); v != state.VersionCBOR {
		t.Errorf("nobody in either any more: version %d", v)
	}
}
