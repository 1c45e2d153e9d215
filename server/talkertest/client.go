// Package talkertest is a scriptable telnet client for tests: it connects
// to a talker over real TCP, answers telnet negotiation like a MUD client,
// strips telnet commands from what it reads and lets a test wait for text.
// It is used by the talker's own tests and by those of the reboot, angel
// and crash features, which all talk to real sockets.
package talkertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Telnet bytes the client understands.
const (
	iac  = 255
	dont = 254
	do   = 253
	wont = 252
	will = 251
	sb   = 250
	ga   = 249
	se   = 240
	eor  = 239

	optEcho  = 1
	optSGA   = 3
	optTType = 24
	optEOR   = 25
	optNAWS  = 31
	optMCCP2 = 86
)

// Options describe how the client behaves as a telnet client.
type Options struct {
	Width, Height int      // answer DO NAWS with this size (0 = refuse NAWS)
	TTypes        []string // answers to TTYPE SEND, in order (nil = refuse TTYPE)
	RefuseAll     bool     // refuse every option (a dumb client)
	Timeout       time.Duration
	ReadBuffer    int // if set, the socket receive buffer, set before connecting
	// From, if set, is the loopback address to connect from (any
	// 127.x.y.z works on Linux), so that tests can be several addresses.
	From string
	// Preamble, if set, is written as soon as the connection is made,
	// before anything else (a PROXY protocol header, say).
	Preamble []byte
	// MCCP agrees to MCCP2 (DO COMPRESS2) and inflates the stream with
	// Go's zlib reader, as a MUD client does; InflateError reports any
	// error of it.
	MCCP bool
	// GMCP, if not nil, agrees to GMCP and lists these modules in
	// Core.Supports.Set ("Char", "Room", "Comm.Channel"); the messages
	// received are kept (gmcp.go).
	GMCP []string
	// MCCP3 agrees to MCCP3 and compresses what the client sends
	// (mccp3.go).
	MCCP3 bool
}

// Client is one test connection.
type Client struct {
	t    testing.TB
	conn net.Conn
	opts Options

	mu       sync.Mutex
	cond     *sync.Cond
	text     []byte // received text, telnet stripped, CR removed
	raw      []byte // every byte received
	pos      int    // Expect consumes text up to here
	closed   bool
	held     bool // Hold: the reader stops reading until Release
	prompts  int  // IAC GA / IAC EOR seen
	echoOff  bool // the server said WILL ECHO (input hidden)
	ttypeIdx int
	negs     []string // negotiation received, as "WILL 1", "DO 31" ...
	// MCCP2 (mccp.go): streams started and ended, and the first inflate
	// error.
	mccpStarts, mccpEnds int
	inflateErr           error
	// GMCP messages received, as "Package.Message body" (gmcp.go), and
	// how many ExpectGMCP has passed.
	gmcp    []string
	gmcpPos int
	zout    deflater // MCCP3 (mccp3.go)
}

// Dial connects to addr.
func Dial(t testing.TB, addr string, opts Options) *Client {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: opts.Timeout}
	if opts.From != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(opts.From)}
	}
	if opts.ReadBuffer > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, opts.ReadBuffer)
			})
		}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if len(opts.Preamble) > 0 {
		if _, err := nc.Write(opts.Preamble); err != nil {
			t.Fatalf("write preamble: %v", err)
		}
	}
	c := &Client{t: t, conn: nc, opts: opts}
	c.cond = sync.NewCond(&c.mu)
	go c.readLoop()
	t.Cleanup(func() { c.Close() })
	return c
}

// Close closes the connection.
func (c *Client) Close() { c.conn.Close() }

// Conn is the underlying connection.
func (c *Client) Conn() net.Conn { return c.conn }

func (c *Client) readLoop() {
	buf := make([]byte, 8192)
	var st parser
	// plain is the socket; zr, while an MCCP2 stream is open, inflates it
	// (mccp.go).
	plain := bufio.NewReader(c.conn)
	var zr io.ReadCloser
	for {
		c.mu.Lock()
		for c.held {
			c.cond.Wait()
		}
		c.mu.Unlock()
		var n int
		var err error
		if zr != nil {
			n, err = zr.Read(buf)
		} else {
			n, err = plain.Read(buf)
		}
		if n > 0 {
			c.mu.Lock()
			c.raw = append(c.raw, buf[:n]...)
			replies, used, start := st.feed(c, buf[:n])
			if len(replies) > 0 {
				// Answered before the test can see the text, as a real
				// client answers before its user can type: a line sent
				// on seeing a prompt never overtakes the answers.
				_ = c.writeOut(replies) // mccp3.go: compressed once MCCP3 is on
			}
			c.cond.Broadcast()
			c.mu.Unlock()
			if start {
				plain, zr, err = c.startInflating(buf[used:n], plain)
			}
		}
		if zr != nil && err != nil {
			zr, err = c.endInflating(err)
		}
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
	}
}

// parser strips telnet commands; called with c.mu held.
type parser struct {
	state  int // 0 data, 1 IAC, 2 verb, 3 SB, 4 SB-IAC
	verb   byte
	sbData []byte
}

func (p *parser) feed(c *Client, b []byte) (reply []byte, used int, mccpStart bool) {
	for i, x := range b {
		switch p.state {
		case 0:
			if x == iac {
				p.state = 1
			} else if x != '\r' && x != 0 {
				c.text = append(c.text, x)
			}
		case 1:
			switch x {
			case iac:
				c.text = append(c.text, iac)
				p.state = 0
			case will, wont, do, dont:
				p.verb, p.state = x, 2
			case sb:
				p.sbData, p.state = p.sbData[:0], 3
			case ga, eor:
				c.prompts++
				p.state = 0
			default:
				p.state = 0
			}
		case 2:
			if c.mccp3Offer(p.verb, x, reply) { // mccp3.go
				reply = nil
			} else {
				reply = append(reply, c.negotiate(p.verb, x)...)
			}
			p.state = 0
		case 3:
			if x == iac {
				p.state = 4
			} else {
				p.sbData = append(p.sbData, x)
			}
		case 4:
			if x == se {
				p.state = 0
				if c.opts.MCCP && len(p.sbData) == 1 && p.sbData[0] == optMCCP2 {
					// The rest is a zlib stream (mccp.go).
					return reply, i + 1, true
				}
				reply = append(reply, c.subneg(p.sbData)...)
			} else {
				p.sbData = append(p.sbData, x)
				p.state = 3
			}
		}
	}
	return reply, len(b), false
}

var verbName = map[byte]string{will: "WILL", wont: "WONT", do: "DO", dont: "DONT"}

func (c *Client) negotiate(verb, opt byte) []byte {
	c.negs = append(c.negs, fmt.Sprintf("%s %d", verbName[verb], opt))
	if verb == will && opt == optEcho {
		c.echoOff = true
	}
	if verb == wont && opt == optEcho {
		c.echoOff = false
	}
	if c.opts.RefuseAll {
		switch verb {
		case will:
			return []byte{iac, dont, opt}
		case do:
			return []byte{iac, wont, opt}
		}
		return nil
	}
	switch verb {
	case will:
		switch {
		case opt == optSGA || opt == optEOR || opt == optEcho:
			return []byte{iac, do, opt}
		case opt == optMCCP2 && c.opts.MCCP:
			return []byte{iac, do, opt}
		case opt == optGMCP && c.opts.GMCP != nil:
			return c.gmcpHello()
		}
		return []byte{iac, dont, opt}
	case wont:
		if opt == optEcho {
			return []byte{iac, dont, opt} // acknowledged, as clients do (RFC 1143), so it can be asked again
		}
	case do:
		switch {
		case opt == optNAWS && c.opts.Width > 0:
			return append([]byte{iac, will, optNAWS}, nawsBytes(c.opts.Width, c.opts.Height)...)
		case opt == optTType && len(c.opts.TTypes) > 0:
			return []byte{iac, will, optTType}
		}
		return []byte{iac, wont, opt}
	}
	return nil
}

func nawsBytes(w, h int) []byte {
	b := []byte{iac, sb, optNAWS}
	for _, v := range []byte{byte(w >> 8), byte(w), byte(h >> 8), byte(h)} {
		b = append(b, v)
		if v == iac {
			b = append(b, iac)
		}
	}
	return append(b, iac, se)
}

func (c *Client) subneg(data []byte) []byte {
	if len(data) >= 1 && data[0] == optGMCP {
		c.gmcp = append(c.gmcp, string(data[1:]))
		return nil
	}
	if len(data) >= 2 && data[0] == optTType && data[1] == 1 && len(c.opts.TTypes) > 0 {
		i := min(c.ttypeIdx, len(c.opts.TTypes)-1)
		c.ttypeIdx++
		out := []byte{iac, sb, optTType, 0}
		out = append(out, c.opts.TTypes[i]...)
		return append(out, iac, se)
	}
	return nil
}

// Hold stops reading from the socket (after the read in progress), so
// that output backs up in the server; Release starts again.
func (c *Client) Hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// Release undoes Hold.
func (c *Client) Release() {
	c.mu.Lock()
	c.held = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

// Resize sends a new window size.
func (c *Client) Resize(w, h int) { c.SendRaw(nawsBytes(w, h)) }

// Send types a line (CR LF appended).
func (c *Client) Send(line string) {
	c.t.Helper()
	c.SendRaw([]byte(line + "\r\n"))
}

// SendRaw writes bytes as they are.
func (c *Client) SendRaw(b []byte) {
	c.t.Helper()
	if err := c.writeOut(b); err != nil { // mccp3.go
		c.t.Fatalf("write: %v", err)
	}
}

// Expect waits until want appears in the text received after the previous
// match, and returns the text up to and including it.
func (c *Client) Expect(want string) string {
	c.t.Helper()
	got, ok := c.wait(want, c.opts.Timeout)
	if !ok {
		c.t.Fatalf("timed out waiting for %q; got since last match:\n%s", want, got)
	}
	return got
}

// TryExpect is Expect that reports failure instead of failing the test.
func (c *Client) TryExpect(want string, timeout time.Duration) (string, bool) {
	return c.wait(want, timeout)
}

func (c *Client) wait(want string, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if i := bytes.Index(c.text[c.pos:], []byte(want)); i >= 0 {
			end := c.pos + i + len(want)
			got := string(c.text[c.pos:end])
			c.pos = end
			return got, true
		}
		if c.closed || !time.Now().Before(deadline) {
			return string(c.text[c.pos:]), false
		}
		c.cond.Wait()
	}
}

// Quiet waits for d and returns the text received meanwhile (after the last
// match), consuming it. Use it to assert that something did NOT arrive.
func (c *Client) Quiet(d time.Duration) string {
	time.Sleep(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	got := string(c.text[c.pos:])
	c.pos = len(c.text)
	return got
}

// Text returns everything received so far (telnet stripped).
func (c *Client) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.text)
}

// Raw returns every byte received so far.
func (c *Client) Raw() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.raw...)
}

// Negotiations returns the negotiation commands received, e.g. "WILL 1".
func (c *Client) Negotiations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.negs...)
}

// EchoOff reports whether the server has asked the client to hide input.
func (c *Client) EchoOff() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.echoOff
}

// Prompts counts prompt marks (IAC GA or IAC EOR) received.
func (c *Client) Prompts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prompts
}

// WaitClosed waits for the server to close the connection.
func (c *Client) WaitClosed() {
	c.t.Helper()
	deadline := time.Now().Add(c.opts.Timeout)
	timer := time.AfterFunc(c.opts.Timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.closed {
		if !time.Now().Before(deadline) {
			c.t.Fatalf("connection not closed; got:\n%s", c.text[c.pos:])
		}
		c.cond.Wait()
	}
}

// Closed reports whether the server has closed the connection.
func (c *Client) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Register creates a new account through the login exchange and waits
// until the player is in the world. It returns the transcript.
func (c *Client) Register(name, password string) string {
	c.t.Helper()
	var out strings.Builder
	out.WriteString(c.Expect("enter your name: "))
	c.Send(name)
	out.WriteString(c.Expect("(yes/no): "))
	c.Send("yes")
	out.WriteString(c.Expect("Choose a password: "))
	c.Send(password)
	out.WriteString(c.Expect("Type the password again: "))
	c.Send(password)
	out.WriteString(c.Expect("Your account has been created."))
	out.WriteString(c.Expect("Exits:"))
	return out.String()
}

// Login logs in to an existing account and waits until the player is in
// the world. It returns the transcript.
func (c *Client) Login(name, password string) string {
	c.t.Helper()
	var out strings.Builder
	out.WriteString(c.Expect("enter your name: "))
	c.Send(name)
	out.WriteString(c.Expect("Password: "))
	c.Send(password)
	out.WriteString(c.Expect("Welcome"))
	out.WriteString(c.Expect("Exits:"))
	return out.String()
}

// Lines splits text into lines, dropping empty ones.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
