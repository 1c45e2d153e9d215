package server

import (
	"time"

	"talker/player"
	"talker/reboot"
	"talker/server/conn"
	"talker/server/telnet"
	"talker/state"
)

// The wire fixture: domain values with every field that a reboot or a
// checkpoint carries set to something other than its zero value. The files
// in testdata/wire were written from it by the build before the state
// format got its own package (95e11d8), so that the tests can check that
// today's encoder still writes exactly those bytes: a renamed field in
// player, telnet, conn or here cannot change the format unnoticed.

var fixtureTime = time.Date(2026, 12, 4, 17, 30, 15, 123456789, time.UTC)

func fixturePlayer() *player.Player {
	t := fixtureTime
	return &player.Player{
		Name: "Alice", PasswordHash: "$2a$04$abcdefghijklmnopqrstuv", Rank: player.Staff, Title: "the Golden",
		Description: "A golden fixture.", Room: "lounge", Home: "alice.home", CreatedAt: t.Add(-48 * time.Hour),
		LastSeen: t.Add(-time.Hour), LastAddress: "127.0.0.9", Logins: 17, TimeOnline: 90 * time.Minute,
		Colour: true, Prompt: true, PromptText: "> ", Timestamps: true, Earmuffs: true,
		EnterMsg: "waltzes in.", ExitMsg: "waltzes out.", Gagged: true, Jailed: true,
		Lists: map[string]player.ListEntry{
			"bob":   {Name: "Bob", Friend: true, Ignore: player.IgnoreShouts, Invite: true},
			"carol": {Name: "Carol", Ignore: player.IgnoreAll},
		},
	}
}

func fixtureTelnet() telnet.State {
	return telnet.State{
		Options: telnet.Options{
			Us:  map[byte]telnet.Q{telnet.OptSGA: telnet.QYes, telnet.OptEOR: telnet.QWantYes},
			Him: map[byte]telnet.Q{telnet.OptNAWS: telnet.QYes, telnet.OptTType: telnet.QWantNoOpposite},
		},
		Width: 132, Height: 50, ClientName: "MUDLET", Terminal: "XTERM-256COLOR", MTTS: 137,
		TTypeRequests: 3, TTypeReplies: 2, TTypeDone: true, Charset: "UTF-8", PasswordMode: true,
	}
}

func fixtureCarried() conn.Carried {
	return conn.Carried{
		Decoder: telnet.Decoder{Mode: telnet.ModeSB, Verb: telnet.DO, SBOption: telnet.OptTType, SB: []byte{0, 'X'},
			SBOverflow: true, Line: []byte("half a li"), Truncated: 3, CR: true, MaxLine: 1000, MaxSB: 512},
		Throttle: conn.Throttle{LineTokens: 4.5, ByteTokens: 1234.25, Last: fixtureTime.Add(-time.Second), Dropped: 2},
		Unsent:   []byte("not yet sent\r\n"),
	}
}

func fixtureHeld() []telnet.Event {
	return []telnet.Event{
		{Kind: telnet.EventLine, Line: []byte("say held across"), Truncated: 1},
		{Kind: telnet.EventNegotiation, Verb: telnet.WILL, Option: telnet.OptNAWS},
		{Kind: telnet.EventSubneg, Option: telnet.OptNAWS, Data: []byte{0, 80, 0, 24}},
	}
}

func fixtureLogin() LoginState {
	return LoginState{Stage: StagePlaying, Name: "Alice", Failures: 1, Salt: "0011", Digest: "abcd"}
}

func fixtureReview() []ReviewLine {
	return []ReviewLine{{At: fixtureTime.Add(-time.Minute), From: "bob", Text: "Bob tells you 'hi'"},
		{At: fixtureTime, Text: "You tell Bob 'hello'"}}
}

func fixtureTimings() *RebootTimings {
	return &RebootTimings{Mode: reboot.ModeReboot, At: fixtureTime, By: "Alice", BySession: 77, Reason: "new build",
		FromVersion: "aaaa", ToVersion: "bbbb", FromPID: 100, ToPID: 200, Sessions: 3, Dropped: 1,
		Prepare: 1500 * time.Millisecond, Exec: 300 * time.Millisecond, Stage: 1200 * time.Millisecond,
		Quiesce: 2 * time.Millisecond, Snapshot: 5 * time.Millisecond, Handoff: 3 * time.Millisecond,
		Restore: 7 * time.Millisecond, Pause: 17 * time.Millisecond}
}

func fixtureGuard() loginGuard {
	g := newLoginGuard()
	g.ByAddr["127.0.0.9"] = &failures{Count: 4, Last: fixtureTime, Until: fixtureTime.Add(5 * time.Second)}
	g.ByName["mallory"] = &failures{Count: 2, Last: fixtureTime.Add(-time.Second)}
	return g
}

func fixtureCountdown(mode reboot.Mode) *countdown {
	return &countdown{Mode: mode, Reason: "because", By: "Alice", BySession: 77,
		At: fixtureTime.Add(time.Minute), LastAnnounce: fixtureTime}
}

// checkpointRecord is a session's checkpoint record in fresh memory (the
// talker builds them in reused scratch space: fillCheckpoint).
func (s *Session) checkpointRecord() state.Session {
	var r state.Session
	s.fillCheckpoint(&r, new(state.Player))
	return r
}

// fixtureTexts are a pager and an editor in use (state format version 6),
// for the record in testdata/wire/session-texts.*, written by the build
// that introduced them (a session is never in both at once; the fixture
// has every field set).
func fixtureTexts() (*Pager, *Editor) {
	return &Pager{Lines: []string{"Commands:", "  \x1b[31mred\x1b[0m line", "", "last ünïcode line"}, Top: 2},
		&Editor{Target: editMail, To: "Bob", Lines: []string{"Dear Bob,", "", "the cake is ^Rnot^N a lie."}}
}

// fixtureTextsSession is the wire fixture's session in the pager and the
// editor, its player with pages of 30 lines.
func fixtureTextsSession() *Session {
	p := fixturePlayer()
	p.Pager = 30
	pg, ed := fixtureTexts()
	return &Session{ID: 42, Addr: "127.0.0.9", ConnectedAt: fixtureTime.Add(-time.Hour), LastInput: fixtureTime,
		Telnet: fixtureTelnet(), Login: fixtureLogin(), Player: p,
		LoggedInAt: fixtureTime.Add(-30 * time.Minute), AFK: true, AFKMessage: "lunch", ReplyTo: "bob",
		TellReview: fixtureReview(), held: fixtureHeld(), Pager: pg, Editor: ed}
}
