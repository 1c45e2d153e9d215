package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// Login stages as the records carry them (package server's Stage).
const (
	stagePassword      = 1
	stagePlaying       = 5
	stageChangeConfirm = 8 // 'password': the new password again
)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sessions(t *testing.T, snap *Snapshot) []Session {
	t.Helper()
	out := make([]Session, len(snap.Sessions))
	for i, r := range snap.Sessions {
		s, err := DecodeSession(snap.Version, r)
		if err != nil {
			t.Fatalf("session record %d: %v", i, err)
		}
		out[i] = s
	}
	return out
}

// TestFormatsStillRead: a snapshot written by the build that introduced
// each format (1: one JSON object, 2: a container of JSON records, 3: CBOR
// records, 4: records carrying held input, 5: later login stages, 6: the
// pager and the editor; 7: see golden_v7_test.go), all of the same scene (Alice playing with the
// title "the Golden", a second connection at the password prompt, from 4
// on a line held across, in 5 Alice halfway through changing her
// password, at the new one's second prompt, and from 6 on Alice, with
// pages of 30 lines, halfway through a mail to Bob in the editor), must
// still read.
func TestFormatsStillRead(t *testing.T) {
	for v := VersionJSON; v <= Version; v++ {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			name := fmt.Sprintf("snapshot-v%d.bin", v)
			if v == VersionJSON {
				name = "snapshot-v1.json"
			}
			snap, err := Decode(golden(t, name))
			if err != nil {
				t.Fatalf("a version %d snapshot no longer reads: %v", v, err)
			}
			sys, err := DecodeSystem(snap.System)
			if err != nil {
				t.Fatal(err)
			}
			wantSessions := 2
			if v >= 7 {
				wantSessions = 3 // and a connection waiting for its terminal type (golden_v7_test.go)
			}
			if snap.Version != v || snap.Mode != "reboot" || len(snap.Sessions) != wantSessions || (v > 1 && sys.Generation != 1) {
				t.Fatalf("snapshot: version %d mode %s, %d sessions, generation %d", snap.Version, snap.Mode, len(snap.Sessions), sys.Generation)
			}
			var stages []uint8
			var titles, held []string
			playing := uint8(stagePlaying)
			if v == 5 {
				playing = stageChangeConfirm
			}
			for _, s := range sessions(t, snap) {
				stages = append(stages, s.Login.Stage)
				if s.Player != nil && v == 5 && (s.Login.Digest == "" || !s.Telnet.PasswordMode) {
					t.Errorf("the password being changed: %+v, echo off %v", s.Login, s.Telnet.PasswordMode)
				}
				if e := s.Editor; s.Player != nil && v >= 6 && (e == nil || e.Target != "mail" || e.To != "Bob" ||
					fmt.Sprintf("%q", e.Lines) != `["Dear Bob," "" "the cake is ^Rnot^N a lie."]` || s.Player.Pager != 30 || s.Pager != nil) {
					t.Errorf("the mail being written: %+v, pages of %d lines", e, s.Player.Pager)
				}
				if v < 6 && (s.Editor != nil || s.Pager != nil) {
					t.Errorf("a version %d record has a pager or an editor", v)
				}
				if s.Player != nil {
					titles = append(titles, s.Player.Title)
				}
				for _, ev := range s.Held {
					held = append(held, string(ev.Line))
				}
			}
			if len(titles) != 1 || titles[0] != "the Golden" {
				t.Errorf("player records: %v", titles)
			}
			if v >= 7 && (stages[2] != 0 || !sessions(t, snap)[2].GreetPending) {
				t.Errorf("the third connection: stage %d, not waiting for its terminal type", stages[2])
			}
			if !(stages[0] == playing && stages[1] == stagePassword || stages[1] == playing && stages[0] == stagePassword) {
				t.Errorf("login stages: %v", stages)
			}
			if wantHeld := v >= 4; wantHeld != (len(held) == 1 && held[0] == "say held across") {
				t.Errorf("held input: %q", held)
			}
		})
	}
}

// TestWireBytesUnchanged: every record, the system state, a stage chunk
// and a container as the build before this package wrote them (from a
// fixture with every field set; see server's wirefixture_test.go) decode
// and encode back to exactly the same bytes. A field missing here, a key
// spelt differently or an encoding option changed would show.
func TestWireBytesUnchanged(t *testing.T) {
	for _, name := range []string{"session-full", "session-checkpoint", "session-staged", "session-texts"} {
		for _, v := range []int{VersionCBOR, VersionJSONRecords} {
			file := name + ".cbor"
			if v < VersionCBOR {
				file = name + ".json"
			}
			if _, err := os.Stat("testdata/wire/" + file); err != nil {
				continue // the staged form exists in CBOR only
			}
			b := golden(t, "wire/"+file)
			s, err := DecodeSession(v, b)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			again, err := EncodeSession(v, &s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Errorf("%s: encodes to other bytes\n got %x\nwant %x", file, again, b)
			}
		}
	}
	sysJSON := golden(t, "wire/system.json")
	sys, err := DecodeSystem(sysJSON)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := EncodeSystem(&sys); !bytes.Equal(again, sysJSON) {
		t.Errorf("system state encodes to other bytes\n got %s\nwant %s", again, sysJSON)
	}
	chunkBytes := golden(t, "wire/stage-chunk.cbor")
	chunk, err := DecodeStageChunk(chunkBytes, 2)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := EncodeStageChunk(chunk); !bytes.Equal(again, chunkBytes) {
		t.Errorf("stage chunk encodes to other bytes: %x", again)
	}
	if _, err := DecodeStageChunk(chunkBytes, 3); err == nil {
		t.Error("a chunk describing 2 sockets accepted for 3")
	}
	container := golden(t, "wire/container-v4.bin")
	snap, err := Decode(container)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Encode(snap); !bytes.Equal(again, container) {
		t.Errorf("container encodes to other bytes")
	}
	s := sessions(t, snap)
	if snap.Version != 4 || snap.Mode != "reboot" || len(s) != 2 || !s[1].Staged || s[0].Player.Lists["bob"].Ignore != 2 ||
		len(s[0].Held) != 3 || string(s[0].Conn.Decoder.Line) != "half a li" || fmt.Sprint(snap.SessionFDs) != "[0 3]" {
		t.Errorf("container read back wrong: %+v", snap)
	}
	v1, err := Decode(golden(t, "wire/container-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	s = sessions(t, v1)
	if !v1.Checkpoint || v1.Mode != "recover" || len(s) != 2 || s[0].ID != 42 || s[1].ID != 0 {
		t.Errorf("version 1 checkpoint envelope read back wrong: %+v", v1)
	}
}

// TestFieldsSurviveTheirCodec: every field of the fixture has a value, and
// decoding gives it back (a key the encoder writes but the decoder does not
// read would lose it).
func TestFieldsSurviveTheirCodec(t *testing.T) {
	for _, v := range []int{VersionJSONRecords, VersionCBOR} {
		file := "wire/session-full.cbor"
		if v < VersionCBOR {
			file = "wire/session-full.json"
		}
		s, err := DecodeSession(v, golden(t, file))
		if err != nil {
			t.Fatal(err)
		}
		zero := zeroFields("", s)
		if len(zero) > 0 {
			t.Errorf("version %d: fields with no value after decoding: %v", v, zero)
		}
		// The fields of version 6 are in their own record (written by
		// the build that introduced them): the full one's and these.
		texts, err := DecodeSession(v, golden(t, strings.Replace(file, "full", "texts", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if zero := zeroFields("", texts); len(zero) > 0 {
			t.Errorf("version %d: fields with no value in the record with texts: %v", v, zero)
		}
		if p, e := texts.Pager, texts.Editor; p == nil || len(p.Lines) != 4 || p.Lines[3] != "last ünïcode line" || p.Top != 2 ||
			e == nil || e.Target != "mail" || e.To != "Bob" || len(e.Lines) != 3 || e.Lines[2] != "the cake is ^Rnot^N a lie." ||
			texts.Player.Pager != 30 {
			t.Errorf("version %d: the pager, editor or page length read back wrong: %+v %+v", v, p, e)
		}
		if d := s.LastInput.Sub(time.Date(2026, 12, 4, 17, 30, 15, 123456789, time.UTC)); d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("version %d: a time lost precision: %v", v, d)
		}
	}
}

// zeroFields lists the fields of a Session left at their zero value, but
// for those the full record does not carry (Staged).
func zeroFields(prefix string, s Session) []string {
	var out []string
	check := func(name string, zero bool) {
		if zero {
			out = append(out, prefix+name)
		}
	}
	check("ID", s.ID == 0)
	check("FD", s.FD == 0)
	check("Addr", s.Addr == "")
	check("ConnectedAt", s.ConnectedAt.IsZero())
	check("LastInput", s.LastInput.IsZero())
	t := s.Telnet
	check("Telnet.Options", len(t.Options.Us) == 0 || len(t.Options.Him) == 0)
	check("Telnet.size", t.Width == 0 || t.Height == 0)
	check("Telnet.ttype", t.ClientName == "" || t.Terminal == "" || t.MTTS == 0 || t.TTypeRequests == 0 || t.TTypeReplies == 0 || !t.TTypeDone)
	check("Telnet.Charset", t.Charset == "")
	check("Telnet.PasswordMode", !t.PasswordMode)
	d := s.Conn.Decoder
	check("Conn.Decoder", d.Mode == 0 || d.Verb == 0 || d.SBOption == 0 || len(d.SB) == 0 || !d.SBOverflow ||
		len(d.Line) == 0 || d.Truncated == 0 || !d.CR || d.MaxLine == 0 || d.MaxSB == 0)
	th := s.Conn.Throttle
	check("Conn.Throttle", th.LineTokens == 0 || th.ByteTokens == 0 || th.Last.IsZero() || th.Dropped == 0)
	check("Conn.Unsent", len(s.Conn.Unsent) == 0)
	l := s.Login
	check("Login", l.Stage == 0 || l.Name == "" || l.Failures == 0 || l.Salt == "" || l.Digest == "")
	p := s.Player
	check("Player", p == nil)
	if p != nil {
		check("Player.fields", p.Name == "" || p.PasswordHash == "" || p.Rank == 0 || p.Title == "" || p.Description == "" ||
			p.Room == "" || p.Home == "" || p.CreatedAt.IsZero() || p.LastSeen.IsZero() || p.LastAddress == "" ||
			p.Logins == 0 || p.TimeOnline == 0 || !p.Colour || !p.Prompt || p.PromptText == "" || !p.Timestamps ||
			!p.Earmuffs || p.EnterMsg == "" || p.ExitMsg == "" || !p.Gagged || !p.Jailed || len(p.Lists) == 0)
		b := p.Lists["bob"]
		check("Player.Lists", b.Name == "" || !b.Friend || b.Ignore == 0 || !b.Invite)
	}
	check("LoggedInAt", s.LoggedInAt.IsZero())
	check("AFK", !s.AFK || s.AFKMessage == "")
	check("ReplyTo", s.ReplyTo == "")
	check("Room", s.Room == "")
	check("TellReview", len(s.TellReview) == 0 || s.TellReview[0].From == "" || s.TellReview[0].Text == "" || s.TellReview[0].At.IsZero())
	check("Held", len(s.Held) < 3 || len(s.Held[0].Line) == 0 || s.Held[0].Truncated == 0 || s.Held[1].Verb == 0 ||
		s.Held[1].Option == 0 || len(s.Held[2].Data) == 0 || s.Held[2].Kind == 0)
	return out
}

func TestFromTheFutureAndGarbageAreRefused(t *testing.T) {
	b, err := Encode(&Snapshot{Mode: "reboot"})
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), fmt.Sprintf(`"Version":%d`, Version), `"Version":99`, 1))
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a newer snapshot was accepted: %v", err)
	}
	if _, err := Decode([]byte("not json")); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := Encode(&Snapshot{Version: 1}); err == nil {
		t.Error("version 1 written")
	}
}

// TestContainerRoundTripAndDamage: records come back byte for byte; a
// truncated container is refused, not half read.
func TestContainerRoundTripAndDamage(t *testing.T) {
	sys, _ := EncodeSystem(&System{Generation: 7})
	snap := &Snapshot{Mode: "reset", System: sys, Sessions: []Record{Record(`{"ID":1}`), Record(`{"ID":2,"Addr":"x"}`)}}
	b, err := Encode(snap)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	gotSys, _ := DecodeSystem(got.System)
	if got.Version != Version || got.Mode != "reset" || gotSys.Generation != 7 ||
		len(got.Sessions) != 2 || string(got.Sessions[1]) != `{"ID":2,"Addr":"x"}` {
		t.Errorf("round trip: %+v", got)
	}
	for cut := len(magic); cut < len(b); cut += 3 {
		if _, err := Decode(b[:cut]); err == nil {
			t.Fatalf("a container cut at %d of %d bytes was accepted", cut, len(b))
		}
	}
}

// TestNullAndTranscode: a connection held with no checkpoint is a null
// record in either encoding (the zero Session); a JSON record from an older
// talker becomes the same record in CBOR.
func TestNullAndTranscode(t *testing.T) {
	for _, v := range []int{VersionJSONRecords, VersionCBOR} {
		s, err := DecodeSession(v, NullRecord(v))
		if err != nil || s.ID != 0 {
			t.Errorf("version %d null record: %+v, %v", v, s, err)
		}
	}
	js := golden(t, "wire/session-checkpoint.json")
	cb, err := Transcode(js, VersionJSONRecords, VersionCBOR)
	if err != nil {
		t.Fatal(err)
	}
	if want := golden(t, "wire/session-checkpoint.cbor"); !bytes.Equal(cb, want) {
		t.Errorf("JSON → CBOR: other bytes than the CBOR record of the same session")
	}
	// (CBOR times are float seconds: back in JSON they are the same to
	// well under a microsecond, not to the nanosecond.)
	back, err := Transcode(cb, VersionCBOR, VersionJSONRecords)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSession(VersionJSONRecords, back)
	if d := s.LastInput.Sub(time.Date(2026, 12, 4, 17, 30, 15, 123456789, time.UTC)); err != nil || s.ID != 42 ||
		s.Player.Title != "the Golden" || d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("CBOR → JSON: %s, %v", back, err)
	}
	if n, err := Transcode(NullRecord(VersionJSONRecords), VersionJSONRecords, VersionCBOR); err != nil || !bytes.Equal(n, NullRecord(VersionCBOR)) {
		t.Errorf("null transcoded to %x, %v", n, err)
	}
	var r Record
	if err := json.Unmarshal([]byte(`{"a":1}`), &r); err != nil || string(r) != `{"a":1}` {
		t.Errorf("a record in JSON: %s, %v", r, err)
	}
}

// TestVersionFor: a snapshot is written in the oldest version that carries
// it, so that a reboot into an older build works whenever it can: 3 for
// plain records, 4 with held input or staged records, 5 as soon as one
// session is at a login stage version 4 does not know, 6 as soon as one
// is in the pager or the editor.
func TestVersionFor(t *testing.T) {
	for _, c := range []struct {
		held, staged bool
		stage        uint8
		texts        bool
		want         int
	}{
		{false, false, stagePlaying, false, VersionCBOR},
		{true, false, stagePassword, false, VersionHeld},
		{false, true, stagePlaying, false, VersionHeld},
		{false, false, stagePlaying + 1, false, VersionStages},
		{true, true, stageChangeConfirm, false, VersionStages},
		{false, false, stagePlaying, true, VersionTexts},
		{true, true, stageChangeConfirm, true, VersionTexts},
	} {
		if got := VersionFor(c.held, c.staged, c.stage, c.texts, false); got != c.want {
			t.Errorf("VersionFor(%v, %v, %d, %v) = %d, want %d", c.held, c.staged, c.stage, c.texts, got, c.want)
		}
	}
}
