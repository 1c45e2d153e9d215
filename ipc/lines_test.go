package ipc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLinesRoundTripAndLimit(t *testing.T) {
	var buf bytes.Buffer
	type msg struct{ A string }
	for _, m := range []msg{{"one"}, {"two"}} {
		if err := WriteJSON(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	if buf.String() != "{\"A\":\"one\"}\n{\"A\":\"two\"}\n" {
		t.Fatalf("wire: %q", buf.String())
	}
	r := NewLineReader(&buf, 0)
	for _, want := range []string{"one", "two"} {
		var m msg
		if err := r.ReadJSON(&m); err != nil || m.A != want {
			t.Fatalf("read %q, %v; want %q", m.A, err, want)
		}
	}
	long := NewLineReader(strings.NewReader(`{"A":"`+strings.Repeat("x", 100)+"\"}\n"), 32)
	var m msg
	if err := long.ReadJSON(&m); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("a line over the limit: %v", err)
	}
	if err := NewLineReader(strings.NewReader("not json\n"), 0).ReadJSON(&m); err == nil {
		t.Error("garbage accepted")
	}
}
