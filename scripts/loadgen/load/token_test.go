package load

import (
	"reflect"
	"strings"
	"testing"
)

func scanPieces(pieces ...string) []token {
	var s tokenScanner
	var out []token
	for _, p := range pieces {
		out = s.scan([]byte(p), out)
	}
	return out
}

func TestTokenRoundTrip(t *testing.T) {
	line := string(appendToken([]byte("Lgaaab says '"), 12, 345)) + " the quick brown fox'\n"
	if got := scanPieces(line); !reflect.DeepEqual(got, []token{{12, 345}}) {
		t.Fatalf("got %v", got)
	}
}

func TestTokenSplitAcrossReads(t *testing.T) {
	text := "You say 't:7:0;'\nLgaaab says 't:1:23; x'\nLgaaac says 't:4000:999999;'\n"
	want := []token{{7, 0}, {1, 23}, {4000, 999999}}
	// Every split point, and byte by byte.
	for i := 0; i <= len(text); i++ {
		if got := scanPieces(text[:i], text[i:]); !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d: got %v", i, got)
		}
	}
	var pieces []string
	for i := range text {
		pieces = append(pieces, text[i:i+1])
	}
	if got := scanPieces(pieces...); !reflect.DeepEqual(got, want) {
		t.Fatalf("byte by byte: got %v", got)
	}
}

func TestTokenSplitByWordWrap(t *testing.T) {
	// The talker's wrap cuts a word longer than the line with a newline,
	// and may indent the continuation.
	for _, text := range []string{
		"Lgaaab says 't:12:3\n45;'",
		"Lgaaab says 't:1\n2:345;'",
		"Lgaaab says 't\n:12:345;'",
		"Lgaaab says 't:12:345\n;'",
		"Lgaaab says\n't:12\n   :345;'",
		"Lgaaab says 't:12:3\r\n45;'",
	} {
		for i := 0; i <= len(text); i++ {
			got := scanPieces(text[:i], text[i:])
			if !reflect.DeepEqual(got, []token{{12, 345}}) {
				t.Fatalf("%q split at %d: got %v", text, i, got)
			}
		}
	}
}

func TestTokenNotTokens(t *testing.T) {
	for _, text := range []string{
		"Exits: garden, lounge.",
		"It is 12:30; tea time.",
		"t:;", "t::5;", "t:5:;", "t:5;", "t:x:1;", "t:1:2", "t:1:2x;",
		"t:1234567890:1;", // too many digits
		"[ Lgaaat has connected ]",
	} {
		if got := scanPieces(text); len(got) != 0 {
			t.Errorf("%q: found %v", text, got)
		}
	}
	// A false start does not hide a real token right after it.
	if got := scanPieces("tt:1:2;", "t:t:3:4;", "ttt:5:6;"); !reflect.DeepEqual(got, []token{{1, 2}, {3, 4}, {5, 6}}) {
		t.Errorf("after false starts: got %v", got)
	}
	if got := scanPieces("t:1:2;t:3:4;"); !reflect.DeepEqual(got, []token{{1, 2}, {3, 4}}) {
		t.Errorf("adjacent: got %v", got)
	}
}

func TestTokenScanDoesNotAllocate(t *testing.T) {
	text := []byte(strings.Repeat("Lgaaab says 't:1:23; the quick brown fox'\r\n", 50))
	var s tokenScanner
	out := make([]token, 0, 64)
	allocs := testing.AllocsPerRun(100, func() { out = s.scan(text, out[:0]) })
	if allocs != 0 {
		t.Errorf("scan allocates %v times per call", allocs)
	}
}

func TestClientName(t *testing.T) {
	for i, want := range map[int]string{0: "Lgaaaa", 1: "Lgaaab", 2: "Lgaaad", 24: "Lgaabb", 279840: "Lgzzzz", 279841: "Lgbaaaa"} {
		if got := clientName("Lg", i); got != want {
			t.Errorf("clientName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, a := range []string{"127.0.0.1:4000", "127.3.2.1:23", "[::1]:4000", "localhost:4000"} {
		if err := CheckLoopback(a); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
	for _, a := range []string{"10.0.0.1:4000", "192.168.1.2:23", "8.8.8.8:53", "example.com:23", "[2001:db8::1]:23", "0.0.0.0:4000", "nonsense"} {
		if err := CheckLoopback(a); err == nil {
			t.Errorf("%s accepted", a)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(int64(i) * 1e6) // 1..1000 ms
	}
	var s histSnap
	s.merge(&h)
	for _, c := range []struct {
		q    float64
		want float64
	}{{0.5, 500e6}, {0.9, 900e6}, {0.99, 990e6}} {
		got := float64(s.quantile(c.q))
		if got < c.want*0.88 || got > c.want*1.12 {
			t.Errorf("q%v = %v, want about %v", c.q, got, c.want)
		}
	}
}
