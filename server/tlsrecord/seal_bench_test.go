package tlsrecord

import (
	"bytes"
	"testing"
)

// BenchmarkSealToLine: the world's cost of sealing one delivered line
// (a 60-byte "X says '...'" line) into a TLS record, per suite.
func BenchmarkSealToLine(b *testing.B) {
	line := []byte("Lgaaab says 'tok00001234 xxxxxxxxxxxxxxxxxxxxxxxx'\r\n\x1b[0m")
	for _, suite := range suites {
		b.Run(map[uint16]string{AES128GCMSHA256: "AES128GCM", AES256GCMSHA384: "AES256GCM", CHACHA20POLY1305SHA256: "CHACHA20"}[suite], func(b *testing.B) {
			n := 32
			if suite == AES256GCMSHA384 {
				n = 48
			}
			s, err := New(State{Suite: suite, ReadSecret: bytes.Repeat([]byte{1}, n), WriteSecret: bytes.Repeat([]byte{2}, n)})
			if err != nil {
				b.Fatal(err)
			}
			var dst []byte
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if dst, err = s.SealTo(dst[:0], line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteStateAppendBinary: the world encodes one write state per
// TLS connection per commit (the journal's KindTLSWrite), from nil.
func BenchmarkWriteStateAppendBinary(b *testing.B) {
	ws := WriteState{Seq: 12345, Answered: 1, Offset: 1 << 40, Secret: bytes.Repeat([]byte{3}, 32)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(ws.AppendBinary(nil)) != 57 {
			b.Fatal("length")
		}
	}
}
