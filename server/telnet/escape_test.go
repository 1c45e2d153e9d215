package telnet

import (
	"bytes"
	"testing"
)

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb", "a\r\nb"},
		{"a\rb", "a\r\x00b"},
		{"\r", "\r\x00"},
		{"\r\r\n\n", "\r\x00\r\n\r\n"},
		{"\n\r", "\r\n\r\x00"},
		{"x\xffy\xff", "x\xff\xffy\xff\xff"},
		{"caf\u00e9\n", "caf\u00e9\r\n"},
	}
	for _, tt := range tests {
		if got := AppendEscaped([]byte(">"), tt.in); string(got) != ">"+tt.want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// What we send decodes back to the same lines.
		d := NewDecoder(0, 0)
		evs := d.Feed(AppendEscaped(AppendEscaped(nil, tt.in), "\n"), nil)
		var lines [][]byte
		for _, ev := range evs {
			lines = append(lines, ev.Line)
		}
		if got, want := bytes.Join(lines, []byte("\n")), normalise(tt.in); !bytes.Equal(got, want) {
			t.Errorf("%q decodes to %q, want %q", tt.in, got, want)
		}
	}
}

// normalise maps every line ending in s to "\n", as the Decoder sees it.
func normalise(s string) []byte {
	s2 := bytes.ReplaceAll([]byte(s), []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(s2, []byte("\r"), []byte("\n"))
}

func TestAppendSubneg(t *testing.T) {
	got := AppendSubneg(nil, OptNAWS, []byte{0, 255, 0, 24})
	want := []byte{IAC, SB, OptNAWS, 0, IAC, IAC, 0, 24, IAC, SE}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	d := NewDecoder(0, 0)
	if evs := d.Feed(got, nil); !eventsEqual(evs, []Event{sub(OptNAWS, b(0, 255, 0, 24))}) {
		t.Fatalf("decodes to %v", evs)
	}
}

func BenchmarkAppendEscaped(b *testing.B) {
	text := "Fred says, \"hello there, how is everyone doing today?\"\n"
	var buf []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		buf = AppendEscaped(buf[:0], text)
	}
}
