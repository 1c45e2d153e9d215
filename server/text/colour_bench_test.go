package text

import "testing"

// Rendering a line's colour codes, once per style of listener (ANSI or
// plain) for each line said in a room.
var benchLine = "^RAlice^N says '^Ghello^N, this is a ^Ycoloured^N line of talker chat, ^Bnothing^N fancy'"

func BenchmarkColourize(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Colourize(benchLine)
	}
}

func BenchmarkStripColour(b *testing.B) {
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		_ = StripColour(benchLine)
	}
}
