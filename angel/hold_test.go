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
		Records: map[uint64]state.Record{1: cborRec}}, []int{fd(), fd()}, state.VersionCBOR, true)
	h.apply(link.HoldFrame{Add: []uint64{2}, Records: map[uint64]state.Record{2: jsonRec}}, []int{fd()}, state.VersionJSONRecords, true)
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

// TestFullSyncKeepsWhatItHeldUntilDone: a full sync from a talker that
// ends it with SyncDone replaces the connections only as it re-adds them:
// in the middle of it (when a crash may come), every connection held
// before is still held, with its record; at SyncDone, those not re-added
// (ended meanwhile) go. From a talker that does not say SyncDone, a Sync
// replaces everything at once, as before.
func TestFullSyncKeepsWhatItHeldUntilDone(t *testing.T) {
	open := func() int {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	rec := func(name string) state.Record {
		r, _ := state.EncodeSession(state.VersionCBOR, &state.Session{ID: 1, FD: -1, Login: state.Login{Name: name}})
		return r
	}
	var h holdings
	defer h.releaseAll(false)
	h.apply(link.HoldFrame{Sync: true, Add: []uint64{1, 2, 3}, Records: map[uint64]state.Record{1: rec("a"), 2: rec("b"), 3: rec("c")}},
		[]int{open(), open(), open()}, state.VersionCBOR, true)
	h.apply(link.HoldFrame{SyncDone: true}, nil, state.VersionCBOR, true)
	// A new full sync (a reboot's new generation, an angel upgrade): its
	// first chunk re-adds 1; 3 ended meanwhile.
	h.apply(link.HoldFrame{Sync: true, Listeners: []string{"tcp:x"}}, []int{open()}, state.VersionCBOR, true)
	h.apply(link.HoldFrame{Add: []uint64{1}, Records: map[uint64]state.Record{1: rec("a2")}}, []int{open()}, state.VersionCBOR, true)
	if len(h.conns) != 3 || h.conns[2].record == nil || h.conns[1].stale || !h.conns[3].stale {
		t.Fatalf("in the middle of a sync, held: %d connections (want the 3 held before)", len(h.conns))
	}
	h.apply(link.HoldFrame{Add: []uint64{2}}, []int{open()}, state.VersionCBOR, true)
	h.apply(link.HoldFrame{SyncDone: true}, nil, state.VersionCBOR, true)
	if len(h.conns) != 2 || h.conns[3] != nil || h.conns[2].record == nil || len(h.listeners) != 1 {
		t.Fatalf("after SyncDone: %d connections, 3 held: %v, listeners %d", len(h.conns), h.conns[3] != nil, len(h.listeners))
	}
	// An older talker's Sync (no SyncDone) replaces everything at once.
	h.apply(link.HoldFrame{Sync: true}, nil, state.VersionCBOR, false)
	if len(h.conns) != 0 || len(h.listeners) != 0 {
		t.Fatalf("an old-style sync kept %d connections, %d listeners", len(h.conns), len(h.listeners))
	}
}
