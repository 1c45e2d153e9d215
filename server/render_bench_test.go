package server

import (
	"bytes"
	"testing"
)

// BenchmarkRenderLine is what a line said in a room costs once per style
// of listener (lineCache renders it once per colour, width and screen
// reader setting, not once per listener): control characters removed,
// colour codes turned into ANSI, word wrap, IAC escaped, CRLF.
func BenchmarkRenderLine(b *testing.B) {
	s := benchSession()
	s.Player.ColourChosen, s.Player.Colour, s.Player.Wrap = true, true, 60
	msg := "^GAlice^N says 'a line of ordinary length for a talker, with ^Rsome colour^N in it, long enough to wrap once'"
	got := s.line(msg)
	// Asserted once, so that the benchmark cannot measure a path that
	// renders nothing.
	if !bytes.HasSuffix(got, []byte("\r\n")) || bytes.Count(got, []byte("\r\n")) != 2 ||
		!bytes.Contains(got, []byte("\x1b[")) || bytes.Contains(got, []byte("^G")) || !bytes.Contains(got, []byte("Alice")) {
		b.Fatalf("rendered %q: want two wrapped lines in ANSI colour", got)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		got = s.line(msg)
	}
	if len(got) == 0 {
		b.Fatal("nothing rendered")
	}
}
