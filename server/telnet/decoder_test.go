package telnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Shorthands for building events in tables.
func line(s string) Event         { return Event{Kind: EventLine, Line: []byte(s)} }
func trunc(s string, n int) Event { return Event{Kind: EventLine, Line: []byte(s), Truncated: n} }
func neg(verb, opt byte) Event    { return Event{Kind: EventNegotiation, Verb: verb, Option: opt} }
func sub(opt byte, data string) Event {
	return Event{Kind: EventSubneg, Option: opt, Data: []byte(data)}
}
func cmd(verb byte) Event             { return Event{Kind: EventCommand, Verb: verb} }
func cat(parts ...string) []byte      { return []byte(strings.Join(parts, "")) }
func b(bs ...byte) string             { return string(bs) }
func eventsString(evs []Event) string { return fmt.Sprint(evs) }
func eventEqual(x, y Event) bool {
	return x.Kind == y.Kind && x.Truncated == y.Truncated && x.Verb == y.Verb &&
		x.Option == y.Option && bytes.Equal(x.Line, y.Line) && bytes.Equal(x.Data, y.Data)
}

func eventsEqual(x, y []Event) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !eventEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// roundTrip serialises d through encoding/json and back, as a reboot does.
func roundTrip(t testing.TB, d Decoder) Decoder {
	t.Helper()
	j, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out Decoder
	if err := json.Unmarshal(j, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeAllWays feeds in whole, split at every offset (plain and with a JSON
// round trip of the Decoder at the split), and one byte at a time, and
// fails unless every way yields want.
func decodeAllWays(t *testing.T, maxLine, maxSB int, in []byte, want []Event) {
	t.Helper()
	check := func(how string, got []Event) {
		t.Helper()
		if !eventsEqual(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", how, eventsString(got), eventsString(want))
		}
		for _, ev := range got {
			if ev.Kind == EventLine && ev.Line == nil || ev.Kind == EventSubneg && ev.Data == nil {
				t.Fatalf("%s: nil slice in %v", how, ev)
			}
		}
	}
	d := NewDecoder(maxLine, maxSB)
	check("whole", d.Feed(in, nil))
	if d.Pending() {
		t.Fatalf("whole: still pending: %+v", d)
	}
	for k := 1; k < len(in); k++ {
		d := NewDecoder(maxLine, maxSB)
		evs := d.Feed(in[:k], nil)
		check(fmt.Sprintf("split at %d", k), d.Feed(in[k:], evs))

		d = NewDecoder(maxLine, maxSB)
		evs = d.Feed(in[:k], nil)
		d = roundTrip(t, d)
		check(fmt.Sprintf("split at %d via JSON", k), d.Feed(in[k:], evs))
	}
	d = NewDecoder(maxLine, maxSB)
	var evs []Event
	for i := range in {
		evs = d.Feed(in[i:i+1], evs)
	}
	check("byte at a time", evs)
}

func TestDecoderGolden(t *testing.T) {
	tests := []struct {
		name           string
		maxLine, maxSB int
		in             []byte
		want           []Event
	}{
		{"line endings", 0, 0, cat("crlf\r\n", "lf\n", "cr\r", "crnul\r\x00", "last\r\n"),
			[]Event{line("crlf"), line("lf"), line("cr"), line("crnul"), line("last")}},
		{"cr cr lf is two lines", 0, 0, cat("a\r\r\nb\n"), []Event{line("a"), line(""), line("b")}},
		{"lf cr is two lines", 0, 0, cat("a\n\rb\r\n"), []Event{line("a"), line(""), line("b")}},
		{"character mode typing", 0, 0, cat("say helx\x7flo\r\x00", "say hi\b\bho\r\n", "x\x7f\x7f\r\x00", "\r\n"),
			[]Event{line("say hello"), line("say ho"), line(""), line("")}},
		{"empty lines", 0, 0, cat("\r\n\r\n\n\r\x00\r"),
			[]Event{line(""), line(""), line(""), line(""), line("")}},
		{"nul not after cr is data", 0, 0, cat("a\x00b\n"), []Event{line("a\x00b")}},
		{"iac iac is 0xff", 0, 0, cat("x", b(IAC, IAC), "y", b(IAC, IAC), "\n"), []Event{line("x\xffy\xff")}},
		{"negotiation mid-line", 0, 0, cat("he", b(IAC, WILL, OptNAWS), "l", b(IAC, DO, OptTType), "lo\r\n"),
			[]Event{neg(WILL, OptNAWS), neg(DO, OptTType), line("hello")}},
		{"all verbs", 0, 0, cat(b(IAC, WILL, 1, IAC, WONT, 3, IAC, DO, 25, IAC, DONT, 255)),
			[]Event{neg(WILL, 1), neg(WONT, 3), neg(DO, 25), neg(DONT, 255)}},
		{"naws with doubled 255", 0, 0, cat(b(IAC, SB, OptNAWS, 0, IAC, IAC, 0, 24, IAC, SE), "x\n"),
			[]Event{sub(OptNAWS, b(0, 255, 0, 24)), line("x")}},
		{"ttype is", 0, 0, cat(b(IAC, SB, OptTType, ttypeIS), "MUDLET", b(IAC, SE)),
			[]Event{sub(OptTType, "\x00MUDLET")}},
		{"empty subneg", 0, 0, cat(b(IAC, SB, OptMCCP2, IAC, SE)), []Event{sub(OptMCCP2, "")}},
		{"subneg overflow then resync", 0, 4,
			cat("a", b(IAC, SB, OptTType, ttypeIS), "ABCDEFG", b(IAC, IAC, IAC, SE), "b\n",
				b(IAC, SB, OptTType), "OK!!", b(IAC, SE)),
			[]Event{line("ab"), sub(OptTType, "OK!!")}},
		{"subneg ended by other command", 0, 0, cat(b(IAC, SB, OptTType, 0), "X", b(IAC, WILL, 1), "y\n"),
			[]Event{sub(OptTType, "\x00X"), neg(WILL, 1), line("y")}},
		{"subneg ended by command after overflow", 0, 2, cat(b(IAC, SB, 24), "XYZ", b(IAC, NOP), "y\n"),
			[]Event{cmd(NOP), line("y")}},
		{"subneg ended by new subneg", 0, 0, cat(b(IAC, SB, 24, 'a', IAC, SB, 31, 'b', IAC, SE)),
			[]Event{sub(24, "a"), sub(31, "b")}},
		{"line over MaxLine", 5, 0, cat("abcdefghij\n", "abcde\n", "abc", b(IAC, IAC), "de\r\n"),
			[]Event{trunc("abcde", 5), line("abcde"), trunc("abc\xffd", 1)}},
		{"erase while truncated", 3, 0, cat("abcde\b\b\bx\n"), []Event{line("abx")}},
		{"backspace removes a rune", 0, 0, cat("caf\u00e9\bx\n", "\u65e5\u672c\x7f\n", "\b\x7fok\n", "a\xff\xff\b\n"),
			[]Event{line("cafx"), line("\u65e5"), line("ok"), line("a")}},
		{"invalid utf-8 erased bytewise", 0, 0, cat("a\xe6\x97\x7f\n"), []Event{line("a\xe6")}},
		{"iac ec and el", 0, 0, cat("ab\u00e9", b(IAC, EC), "d\n", "junk", b(IAC, EL), "xy\n", b(IAC, EC, IAC, EL), "\n"),
			[]Event{line("abd"), line("xy"), line("")}},
		{"commands", 0, 0, cat("a", b(IAC, GA, IAC, NOP, IAC, AYT, IAC, IP, IAC, BRK, IAC, AO, IAC, DM, IAC, EOR, IAC, 7), "b\n"),
			[]Event{cmd(GA), cmd(NOP), cmd(AYT), cmd(IP), cmd(BRK), cmd(AO), cmd(DM), cmd(EOR), cmd(7), line("ab")}},
		{"iac se without sb", 0, 0, cat("a", b(IAC, SE), "b\n"), []Event{cmd(SE), line("ab")}},
		{"cr then command then lf", 0, 0, cat("a\r", b(IAC, NOP), "\nb\n"), []Event{line("a"), cmd(NOP), line("b")}},
		{"garbage", 0, 0, cat("\x01\x1b[31m\xfe\xc0\x80", b(IAC, SB, IAC, IAC, SE, IAC, SE), "\x07\n"),
			[]Event{sub(255, ""), cmd(SE), line("\x01\x1b[31m\xfe\xc0\x80\x07")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decodeAllWays(t, tt.maxLine, tt.maxSB, tt.in, tt.want)
		})
	}
}

// TestDecoderResume checks that a Decoder serialised in the middle of each
// kind of sequence holds what it should and resumes correctly.
func TestDecoderResume(t *testing.T) {
	tests := []struct {
		name  string
		first []byte
		rest  []byte
		mode  Mode
		want  []Event
	}{
		{"mid-line", cat("hel"), cat("lo\n"), ModeData, []Event{line("hello")}},
		{"mid-iac", cat("a", b(IAC)), cat(b(IAC), "\n"), ModeIAC, []Event{line("a\xff")}},
		{"mid-verb", cat(b(IAC, WILL)), cat(b(OptNAWS)), ModeVerb, []Event{neg(WILL, OptNAWS)}},
		{"mid-sb-option", cat(b(IAC, SB)), cat(b(OptNAWS, 0, 80, 0, 24, IAC, SE)), ModeSBOption, []Event{sub(OptNAWS, b(0, 80, 0, 24))}},
		{"mid-sb", cat(b(IAC, SB, OptNAWS, 0)), cat(b(80, 0, 24, IAC, SE)), ModeSB, []Event{sub(OptNAWS, b(0, 80, 0, 24))}},
		{"mid-sb-iac", cat(b(IAC, SB, OptNAWS, 0, IAC)), cat(b(IAC, 0, 24, IAC, SE)), ModeSBIAC, []Event{sub(OptNAWS, b(0, 255, 0, 24))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(80, 16)
			if evs := d.Feed(tt.first, nil); len(evs) != 0 {
				t.Fatalf("early events %v", evs)
			}
			if !d.Pending() || d.Mode != tt.mode {
				t.Fatalf("pending=%v mode=%d, want mode %d", d.Pending(), d.Mode, tt.mode)
			}
			d2 := roundTrip(t, d)
			if d2.MaxLine != 80 || d2.MaxSB != 16 {
				t.Fatalf("limits lost: %+v", d2)
			}
			if got := d2.Feed(tt.rest, nil); !eventsEqual(got, tt.want) {
				t.Fatalf("got %v want %v", got, tt.want)
			}
		})
	}
	// A CR at the end of a read must still swallow the LF after a reboot.
	d := NewDecoder(0, 0)
	d.Feed([]byte("a\r"), nil)
	if d.Pending() || !d.CR {
		t.Fatalf("after CR: %+v", d)
	}
	d = roundTrip(t, d)
	if got := d.Feed([]byte("\nb\n"), nil); !eventsEqual(got, []Event{line("b")}) {
		t.Fatalf("got %v", got)
	}
}

func TestDecoderEventsAreCopies(t *testing.T) {
	d := NewDecoder(0, 0)
	evs := d.Feed(cat("one\n", b(IAC, SB, 24, 'x', IAC, SE)), nil)
	evs = d.Feed(cat("two\n", b(IAC, SB, 24, 'y', IAC, SE)), evs)
	want := []Event{line("one"), sub(24, "x"), line("two"), sub(24, "y")}
	if !eventsEqual(evs, want) {
		t.Fatalf("got %v", evs)
	}
}

func TestDecoderZeroValueIsBounded(t *testing.T) {
	var d Decoder
	evs := d.Feed(append(bytes.Repeat([]byte("x"), DefaultMaxLine+10), '\n'), nil)
	if len(evs) != 1 || len(evs[0].Line) != DefaultMaxLine || evs[0].Truncated != 10 {
		t.Fatalf("got %d events, line %d, truncated %d", len(evs), len(evs[0].Line), evs[0].Truncated)
	}
}

func TestDecoderNoPerByteAllocs(t *testing.T) {
	d := NewDecoder(1<<20, 1<<10)
	chunk := bytes.Repeat([]byte("some chat text \x08"), 64)
	sb := cat(b(IAC, SB, OptNAWS, 0, 80, 0), strings.Repeat("z", 100))
	d.Feed(bytes.Repeat(chunk, 10), nil) // warm the buffers
	d.Feed(sb, nil)
	d.Line = d.Line[:0]
	allocs := testing.AllocsPerRun(100, func() {
		d.Feed(chunk, nil)
		d.SB = d.SB[:0]
		d.Feed(sb[3:], nil)
		d.Line = d.Line[:0]
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run without events", allocs)
	}
}

func BenchmarkDecoderFeed(b *testing.B) {
	// Typical talker input: short lines, an occasional NOP keepalive or NAWS.
	var in []byte
	for i := range 50 {
		in = append(in, fmt.Sprintf("say hello there everyone, how is it going? %d\r\n", i)...)
		if i%10 == 0 {
			in = append(in, IAC, NOP)
		}
		if i%25 == 0 {
			in = append(in, IAC, SB, OptNAWS, 0, 120, 0, 40, IAC, SE)
		}
	}
	d := NewDecoder(0, 0)
	// Asserted once, so that the benchmark cannot measure a decoder that
	// finds nothing: 50 lines.
	evs := d.Feed(in, nil)
	if lines := countLines(evs); lines != 50 {
		b.Fatalf("%d lines decoded of 50", lines)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		evs = d.Feed(in, evs[:0])
	}
}

func countLines(evs []Event) int {
	n := 0
	for _, e := range evs {
		if e.Kind == EventLine {
			n++
		}
	}
	return n
}
