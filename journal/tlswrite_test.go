package journal

import (
	"bytes"
	"testing"
)

// TestLatestTLSWrite: the fold keeps each connection's last write half
// (KindTLSWrite) and its records in order, whatever else is in between.
func TestLatestTLSWrite(t *testing.T) {
	entries := []Entry{
		{Kind: KindOutput, ID: 7, Payload: OutputEntry(100, []byte("rec1"))},
		{Kind: KindTLSWrite, ID: 7, Payload: []byte("ws1")},
		{Kind: KindSession, ID: 7, Payload: []byte("record")},
		{Kind: KindOutput, ID: 8, Payload: OutputEntry(5, []byte("plain"))},
		{Kind: KindOutput, ID: 7, Payload: OutputEntry(104, []byte("rec2"))},
		{Kind: KindTLSWrite, ID: 7, Payload: []byte("ws2")},
	}
	f := Latest(entries)
	if !bytes.Equal(f.TLSWrite[7], []byte("ws2")) || f.TLSWrite[8] != nil {
		t.Fatalf("write halves %v", f.TLSWrite)
	}
	if runs := f.Output[7]; len(runs) != 2 || runs[1].From != 104 || string(runs[1].Bytes) != "rec2" {
		t.Fatalf("records %+v", runs)
	}
}
