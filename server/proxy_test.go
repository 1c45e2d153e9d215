package server

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"talker/server/talkertest"
)

// v1 is a PROXY protocol version 1 header for a client at src.
func v1(src string) []byte {
	return []byte("PROXY TCP4 " + src + " 127.0.0.1 40000 4000\r\n")
}

// v2 is a version 2 header (PROXY, TCP over IPv4) for a client at src.
func v2(src string) []byte {
	b := append([]byte{}, v2Signature...)
	b = append(b, 0x21, 0x11, 0, 12)
	b = append(b, net.ParseIP(src).To4()...)
	b = append(b, 127, 0, 0, 1)
	b = binary.BigEndian.AppendUint16(b, 40000)
	b = binary.BigEndian.AppendUint16(b, 4000)
	return b
}

// TestBehindProxyTheRealAddressCounts: on a listener behind a proxy, the
// address in each connection's PROXY header (v1 or v2) is the one limits
// see, though every connection comes from the proxy's 127.0.0.1; bytes
// after the header are the client's. A listener not behind a proxy takes
// a PROXY header as ordinary input, and one behind a proxy closes a
// connection without a header.
func TestBehindProxyTheRealAddressCounts(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxPerAddress = 1 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeBehindProxy(ln)
	dial := func(pre []byte) *talkertest.Client {
		return talkertest.Dial(t, ln.Addr().String(), talkertest.Options{Width: 80, Height: 24, Preamble: pre})
	}
	// The header and the client's first line in one write.
	a := dial(append(v1("203.0.113.7"), "Alice\r\n"...))
	a.Expect("Create a new account called Alice?")
	b := dial(v2("198.51.100.9"))
	b.Expect("enter your name: ")
	c := dial(v1("203.0.113.7"))
	c.Expect("Too many connections from your address")
	c.WaitClosed()

	direct := ts.dial()
	direct.Expect("enter your name: ")
	direct.Send(strings.TrimSpace(string(v1("203.0.113.8"))))
	direct.Expect("Sorry") // a name it cannot be: ordinary input

	none := dial([]byte("hello\r\n"))
	none.WaitClosed()
	if strings.Contains(none.Text(), "name") {
		t.Fatalf("a connection without a PROXY header was served:\n%s", none.Text())
	}
	start := time.Now()
	silent := dial(nil)
	silent.WaitClosed()
	if d := time.Since(start); d > proxyHeaderWait+time.Second {
		t.Fatalf("a connection that sent nothing was held %v", d)
	}
}
