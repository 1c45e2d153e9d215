package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"talker/server/talkertest"
)

var mccpClient = talkertest.Options{Width: 120, Height: 40, MCCP: true,
	TTypes: []string{"TINTIN++", "XTERM-256COLOR", "MTTS 271"}}

// TestMCCPNegotiatedAndUsed: MCCP2 is offered; a client that agrees gets
// the rest of the session as one zlib stream (its lines whole, each as it
// is said); DONT COMPRESS2 ends the stream properly (final block and the
// right Adler-32) and the session goes on in plain text.
func TestMCCPNegotiatedAndUsed(t *testing.T) {
	ts := startServer(t)
	bob := ts.newPlayer("Bob")
	c := ts.dial(mccpClient)
	c.Register("Zed", "secret-Zed")
	if !slices.Contains(c.Negotiations(), "WILL 86") {
		t.Fatalf("MCCP2 not offered: %v", c.Negotiations())
	}
	if started, _ := c.MCCPStreams(); started != 1 {
		t.Fatalf("%d streams started", started)
	}
	for i := range 20 {
		bob.Send(fmt.Sprintf("say line %d", i))
		c.Expect(fmt.Sprintf("Bob says 'line %d'", i))
	}
	c.StopMCCP()
	time.Sleep(100 * time.Millisecond)
	bob.Send("say after the stream")
	c.Expect("Bob says 'after the stream'")
	if started, ended := c.MCCPStreams(); started != 1 || ended != 1 {
		t.Fatalf("streams started %d, ended %d", started, ended)
	}
	if err := c.InflateError(); err != nil {
		t.Fatalf("inflate: %v", err)
	}
	if !slices.Contains(c.Negotiations(), "WONT 86") {
		t.Fatalf("DONT COMPRESS2 not answered: %v", c.Negotiations())
	}
	// Bob, who refused it, has plain text all along.
	if started, _ := bob.MCCPStreams(); started != 0 || strings.Contains(bob.Text(), "\x78\x01") {
		t.Fatal("a client that refused MCCP2 got a stream")
	}
}

// TestMCCPCanBeTurnedOff: with [telnet] mccp = false it is not offered,
// and MSSP says so.
func TestMCCPCanBeTurnedOff(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.NoMCCP = true })
	c := ts.dial(mccpClient)
	c.Register("Zed", "secret-Zed")
	if slices.Contains(c.Negotiations(), "WILL 86") {
		t.Fatalf("MCCP2 offered though turned off: %v", c.Negotiations())
	}
	if started, _ := c.MCCPStreams(); started != 0 {
		t.Fatal("compressed though turned off")
	}
	c.Send("quit")
	m := ts.dial(talkertest.Options{})
	m.Expect("enter your name: ")
	m.Send("MSSP-REQUEST")
	if got := m.Expect("MSSP-REPLY-END"); !strings.Contains(got, "MCCP\t0") {
		t.Fatalf("MSSP with MCCP off: %q", got)
	}
}
