package link

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talker/ipc"
	"talker/state"
)

// fakeSource is a talker with one session whose checkpoint record is rec.
type fakeSource struct{ rec state.Record }

func (f fakeSource) Listeners() ([]string, []int) { return nil, nil }
func (f fakeSource) Checkpoint() (json.RawMessage, []uint64) {
	return json.RawMessage(`{"Generation":3}`), []uint64{42}
}
func (f fakeSource) Dup(ids []uint64) ([]uint64, []int, map[uint64]state.Record) {
	return nil, nil, map[uint64]state.Record{42: f.rec}
}

// TestHoldChannelAgreesItsEncoding: a talker's Holder sends CBOR frames with
// its records as they are to an angel that acks AckCBOR, and JSON frames
// with the records in JSON to one that acks AckJSON, as an angel older than
// package state does (it reads JSON frames with the records as JSON
// objects, and ignores the hello's Records).
func TestHoldChannelAgreesItsEncoding(t *testing.T) {
	sess := state.Session{ID: 42, FD: -1, Addr: "127.0.0.1", Login: state.Login{Stage: 5, Name: "Alice"},
		Player: &state.Player{Name: "Alice", Title: "the Held"}}
	rec, err := state.EncodeSession(state.VersionCBOR, &sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, ack := range []string{AckCBOR, AckJSON} {
		t.Run(strings.TrimSpace(ack), func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "angel.sock")
			ln, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			h := NewHolder(sock, 1234, fakeSource{rec: rec})
			go h.Run()
			defer h.Close()
			ln.(*net.UnixListener).SetDeadline(time.Now().Add(5 * time.Second))
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			// The hello (the talker sends nothing more before the ack, so
			// a buffered read is safe here).
			var m Message
			if err := ipc.NewLineReader(c, 0).ReadJSON(&m); err != nil || m.Hold == nil {
				t.Fatalf("hello: %+v, %v", m, err)
			}
			if m.Hold.PID != 1234 || m.Hold.Records != state.VersionCBOR {
				t.Fatalf("hello %+v", m.Hold)
			}
			if _, err := c.Write([]byte(ack)); err != nil {
				t.Fatal(err)
			}
			useCBOR := ack == AckCBOR
			uc := c.(*net.UnixConn)
			sync, _, err := RecvFrame(uc, useCBOR)
			if err != nil || !sync.Sync || string(sync.System) != `{"Generation":3}` {
				t.Fatalf("first frame: %+v, %v", sync, err)
			}
			f, _, err := RecvFrame(uc, useCBOR)
			if err != nil {
				t.Fatal(err)
			}
			got := f.Records[42]
			version := state.VersionCBOR
			if !useCBOR {
				version = state.VersionJSONRecords
				if !json.Valid(got) {
					t.Fatalf("an angel that takes JSON got a record that is not JSON: %q", got)
				}
				// What an angel older than package state decodes it into.
				var old struct{ Records map[uint64]json.RawMessage }
				data, _ := json.Marshal(f)
				if err := json.Unmarshal(data, &old); err != nil || len(old.Records[42]) == 0 {
					t.Fatalf("the older angel's frame: %v", err)
				}
			}
			back, err := state.DecodeSession(version, got)
			if err != nil || back.ID != 42 || back.Player == nil || back.Player.Title != "the Held" {
				t.Fatalf("record as the angel holds it: %+v, %v", back, err)
			}
		})
	}
}
