package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/reboot"
	"talker/server/store"
	"talker/state"

	"golang.org/x/sys/unix"
)

// Tests of channels, news, socials, aliases, converse mode and repeat
// (cmd_channels.go, cmd_news.go, socials.go, aliases.go, converse.go),
// with real TCP clients.

func noRate(c *Config) { c.Limits.LineRate = 0 }

func TestChannelsJoinTalkLeaveAndHistory(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	carol := ts.account("Carol", player.Resident)

	alice.Send("channel")
	alice.Expect("You are on no channels.")
	alice.Send("channel list")
	alice.Expect("There are no channels yet.")
	alice.Send("ch gossip hello")
	alice.Expect("You are not on the 'gossip' channel: 'channel join gossip' joins it.")
	alice.Send("channel join Gossip")
	alice.Expect("You join the 'gossip' channel.")
	bob.Send("channel join gossip")
	bob.Expect("You join the 'gossip' channel.")
	alice.Expect("[gossip] Bob joins the channel.")
	for _, bad := range []string{"channel join list", "channel join x", "channel join go$$ip", "channel join staff"} {
		alice.Send(bad)
	}
	alice.Expect("a channel cannot be called that")
	alice.Expect("2 to 12 letters and digits")
	alice.Expect("2 to 12 letters and digits")
	alice.Expect("The staff channel is every member of staff")

	alice.Send("ch gossip hello all")
	alice.Expect("[gossip] You say 'hello all'")
	bob.Expect("[gossip] Alice says 'hello all'")
	bob.Send("chan gossip :waves")
	bob.Expect("[gossip] Bob waves")
	alice.Expect("[gossip] Bob waves")
	bob.Send("channel gossip anyone there?")
	alice.Expect("[gossip] Bob asks 'anyone there?'")
	if got := carol.Quiet(200 * time.Millisecond); strings.Contains(got, "gossip") {
		t.Errorf("a non-member heard the channel: %q", got)
	}
	carol.Send("channel history gossip")
	carol.Expect("only its members see its history")
	carol.Send("channel who gossip")
	carol.Expect("On the 'gossip' channel and here: Alice, Bob.")
	carol.Send("channel list")
	carol.Expect("  gossip       2 members, 2 here now")

	// Ignoring someone's shouts covers their channel lines, and their
	// history; earmuffs do not (a channel is joined, not imposed).
	alice.Send("ignore bob shouts")
	alice.Expect("You are now ignoring")
	alice.Send("earmuffs on")
	alice.Expect("Your earmuffs are on.")
	bob.Send("ch gossip you will not hear this")
	bob.Expect("[gossip] You say 'you will not hear this'")
	carol.Send("channel join gossip")
	carol.Expect("You join")
	carol.Send("ch gossip from carol")
	alice.Expect("[gossip] Carol says 'from carol'")
	alice.Send("channel history gossip")
	hist := alice.Expect("Carol says 'from carol'")
	if strings.Contains(hist, "will not hear") || strings.Contains(hist, "Bob waves") {
		t.Errorf("history shows an ignored player's lines: %q", hist)
	}
	if !strings.Contains(hist, "[gossip] Alice says 'hello all'") {
		t.Errorf("history lacks the first line: %q", hist)
	}
	alice.Send("unignore bob")
	alice.Expect("You are no longer ignoring Bob.")

	// A gagged member cannot talk on a channel, but can still use it.
	boss := ts.account("Boss", player.Admin)
	boss.Send("gag bob")
	boss.Expect("Bob is gagged.")
	bob.Send("ch gossip gagged?")
	bob.Expect("You have been gagged")
	bob.Send("channel list")
	bob.Expect("* gossip")
	boss.Send("ungag bob")
	boss.Expect("Bob is no longer gagged.")

	// Leaving; the last to leave takes the history with the channel.
	bob.Send("channel leave gossip")
	bob.Expect("You leave the 'gossip' channel.")
	alice.Expect("[gossip] Bob leaves the channel.")
	if p := ts.player(t, "Bob"); len(p.Channels) != 0 {
		t.Errorf("Bob's stored channels after leaving: %v", p.Channels)
	}
	if p := ts.player(t, "Alice"); len(p.Channels) != 1 || p.Channels[0] != "gossip" {
		t.Errorf("Alice's stored channels: %v", p.Channels)
	}
	alice.Send("channel leave gossip")
	alice.Expect("You leave")
	carol.Send("channel leave gossip")
	carol.Expect("You leave")
	alice.Send("channel join gossip")
	alice.Expect("You join")
	alice.Send("channel history gossip")
	alice.Expect("Nothing has been said on the 'gossip' channel yet.")
}

func TestChannelHistoryIsBounded(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	alice.Send("channel join chat")
	alice.Expect("You join")
	for i := 0; i < channelHistory+5; i++ {
		alice.Send("ch chat line " + itoa(i))
		alice.Expect("[chat] You say 'line " + itoa(i) + "'")
	}
	lines, err := ts.srv.Store().ChannelHistory("chat")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != channelHistory || lines[0].Text != "Alice says 'line 5'" {
		t.Errorf("history kept %d lines, first %+v; want %d from line 5", len(lines), lines[0], channelHistory)
	}
	for i := 0; i < maxPlayerChannels-1; i++ {
		alice.Send("channel join extra" + itoa(i))
		alice.Expect("You join")
	}
	alice.Send("channel join onetoomany")
	alice.Expect("the most you can be on")
}

func TestStaffChannel(t *testing.T) {
	ts := startServer(t, noRate)
	sue := ts.account("Sue", player.Staff)
	boss := ts.account("Boss", player.Admin)
	newt := ts.newPlayer("Newt")

	newt.Send("su hello")
	newt.Expect("Unknown command 'su'")
	newt.Send("ch staff hello")
	newt.Expect("You are not on the 'staff' channel")
	sue.Send("su anyone about?")
	sue.Expect("[staff] You ask 'anyone about?'")
	boss.Expect("[staff] Sue asks 'anyone about?'")
	boss.Send("se nods")
	sue.Expect("[staff] Boss nods")
	boss.Send("st lunch")
	sue.Expect("[staff] Boss thinks . o O ( lunch )")
	sue.Send("ch staff via channel")
	boss.Expect("[staff] Sue says 'via channel'")
	if got := newt.Quiet(200 * time.Millisecond); strings.Contains(got, "[staff]") {
		t.Errorf("a newbie heard the staff channel: %q", got)
	}
	sue.Send("su")
	sue.Expect("The last lines on the 'staff' channel:")
	sue.Expect("[staff] Boss thinks . o O ( lunch )")
	sue.Send("channel list")
	sue.Expect("* staff        every member of staff, 2 here now")
	sue.Send("channel leave staff")
	sue.Expect("nobody leaves it")
	sue.Send("help su")
	sue.Expect("(For staff and above.)")
}

func TestNewsBoard(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	newt := ts.newPlayer("Newt")
	sue := ts.account("Sue", player.Staff)

	alice.Send("news")
	alice.Expect("There is no news.")
	newt.Send("news post hello")
	newt.Expect("Only residents and above can post news.")
	alice.Send("news post")
	alice.Expect("Give the post a subject")
	alice.Send("news post Party on Friday")
	alice.Expect("Writing news: Party on Friday")
	alice.Send("Bring cake.")
	alice.Send("And tea.")
	alice.Send(".")
	alice.Expect("Posted as news 1.")
	bob.Expect("There is news: Party on Friday (from Alice). 'news read 1' reads it.")
	alice.Send("news")
	alice.Expect(" 1    Party on Friday (Alice,")
	alice.Expect("1 post, 0 new.")
	bob.Send("news")
	bob.Expect("*1    Party on Friday (Alice,")
	bob.Expect("1 post, 1 new.")
	bob.Send("news read")
	got := bob.Expect("And tea.")
	if !strings.Contains(got, "News 1: Party on Friday") || !strings.Contains(got, "Bring cake.\nAnd tea.") {
		t.Errorf("news read: %q", got)
	}
	bob.Send("news read")
	bob.Expect("You have read all the news.")
	bob.Send("news 7")
	bob.Expect("There is no news post 7.")

	// Unread at login.
	bob.Send("news post second")
	bob.Send("text")
	bob.Send(".")
	bob.Expect("Posted as news 2.")
	zed := ts.account("Zed", player.Resident) // a first login (a closed connection's comes back link-dead, no login)
	zed.Expect("There are 2 news posts you have not read.")

	// An abandoned post posts nothing; an empty one neither.
	alice.Send("news post never")
	alice.Send("draft")
	alice.Send(".q")
	alice.Expect("Abandoned: nothing was sent.")
	alice.Send("news post empty")
	alice.Send(".")
	alice.Expect("Your post was empty: nothing was posted.")

	// Removing: the author or staff.
	alice.Send("news delete 2")
	alice.Expect("Only its author and staff can remove a news post.")
	bob.Send("news delete 2")
	bob.Expect("News post 2 removed.")
	sue.Send("news delete 1")
	sue.Expect("News post 1 removed.")
	sue.Send("stafflog 1")
	sue.Expect("Sue news delete Alice")
	alice.Send("news")
	alice.Expect("There is no news.")
}

func TestNewsIsBounded(t *testing.T) {
	ts := startServer(t)
	st := ts.srv.Store()
	for i := 0; i < maxNews+3; i++ {
		if err := st.PostNews(newsItem(i), maxNews); err != nil {
			t.Fatal(err)
		}
	}
	items, err := st.News("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != maxNews || items[0].Subject != "post 3" {
		t.Errorf("%d items kept, first %q; want %d from post 3", len(items), items[0].Subject, maxNews)
	}
}

func TestSocials(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	carol := ts.account("Carol", player.Resident)
	dave := ts.account("Dave", player.Resident)
	dave.Send("home")
	dave.Expect("(dave.home)")
	carol.Expect("Dave goes home.")

	alice.Send("smile")
	alice.Expect("You smile happily.")
	bob.Expect("Alice smiles happily.")
	alice.Send("hug bob")
	alice.Expect("You hug Bob.")
	bob.Expect("Alice hugs you.")
	carol.Expect("Alice hugs Bob.")
	alice.Send("blush carol")
	carol.Expect("Alice blushes at you.")
	alice.Send("sob bob")
	bob.Expect("Alice sobs on your shoulder.")
	carol.Expect("Alice sobs on Bob's shoulder.")
	alice.Send("wave dave")
	alice.Expect("From afar, you wave at Dave.")
	dave.Expect("From afar, Alice waves at you.")
	if got := carol.Quiet(200 * time.Millisecond); strings.Contains(got, "Dave") {
		t.Errorf("the room saw a remote social: %q", got)
	}
	dave.Send("reply hi")
	alice.Expect("Dave tells you 'hi'")
	alice.Send("wave zed")
	alice.Expect("Nobody called 'zed' is logged in.")

	// Whole names only: 'sm' is not 'smile'.
	alice.Send("sm")
	if got := alice.Quiet(200 * time.Millisecond); strings.Contains(got, "You smile") {
		t.Errorf("a social ran from a beginning of its name: %q", got)
	}
	alice.Send("socials")
	alice.Expect("Socials (")
	alice.Send("help hug")
	alice.Expect("Alice hugs Bob.")

	// Ignoring and gag, as for emotes and remotes.
	dave.Send("ignore alice tells")
	dave.Expect("You are now ignoring")
	alice.Send("poke dave")
	alice.Expect("Dave is ignoring you.")
	ts.account("Boss", player.Admin).Send("gag alice")
	alice.Expect("gagged")
	alice.Send("smile")
	alice.Expect("You have been gagged")
}

func TestSocialNamesAreNotCommands(t *testing.T) {
	words := map[string]string{}
	for _, c := range allCommands() {
		if c.exact {
			continue
		}
		for _, w := range append([]string{c.name}, c.aliases...) {
			words[w] = c.name
		}
	}
	for _, so := range socialTable() {
		if c, ok := words[so.name]; ok {
			t.Errorf("social %q has the name of the command %q", so.name, c)
		}
		for _, tmpl := range []string{so.alone, so.at} {
			if !strings.HasPrefix(tmpl, "{A} ") || !strings.HasSuffix(tmpl, ".") {
				t.Errorf("social %q: template %q does not start with the actor and end a sentence", so.name, tmpl)
			}
		}
		if !strings.Contains(so.at, "{T") {
			t.Errorf("social %q: its targeted form does not name the target", so.name)
		}
	}
}

func TestAliases(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)

	alice.Send("alias")
	alice.Expect("You have no aliases.")
	alice.Send("alias gm = say good morning $*")
	alice.Expect("Alias set: gm = say good morning $*")
	alice.Send("gm all")
	bob.Expect("Alice says 'good morning all'")
	alice.Send("alias t2 tell $2 $1 (and $$5)")
	alice.Expect("Alias set")
	alice.Send("t2 hello bob")
	bob.Expect("Alice tells you 'hello (and $5)'")
	alice.Send("alias hi say hi")
	alice.Expect("Alias set")
	alice.Send("hi there")
	bob.Expect("Alice says 'hi there'")
	// No loops: an alias's expansion is not expanded again.
	alice.Send("alias loop = loop again")
	alice.Expect("Alias set")
	alice.Send("loop")
	alice.Expect("Unknown command 'loop'")
	// A command's own name cannot be an alias; nor odd characters.
	alice.Send("alias say = shout hi")
	alice.Expect("'say' is a command; an alias cannot take its place.")
	alice.Send("alias smile = grin")
	alice.Expect("'smile' is a command")
	alice.Send("alias a-b = say x")
	alice.Expect("letters and digits")
	alice.Send("alias long = say " + strings.Repeat("x", maxAliasExpansion))
	alice.Expect("That is too long")
	alice.Send("alias")
	alice.Expect("Your aliases (4 of 30):")
	alice.Expect("gm           = say good morning $*")
	alice.Send("alias gm")
	alice.Expect("gm = say good morning $*")
	if p := ts.player(t, "Alice"); p.Aliases["gm"] != "say good morning $*" || len(p.Aliases) != 4 {
		t.Errorf("stored aliases: %v", p.Aliases)
	}
	alice.Send("unalias gm")
	alice.Expect("Alias 'gm' removed.")
	alice.Send("gm")
	alice.Expect("Unknown command 'gm'")
	alice.Send("unalias gm")
	alice.Expect("You have no alias 'gm'.")
	if p := ts.player(t, "Alice"); len(p.Aliases) != 3 {
		t.Errorf("stored aliases after unalias: %v", p.Aliases)
	}
	for i := len(ts.player(t, "Alice").Aliases); i < maxAliases; i++ {
		alice.Send("alias x" + itoa(i) + " = look")
		alice.Expect("Alias set")
	}
	alice.Send("alias onemore = look")
	alice.Expect("the most you can have")
}

func TestSubstituteAlias(t *testing.T) {
	for _, c := range []struct{ exp, rest, want string }{
		{"say hi", "", "say hi"},
		{"say hi", "there", "say hi there"},
		{"tell $1 $2", "bob hi there", "tell bob hi"},
		{"tell $1 $*", "bob hi", "tell bob bob hi"},
		{"say $9$", "a", "say $"},
		{"say 100$$", "x", "say 100$ x"},
		{"say $x", "", "say $x"},
	} {
		if got := substituteAlias(c.exp, c.rest); got != c.want {
			t.Errorf("substituteAlias(%q, %q) = %q, want %q", c.exp, c.rest, got, c.want)
		}
	}
	if got := substituteAlias("$*$*$*$*$*$*$*$*$*$*$*$*", strings.Repeat("y", 1000)); len(got) > maxExpandedCommand {
		t.Errorf("an expansion of %d bytes, past the bound %d", len(got), maxExpandedCommand)
	}
}

func TestConverseAndRepeat(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)

	alice.Send(".")
	alice.Expect("There is no command to repeat yet.")
	alice.Send("wave")
	bob.Expect("Alice waves.")
	alice.Send(".")
	bob.Expect("Alice waves.")
	alice.Send("repeat")
	bob.Expect("Alice waves.")

	alice.Send("converse")
	alice.Expect("Converse mode on")
	alice.Expect(conversePrompt)
	alice.Send("hello there")
	bob.Expect("Alice says 'hello there'")
	alice.Expect(conversePrompt)
	alice.Send("/tell bob psst")
	bob.Expect("Alice tells you 'psst'")
	alice.Send(".emote grins")
	bob.Expect("Alice grins")
	alice.Send(".")
	bob.Expect("Alice grins")
	alice.Send("/converse")
	alice.Expect("Converse mode off")
	alice.Send("not said")
	alice.Expect("Unknown command 'not'")
	if got := bob.Quiet(200 * time.Millisecond); strings.Contains(got, "not said") {
		t.Errorf("a line was said after converse mode ended: %q", got)
	}
	// Gagged players cannot talk by conversing either.
	alice.Send("converse on")
	ts.account("Boss", player.Admin).Send("gag alice")
	alice.Expect("gagged")
	alice.Send("sneaky")
	alice.Expect("You have been gagged")
}

// TestCommunityStateCarriedAcrossReboot: channel membership, an alias,
// converse mode, the last command and a news post half written are in a
// reboot's state and in a world rebuilt from it, which still acts on them;
// and the state is version 7 while anyone carries them.
func TestCommunityStateCarriedAcrossReboot(t *testing.T) {
	ts := startServer(t, noRate)
	alice := ts.account("Alice", player.Resident)
	bob := ts.account("Bob", player.Resident)
	for _, c := range []*struct {
		line, want string
	}{{"channel join gossip", "You join"}, {"alias gm = say good morning $*", "Alias set"}, {"wave", "You wave."}} {
		alice.Send(c.line)
		alice.Expect(c.want)
	}
	bob.Send("converse")
	bob.Expect("Converse mode on")
	alice.Send("news post Carried")
	alice.Expect("Writing news: Carried")
	alice.Send("first line")
	alice.Send(".l")
	alice.Expect("1:  first line")

	s := ts.srv
	s.pauseAccept()
	done := make(chan struct{})
	s.world.do(func(w *World) { w.startQuiesce(done, true) })
	<-done
	var stateBytes []byte
	var fds []int
	var err error
	s.world.do(func(w *World) {
		stateBytes, fds, err = w.snapshot(reboot.ModeReboot, &RebootTimings{Mode: reboot.ModeReboot, At: time.Now()}, nil, 0)
		for i, fd := range fds {
			fds[i], _ = unix.Dup(fd)
		}
	})
	s.resume()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := decodeSnapshot(stateBytes)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != state.Version {
		t.Errorf("state version %d, want %d (version 7 state carried)", snap.Version, state.Version)
	}
	r, err := Restore(ts.cfg, reboot.Header{Mode: reboot.ModeReboot, Started: time.Now()}, stateBytes, NewPrepared(ts.cfg.Limits, Faults{}), fds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Abandon()
	w := r.world
	a, b := w.online["alice"], w.online["bob"]
	if a == nil || b == nil {
		t.Fatal("sessions not restored")
	}
	if got := a.Player.Channels; len(got) != 1 || got[0] != "gossip" {
		t.Errorf("restored channels: %v", got)
	}
	if got := a.Player.Aliases["gm"]; got != "say good morning $*" {
		t.Errorf("restored alias: %q", got)
	}
	if a.LastCommand != "news post Carried" {
		t.Errorf("restored last command: %q", a.LastCommand)
	}
	if e := a.Editor; e == nil || e.Target != editNews || e.To != "Carried" || strings.Join(e.Lines, "|") != "first line" {
		t.Errorf("restored news post: %+v", e)
	}
	if !b.Converse {
		t.Error("restored Bob is not in converse mode")
	}
	// The rebuilt world acts on it: the alias expands, converse says.
	if got, ok := w.commandLine(a, "gm all"); !ok || got != "say good morning all" {
		t.Errorf("restored alias expands to %q", got)
	}
	if got, ok := w.commandLine(b, "still here"); !ok || got != "say still here" {
		t.Errorf("restored converse mode gives %q", got)
	}

	// Once nobody carries any of it, the state is what older builds read.
	alice.Send(".q")
	alice.Expect("Abandoned")
	alice.Send("channel leave gossip")
	alice.Expect("You leave")
	alice.Send("unalias gm")
	alice.Expect("Alias 'gm' removed.")
	bob.Send("/converse off")
	bob.Expect("Converse mode off")
	alice.Send("say done")
	alice.Expect("You say 'done'")
	if snap, err := decodeSnapshot(takeSnapshot(t, ts)); err != nil || snap.Version == state.Version {
		t.Errorf("nothing of version 7 carried: version %d (%v)", snap.Version, err)
	}
}

func newsItem(i int) *store.NewsItem {
	return &store.NewsItem{Author: "Alice", PostedAt: time.Now(), Subject: "post " + itoa(i), Body: "body"}
}
