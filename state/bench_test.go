package state

import (
	"os"
	"testing"
)

// The session record's codec, on the golden record with every field set
// (testdata/wire/session-full.cbor): what a reboot does per session when
// it stages (encode), in the new generation (decode), and the angel's
// checkpoints (encode).
func benchRecord(b *testing.B) ([]byte, Session) {
	raw, err := os.ReadFile("testdata/wire/session-full.cbor")
	if err != nil {
		b.Fatal(err)
	}
	s, err := DecodeSession(VersionCBOR, raw)
	if err != nil {
		b.Fatal(err)
	}
	return raw, s
}

func BenchmarkEncodeSession(b *testing.B) {
	raw, s := benchRecord(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeSession(VersionCBOR, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSession(b *testing.B) {
	raw, _ := benchRecord(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeSession(VersionCBOR, raw); err != nil {
			b.Fatal(err)
		}
	}
}
