package server

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talker/server/talkertest"
	"talker/state"
)

// decoratedGreeting has a frame and a line of ASCII art around its words.
const decoratedGreeting = "+==========================+\n|  Welcome to {talker}!   |\n+==========================+\n   /\\_/\\\n  ( -.- )\n   > ^ <\nType a name.\n"

func startWithGreeting(t *testing.T) *testServer {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, textDir, textGreeting)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(decoratedGreeting), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServerIn(t, dir)
}

// TestGreetingWaitsForScreenReader: the greeting is chosen by what the
// client says in the terminal-type cycle, which now comes first: a client
// with the MTTS screen-reader bit gets its words without the frame and the
// ASCII art; a client without it gets the greeting as written; both get
// IAC EOR after the name prompt, having agreed to EOR before it was sent.
func TestGreetingWaitsForScreenReader(t *testing.T) {
	ts := startWithGreeting(t)
	for _, tt := range []struct {
		name   string
		ttypes []string
		reader bool
	}{
		{"screen reader", []string{"MUDLET", "ANSI", "MTTS 65"}, true},
		{"sighted", []string{"MUDLET", "ANSI", "MTTS 1"}, false},
		{"no terminal type", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c := ts.dial(talkertest.Options{Width: 80, Height: 24, TTypes: tt.ttypes})
			got := c.Expect("enter your name: ")
			if took := time.Since(start); took >= greetWait {
				t.Errorf("a telnet client waited %v for the greeting", took)
			}
			framed := strings.Contains(got, "+====") || strings.Contains(got, "( -.- )")
			if framed == tt.reader || !strings.Contains(got, "Welcome to Talker!") || !strings.Contains(got, "Type a name.") {
				t.Errorf("greeting:\n%s", got)
			}
			c.Quiet(100 * time.Millisecond)
			raw := c.Raw()
			if !bytes.Contains(raw, []byte("enter your name: \xff\xef")) {
				t.Errorf("no IAC EOR after the name prompt: %q", raw)
			}
		})
	}
}

// TestGreetingBoundedForSilentClient: a client that answers no telnet at
// all (netcat) still gets the greeting, greetWait after connecting, with
// no telnet command after the opening.
func TestGreetingBoundedForSilentClient(t *testing.T) {
	ts := startWithGreeting(t)
	start := time.Now()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var got []byte
	buf := make([]byte, 4096)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.Contains(got, []byte("enter your name: ")) {
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("read: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	took := time.Since(start)
	if took < greetWait-50*time.Millisecond || took > greetWait+time.Second {
		t.Errorf("greeting after %v, want about %v", took, greetWait)
	}
	if i := bytes.Index(got, []byte("Welcome")); i < 0 || bytes.IndexByte(got[i:], 0xff) >= 0 {
		t.Errorf("greeting to a silent client: %q", got)
	}
}

// TestGreetingTypedAhead: a line typed before the greeting went out gets
// it first, then is handled.
func TestGreetingTypedAhead(t *testing.T) {
	ts := startWithGreeting(t)
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("quit\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	w, g := bytes.Index(got, []byte("Welcome to Talker!")), bytes.Index(got, []byte("Goodbye!"))
	if w < 0 || g < w {
		t.Errorf("greeting then goodbye, got %q", got)
	}
}

// TestGreetingPendingIsCarried: a session whose greeting is still waiting
// carries that in its checkpoint record, which needs state version 7.
func TestGreetingPendingIsCarried(t *testing.T) {
	s := &Session{ID: 7, GreetPending: true}
	if !s.needsVersion7() {
		t.Error("a pending greeting does not need version 7")
	}
	var r state.Session
	var p state.Player
	s.fillCheckpoint(&r, &p)
	b, err := state.EncodeSession(checkpointVersion, &r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := state.DecodeSession(checkpointVersion, b)
	if err != nil {
		t.Fatal(err)
	}
	if !restoredSession(&back).GreetPending {
		t.Error("the pending greeting was not carried")
	}
	s.GreetPending = false
	s.fillCheckpoint(&r, &p)
	if r.GreetPending || s.needsVersion7() {
		t.Error("a greeted session still carries a pending greeting")
	}
}
