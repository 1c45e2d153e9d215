package server

import (
	"slices"
	"testing"

	"talker/server/talkertest"
)

var mccp3Client = talkertest.Options{Width: 120, Height: 40, MCCP3: true,
	TTypes: []string{"TINTIN++", "XTERM-256COLOR", "MTTS 271"}}

// TestMCCP3NegotiatedAndUsed: MCCP3 is offered; a client that agrees
// sends its registration, password included, and its says as one zlib
// stream, which the talker reads as typed; the client ends the stream
// (Z_FINISH, the Adler-32 checked) and goes on in plain text. A client
// that refuses gets the offer once and types plain.
func TestMCCP3NegotiatedAndUsed(t *testing.T) {
	ts := startServer(t)
	bob := ts.newPlayer("Bob")
	c := ts.dial(mccp3Client)
	c.Register("Zed", "secret-Zed")
	if !slices.Contains(c.Negotiations(), "WILL 87") {
		t.Fatalf("MCCP3 not offered: %v", c.Negotiations())
	}
	if started, _ := c.MCCP3Streams(); started != 1 {
		t.Fatalf("%d streams started", started)
	}
	c.Send("say squeezed")
	bob.Expect("Zed says 'squeezed'")
	c.StopMCCP3()
	c.Send("say plain")
	bob.Expect("Zed says 'plain'")
	if c.Closed() {
		t.Fatal("closed after the stream ended")
	}
	if n := countOf(bob.Negotiations(), "WILL 87"); n != 1 {
		t.Fatalf("a refusing client was offered MCCP3 %d times", n)
	}
}

// TestMCCP3OffWithMCCP: [telnet] mccp = false turns MCCP3 off with MCCP2.
func TestMCCP3OffWithMCCP(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.NoMCCP = true })
	c := ts.dial(mccp3Client)
	c.Register("Zed", "secret-Zed")
	if slices.Contains(c.Negotiations(), "WILL 87") {
		t.Fatalf("MCCP3 offered though turned off: %v", c.Negotiations())
	}
	if started, _ := c.MCCP3Streams(); started != 0 {
		t.Fatal("a stream started though MCCP3 is off")
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
