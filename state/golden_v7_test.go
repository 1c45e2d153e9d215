package state

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"hash/adler32"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"
)

// The version 7 golden (testdata/snapshot-v7.bin) and how it is made.
//
// Its scene is the older goldens' (decoded from snapshot-v6.bin: Alice,
// "the Golden", playing, halfway through a mail to Bob in the editor, a
// line held across the reboot; a second connection at the password
// prompt), with everything version 7 added set to a value a talker
// writes: Alice is a member of staff, invisible, on Mudlet over TLS with
// MCCP2 output and MCCP3 input compression and GMCP, in converse mode,
// with a profile, aliases, channels and a resume token; the second
// connection is a browser's WebSocket; a third, just connected, waits for
// its terminal type before the greeting; Bob is link-dead with lines
// missed. Session.Compress and Session.Inflate are the angel's view (its
// checkpoints have them, a live generation's reboot records do not): they
// are set here all the same, so that the golden holds every field.
//
// The file is v7Scene encoded. It is written only by
//
//	go test ./state -run TestV7Golden -write-v7-golden
//
// and only when version 7's fields change (a field added to a record
// fails TestV7Golden until v7Scene sets it): a golden rewritten for any
// other reason no longer shows what older builds wrote.

var writeV7Golden = flag.Bool("write-v7-golden", false, "write testdata/snapshot-v7.bin from v7Scene (see golden_v7_test.go)")

// before7 are the fields of the records and the system state as version 7
// was introduced (75cfe25), which the older goldens' scene may leave at
// their zero value. Every other field must be set in the v7 golden.
var before7 = map[string]bool{}

func init() {
	for _, f := range []string{"Carried.Decoder", "Carried.Throttle", "Carried.Unsent", "Countdown.At", "Countdown.LastAnnounce",
		"Countdown.Req", "Decoder.CR", "Decoder.Line", "Decoder.MaxLine", "Decoder.MaxSB", "Decoder.Mode", "Decoder.SB",
		"Decoder.SBOption", "Decoder.SBOverflow", "Decoder.Truncated", "Decoder.Verb", "Editor.Lines", "Editor.Target",
		"Editor.To", "Event.Data", "Event.Kind", "Event.Line", "Event.Option", "Event.Truncated", "Event.Verb",
		"Failures.Count", "Failures.Last", "Failures.Until", "Guard.ByAddr", "Guard.ByName", "Guard.ByPair",
		"Guard.NewAccounts", "ListEntry.Friend", "ListEntry.Ignore", "ListEntry.Invite", "ListEntry.Name", "Login.Digest",
		"Login.Failures", "Login.Name", "Login.Salt", "Login.Stage", "Options.Him", "Options.Us", "Pager.Lines", "Pager.Top",
		"Player.Colour", "Player.ColourChosen", "Player.CreatedAt", "Player.Description", "Player.Earmuffs",
		"Player.EnterMsg", "Player.ExitMsg", "Player.Gagged", "Player.Home", "Player.Jailed", "Player.LastAddress",
		"Player.LastSeen", "Player.Lists", "Player.Logins", "Player.Name", "Player.Pager", "Player.PasswordHash",
		"Player.Prompt", "Player.PromptText", "Player.Rank", "Player.Room", "Player.ScreenReader", "Player.TimeOnline",
		"Player.Timestamps", "Player.Title", "Request.By", "Request.BySession", "Request.Mode", "Request.Reason",
		"ReviewLine.At", "ReviewLine.From", "ReviewLine.Text", "Session.AFK", "Session.AFKMessage", "Session.Addr",
		"Session.Conn", "Session.ConnectedAt", "Session.Editor", "Session.FD", "Session.Held", "Session.ID",
		"Session.LastInput", "Session.LoggedInAt", "Session.Login", "Session.Pager", "Session.Player", "Session.ReplyTo",
		"Session.Room", "Session.Staged", "Session.TellReview", "Session.Telnet", "System.ColdStartedAt", "System.Countdown",
		"System.Generation", "System.LastReboot", "System.LoginGuard", "System.NextConnID", "System.Reboots",
		"System.Recoveries", "System.RoomReview", "System.Shutdown", "System.StartedAt", "Telnet.Charset",
		"Telnet.ClientName", "Telnet.Height", "Telnet.MTTS", "Telnet.Options", "Telnet.PasswordMode", "Telnet.TTypeDone",
		"Telnet.TTypeReplies", "Telnet.TTypeRequests", "Telnet.Terminal", "Telnet.Width", "Throttle.ByteTokens",
		"Throttle.Dropped", "Throttle.Last", "Throttle.LineTokens", "Timings.At", "Timings.By", "Timings.BySession",
		"Timings.Dropped", "Timings.Exec", "Timings.FromPID", "Timings.FromVersion", "Timings.Handoff", "Timings.Mode",
		"Timings.Pause", "Timings.Prepare", "Timings.Quiesce", "Timings.Reason", "Timings.Restore", "Timings.Sessions",
		"Timings.Snapshot", "Timings.Stage", "Timings.ToPID", "Timings.ToVersion"} {
		before7[f] = true
	}
}

// Telnet options the scene negotiates (package telnet's numbers) and RFC
// 1143 states.
const (
	optTType, optMCCP2, optMCCP3, optGMCP = 24, 86, 87, 201
	qYes, qWantYes                        = 1, 3
)

// zlibOf is what MCCP sends for text: a zlib stream, sync-flushed, as the
// talker's writer leaves it after each write.
func zlibOf(text string) []byte {
	var b bytes.Buffer
	z := zlib.NewWriter(&b)
	z.Write([]byte(text))
	z.Flush()
	return b.Bytes()
}

// setField sets the field name of the struct *ptr to val, if it has one.
func setField(ptr any, name string, val any) {
	if f := reflect.ValueOf(ptr).Elem().FieldByName(name); f.IsValid() {
		f.Set(reflect.ValueOf(val))
	}
}

// v7Scene is the version 7 golden's snapshot (see the top of this file).
func v7Scene(t *testing.T) *Snapshot {
	t.Helper()
	snap, err := Decode(golden(t, "snapshot-v6.bin"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := DecodeSystem(snap.System)
	if err != nil {
		t.Fatal(err)
	}
	recs := sessions(t, snap)
	alice, second := &recs[0], &recs[1]
	at := alice.LastInput // 2026-11-22T05:00:55Z, the scene's time

	// Alice: Mudlet over TLS, MCCP2 out, MCCP3 in, GMCP; staff, invisible.
	sent := "Welcome back, Alice: you have taken over your session.\r\n"
	typed := "look\r\nsay hello\r\n"
	alice.Telnet.Options.Us[optMCCP2] = qYes
	alice.Telnet.Options.Us[optMCCP3] = qYes
	alice.Telnet.Options.Us[optGMCP] = qYes
	alice.Telnet.GMCP = &GMCP{Client: "Mudlet", Version: "4.17.2", Modules: map[string]int{"char": 1, "room": 1, "comm.channel": 1}}
	unsent := "You say 'are you there, Bob?'\r\n"
	alice.Conn.Unsent = []byte(unsent)
	// The stream is on, its Adler-32 that of what it has carried; Wire is
	// the compressed rest of a unit the freeze cut short; Alice typed
	// 'mccp off' then 'mccp on', so the unsent output goes out plain and
	// the stream starts again after it.
	alice.Conn.Compress = &Compress{On: true, Adler: adler32.Checksum([]byte(sent)), Wire: zlibOf("[ Bob has")[2:],
		Marks: []CompressMark{{At: 0}, {At: len(unsent), On: true}}}
	// The angel's view, from a checkpoint taken while the writer was in
	// the middle of a write (the Adler-32 then not known).
	alice.Compress = &Compress{On: true, AdlerUnknown: true, Offset: 48213, OffsetKnown: true}
	key := func(seed string) []byte { s := sha256.Sum256([]byte(seed)); return s[:] }
	alice.Conn.TLS = &TLS{Suite: 0x1301, // TLS_AES_128_GCM_SHA256
		ReadSecret: key("client application traffic secret"), ReadSeq: 57,
		ReadPartial: []byte{0x17, 0x03, 0x03, 0x00, 0x2a, 0x9c}, ReadOffset: 5321, KeyUpdatesAsked: 1, KeyUpdatesAnswered: 1,
		WriteSecret: key("server application traffic secret"), WriteSeq: 211,
		WritePending: []byte{0x17, 0x03, 0x03, 0x00, 0x31}, WriteOffset: 48213}
	// MCCP3 input and the input offset, set by name: set once their
	// fields are in the records (until then TestV7Golden does not ask).
	setField(&alice.Conn, "Decompress", &Inflate{Offered: true, Phase: 2, Window: []byte(typed), Rest: zlibOf("who\r\n")[2:4],
		Adler: adler32.Checksum([]byte(typed))})
	setField(alice, "Inflate", &Inflate{Offered: true, Phase: 2, Window: []byte(typed), Adler: adler32.Checksum([]byte(typed)), ReadOffset: 5316})
	setField(&alice.Conn, "InputAt", uint64(5316))
	alice.Converse, alice.LastCommand = true, "look"
	token := sha256.Sum256([]byte("a resume token"))
	alice.ResumeDigest = hex.EncodeToString(token[:])
	p := alice.Player
	p.Rank = 20 // staff
	p.Wrap, p.Invisible = 78, true
	p.Plan, p.Gender, p.Email, p.EmailPublic, p.URL = "finish the golden files", "female", "alice@example.org", true, "https://example.org/~alice"
	p.Aliases = map[string]string{"gg": "say good game, $*", "bb": "shout bye all"}
	p.Channels = []string{"gossip", "staff"}

	// The second connection: a browser at the password prompt, its
	// WebSocket halfway through a masked text frame (exact), and as the
	// angel's last checkpoint saw it (a ping's payload coming, in a
	// fragmented text message; the peer had sent its Close).
	second.Telnet.Options = Options{Us: map[uint8]uint8{1: qYes, 3: qYes}}
	second.Conn.WebSocket = &WebSocket{InFrame: true, OpCode: 1, Fin: true, Remaining: 4,
		Mask: []byte{0x37, 0xfa, 0x21, 0x3d}, MaskPos: 2, Line: []byte("secr"), ReadOffset: 611}
	second.WebSocket = &WebSocket{Header: []byte{0x89}, OpCode: 9, Control: []byte("ping"), Message: 1, Closed: true, ReadOffset: 600}

	// A third connection, just made: the greeting waits for TTYPE.
	third := Session{ID: alice.ID + 2, FD: 2, Addr: "192.0.2.7", ConnectedAt: at, LastInput: at,
		Telnet:       Telnet{Options: Options{Us: map[uint8]uint8{3: qYes}, Him: map[uint8]uint8{optTType: qWantYes}}},
		Conn:         Carried{Decoder: Decoder{MaxLine: 1000, MaxSB: 8192}, Throttle: Throttle{LineTokens: 24, ByteTokens: 131072, Last: at}},
		GreetPending: true}

	// Bob, link-dead, with what was said to him meanwhile.
	bob := Session{ID: alice.ID - 2, FD: -1, Addr: "198.51.100.23", ConnectedAt: at.Add(-time.Hour), LastInput: at.Add(-10 * time.Minute),
		Login: Login{Stage: 5, Name: "Bob"}, LoggedInAt: at.Add(-time.Hour), Room: "main",
		Player: &Player{Name: "Bob", PasswordHash: "$2a$04$abcdefghijklmnopqrstuv", Rank: 10, Title: "the Absent", Room: "main",
			CreatedAt: at.Add(-48 * time.Hour), LastSeen: at.Add(-time.Hour), LastAddress: "198.51.100.23", Logins: 3,
			Channels: []string{"gossip"}}}
	sys.LinkDead = []LinkDead{{Session: bob, Since: at.Add(-5 * time.Minute), Until: at.Add(5 * time.Minute),
		Missed: [][]byte{[]byte("Alice says 'are you there, Bob?'\r\n"), []byte("[gossip] Alice: anyone seen Bob?\r\n")}, Dropped: 2}}
	sys.NextConnID = third.ID

	out := &Snapshot{Version: 7, Mode: snap.Mode, SessionFDs: []int{0, 1, 2}}
	if out.System, err = EncodeSystem(&sys); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(recs, third) {
		r, err := EncodeSession(Version, &s)
		if err != nil {
			t.Fatal(err)
		}
		out.Sessions = append(out.Sessions, r)
	}
	return out
}

// TestV7Golden: snapshot-v7.bin is exactly v7Scene encoded; decoding it
// gives back every field version 7 added, each set somewhere (a key the
// encoder writes and the decoder does not read would show here), and each
// record and the system state encode back to the same bytes.
func TestV7Golden(t *testing.T) {
	scene, err := Encode(v7Scene(t))
	if err != nil {
		t.Fatal(err)
	}
	if *writeV7Golden {
		if err := os.WriteFile("testdata/snapshot-v7.bin", scene, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := golden(t, "snapshot-v7.bin")
	if !bytes.Equal(scene, b) {
		t.Fatalf("snapshot-v7.bin is not v7Scene (%d bytes, the scene %d): rewrite it with -write-v7-golden only if version 7's fields changed",
			len(b), len(scene))
	}
	snap, err := Decode(b)
	if err != nil || snap.Version != 7 {
		t.Fatalf("version %d, %v", snap.Version, err)
	}
	sys, err := DecodeSystem(snap.System)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := EncodeSystem(&sys); !bytes.Equal(again, snap.System) {
		t.Errorf("the system state encodes to other bytes:\n got %s\nwant %s", again, snap.System)
	}
	set := map[string]bool{}
	all := map[string]bool{}
	walk(reflect.ValueOf(sys), set, all)
	for i, s := range sessions(t, snap) {
		walk(reflect.ValueOf(s), set, all)
		if again, _ := EncodeSession(snap.Version, &s); !bytes.Equal(again, snap.Sessions[i]) {
			t.Errorf("record %d encodes to other bytes", i)
		}
	}
	var unset []string
	for f := range all {
		if !before7[f] && !set[f] {
			unset = append(unset, f)
		}
	}
	sort.Strings(unset)
	if len(unset) > 0 {
		t.Errorf("fields after version 6 with no value in the v7 golden: %v (set them in v7Scene, then -write-v7-golden)", unset)
	}
}

// walk notes, for every field of the structs reachable from v, "Type.Field"
// in all, and in set if this instance's value is not zero.
func walk(v reflect.Value, set, all map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), set, all)
		} else if v.Kind() == reflect.Pointer {
			walkType(v.Type().Elem(), all)
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		walkType(v.Type().Elem(), all)
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), set, all)
		}
	case reflect.Map:
		walkType(v.Type().Elem(), all)
		for _, k := range v.MapKeys() {
			walk(v.MapIndex(k), set, all)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			name := t.Name() + "." + t.Field(i).Name
			all[name] = true
			if !v.Field(i).IsZero() {
				set[name] = true
			}
			walk(v.Field(i), set, all)
		}
	}
}

// walkType notes in all the fields of the structs reachable from type t
// (for values that are absent: a nil pointer, an empty slice).
func walkType(t reflect.Type, all map[string]bool) {
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				all[t.Name()+"."+t.Field(i).Name] = true
				visit(t.Field(i).Type)
			}
		}
	}
	visit(t)
}
