package state

import (
	"testing"
)

// benchSessions is how many sessions the snapshot benchmarks carry: a
// crowd of 1,000, every one the golden record with every field set.
const benchSnapshotSessions = 1000

// benchSnapshot is a snapshot of benchSnapshotSessions sessions, the
// sessions it was made from, and its encoding.
func benchSnapshot(b *testing.B) (*Snapshot, []Session, []byte) {
	_, s := benchRecord(b)
	sessions := make([]Session, benchSnapshotSessions)
	snap := &Snapshot{Mode: "reboot", Sessions: make([]Record, benchSnapshotSessions)}
	for i := range sessions {
		sessions[i] = s
		sessions[i].ID = uint64(i + 1)
		rec, err := EncodeSession(Version, &sessions[i])
		if err != nil {
			b.Fatal(err)
		}
		snap.Sessions[i] = rec
	}
	raw, err := Encode(snap)
	if err != nil {
		b.Fatal(err)
	}
	return snap, sessions, raw
}

// decodeAll is the new generation's reading of a snapshot: the container,
// then every record.
func decodeAll(raw []byte) ([]Session, error) {
	snap, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	out := make([]Session, len(snap.Sessions))
	for i, r := range snap.Sessions {
		if out[i], err = DecodeSession(snap.Version, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BenchmarkSnapshotEncode is the old generation's side of a full
// snapshot: every session's record encoded, then the container.
func BenchmarkSnapshotEncode(b *testing.B) {
	snap, sessions, raw := benchSnapshot(b)
	// Asserted once: what is measured round-trips.
	got, err := decodeAll(raw)
	if err != nil || len(got) != len(sessions) || got[len(got)-1].ID != uint64(len(sessions)) {
		b.Fatalf("round trip: %d sessions, %v", len(got), err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		for i := range sessions {
			rec, err := EncodeSession(Version, &sessions[i])
			if err != nil {
				b.Fatal(err)
			}
			snap.Sessions[i] = rec
		}
		if raw, err = Encode(snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotDecode is the new generation's side: the container,
// then every record.
func BenchmarkSnapshotDecode(b *testing.B) {
	_, sessions, raw := benchSnapshot(b)
	got, err := decodeAll(raw)
	if err != nil || len(got) != len(sessions) || got[0].ID != 1 || got[0].Player == nil || got[0].Player.Name != sessions[0].Player.Name || got[0].Addr != sessions[0].Addr {
		b.Fatalf("round trip: %d sessions, %v", len(got), err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeAll(raw); err != nil {
			b.Fatal(err)
		}
	}
}
