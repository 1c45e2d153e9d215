package angel

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel/link"
	"talker/reboot"
	"talker/state"
)

// TestOfferIsTheStateFormat: what the angel hands a new generation after a
// crash is a snapshot in the state format, built with package state: the
// talker's system state passed through untouched, every held connection's
// record in CBOR (a record an older talker sent in JSON re-encoded, one
// never checkpointed null), the descriptors in the order SessionFDs says.
func TestOfferIsTheStateFormat(t *testing.T) {
	dir := t.TempDir()
	fd := func() int {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	alice := state.Session{ID: 1, FD: -1, Login: state.Login{Stage: 5, Name: "Alice"}, Player: &state.Player{Name: "Alice"}}
	bob := state.Session{ID: 2, FD: -1, Login: state.Login{Stage: 1, Name: "Bob"}}
	cborRec, _ := state.EncodeSession(state.VersionCBOR, &alice)
	jsonRec, _ := state.EncodeSession(state.VersionJSONRecords, &bob)
	system := json.RawMessage(`{"Generation":9,"FutureField":"kept"}`)
	var h holdings
	h.apply(link.HoldFrame{Sync: true, Add: []uint64{1, 3}, System: system,
		Records: map[uint64]state.Record{1: cborRec}}, []int{fd(), fd()}, state.VersionCBOR)
	h.apply(link.HoldFrame{Add: []uint64{2}, Records: map[uint64]state.Record{2: jsonRec}}, []int{fd()}, state.VersionJSONRecords)
	defer h.releaseAll(false)

	o, err := h.offer(dir, &generation{pid: 77, version: "v1"}, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Finish(false)
	files, _ := os.ReadDir(dir)
	var b []byte
	for _, f := range files {
		if len(f.Name()) > 6 && f.Name()[:6] == "state-" {
			b, _ = os.ReadFile(dir + "/" + f.Name())
		}
	}
	snap, err := state.Decode(b)
	if err != nil {
		t.Fatalf("the offered state does not read: %v", err)
	}
	if snap.Version != state.VersionCBOR || snap.Mode != string(reboot.ModeRecover) || !snap.Checkpoint ||
		string(snap.System) != string(system) || len(snap.Sessions) != 3 || len(snap.SessionFDs) != 3 {
		t.Fatalf("offered snapshot: %+v", snap)
	}
	var names []string
	for i, r := range snap.Sessions {
		s, err := state.DecodeSession(snap.Version, r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		names = append(names, s.Login.Name)
		if snap.SessionFDs[i] != i {
			t.Errorf("record %d refers to descriptor %d", i, snap.SessionFDs[i])
		}
	}
	if names[0] != "Alice" || names[1] != "Bob" || names[2] != "" {
		t.Errorf("records in id order: %q (want Alice, Bob, and the never checkpointed connection empty)", names)
	}
}
