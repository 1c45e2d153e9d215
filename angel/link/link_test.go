package link

import (
	"os"
	"testing"
)

func TestParseStartTime(t *testing.T) {
	// A command name with spaces and parentheses: field positions are
	// counted after the last ')'.
	line := "1234 (evil) name (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	if got, ok := parseStartTime(line); !ok || got != 987654 {
		t.Errorf("start time %d %v, want 987654", got, ok)
	}
	zombie := "1234 (x) Z 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 0 0"
	if _, ok := parseStartTime(zombie); ok {
		t.Error("a zombie counted as alive")
	}
	if _, ok := parseStartTime("garbage"); ok {
		t.Error("garbage parsed")
	}
	if st, ok := StartTime(os.Getpid()); !ok || st == 0 {
		t.Errorf("own start time: %d %v", st, ok)
	}
	if _, ok := StartTime(1 << 30); ok {
		t.Error("a pid that cannot exist is alive")
	}
}
