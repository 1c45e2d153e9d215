package cli

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// wsClient is a browser client as the tests see it: gobwas/ws's client side
// for the handshake, frames read and written here so that a test can send
// half a frame. It answers telnet negotiations as the page does (yes to
// ECHO, no to everything else) and records whether the talker asked it to
// hide the input (password mode).
type wsClient struct {
	t    *testing.T
	nc   net.Conn
	wmu  sync.Mutex
	mu   sync.Mutex
	cond *sync.Cond
	text strings.Builder
	seen int // Expect's cursor into text
	// closed is set when the WebSocket or its connection ended; closeCode
	// is the status of a Close frame received.
	closed    bool
	closeCode ws.StatusCode
	password  bool   // the talker said WILL ECHO (hide input)
	hidden    int    // times it did
	token     string // the last resume token the talker sent
}

func dialWeb(t *testing.T, addr string) *wsClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return upgradeWeb(t, nc, addr)
}

// upgradeWeb does the WebSocket handshake on nc.
func upgradeWeb(t *testing.T, nc net.Conn, addr string) *wsClient {
	t.Helper()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP{"Origin": []string{"http://" + addr}}}
	br, _, err := d.Upgrade(nc, mustURL(t, "ws://"+addr+"/ws"))
	if err != nil {
		nc.Close()
		t.Fatalf("WebSocket handshake: %v", err)
	}
	nc.SetDeadline(time.Time{})
	c := &wsClient{t: t, nc: nc}
	c.cond = sync.NewCond(&c.mu)
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	go c.readLoop(bufio.NewReader(r))
	t.Cleanup(func() { nc.Close() })
	return c
}

func (c *wsClient) readLoop(r *bufio.Reader) {
	defer func() {
		c.mu.Lock()
		c.closed = true
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return
		}
		if h.Masked || !h.Fin {
			c.t.Errorf("server frame masked or fragmented: %+v", h)
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			return
		}
		switch h.OpCode {
		case ws.OpText:
			c.mu.Lock()
			c.text.Write(p)
			c.cond.Broadcast()
			c.mu.Unlock()
		case ws.OpBinary:
			c.telnet(p)
		case ws.OpPing:
			c.frame(ws.OpPong, p)
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameData(p)
			c.mu.Lock()
			c.closeCode = code
			c.mu.Unlock()
			return
		}
	}
}

// telnet answers negotiations as the page does.
func (c *wsClient) telnet(p []byte) {
	const iac, will, wont, do, dont, echo = 255, 251, 252, 253, 254, 1
	if len(p) > 0 && p[0] == 0 { // a control message for the page
		if tok, ok := strings.CutPrefix(string(p[1:]), "resume "); ok {
			c.mu.Lock()
			c.token = tok
			c.mu.Unlock()
		}
		return
	}
	for i := 0; i+2 < len(p); i++ {
		if p[i] != iac {
			continue
		}
		verb, opt := p[i+1], p[i+2]
		switch {
		case verb == will && opt == echo:
			c.mu.Lock()
			c.password = true
			c.hidden++
			c.mu.Unlock()
			c.frame(ws.OpBinary, []byte{iac, do, echo})
		case verb == wont && opt == echo:
			c.mu.Lock()
			c.password = false
			c.mu.Unlock()
			c.frame(ws.OpBinary, []byte{iac, dont, echo})
		case verb == will:
			c.frame(ws.OpBinary, []byte{iac, dont, opt})
		case verb == do:
			c.frame(ws.OpBinary, []byte{iac, wont, opt})
		default:
			continue
		}
		i += 2
	}
}

// encode is one masked client frame.
func wsEncode(op ws.OpCode, payload []byte) []byte {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	var buf bytes.Buffer
	_ = ws.WriteHeader(&buf, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload)), Masked: true, Mask: mask})
	m := append([]byte(nil), payload...)
	ws.Cipher(m, mask, 0)
	buf.Write(m)
	return buf.Bytes()
}

func (c *wsClient) frame(op ws.OpCode, payload []byte) { c.raw(wsEncode(op, payload)) }

// raw writes bytes as they are: a frame, or part of one.
func (c *wsClient) raw(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Errorf("WebSocket write: %v", err)
	}
}

// Send types a line.
func (c *wsClient) Send(line string) { c.frame(ws.OpText, []byte(line)) }

// Expect waits until s appears after what earlier Expects consumed.
func (c *wsClient) Expect(s string) string {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		all := c.text.String()
		if i := strings.Index(all[c.seen:], s); i >= 0 {
			out := all[c.seen : c.seen+i+len(s)]
			c.seen += i + len(s)
			return out
		}
		if c.closed || time.Now().After(deadline) {
			c.t.Fatalf("web client: %q not seen (closed %v, code %d); after cursor:\n%s", s, c.closed, c.closeCode, all[c.seen:])
		}
		c.cond.Wait()
	}
}

// Text is everything the client has been sent, as text.
func (c *wsClient) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text.String()
}

func (c *wsClient) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *wsClient) Password() (on bool, times int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.password, c.hidden
}

// Register creates an account through the web client, checking that the
// password prompts hide what is typed.
func (c *wsClient) Register(name, password string) {
	c.t.Helper()
	c.Expect("enter your name: ")
	c.Send(name)
	c.Expect("(yes/no): ")
	c.Send("yes")
	c.Expect("Choose a password: ")
	if on, _ := c.waitPassword(true); !on {
		c.t.Fatal("web client: the password prompt does not hide the input")
	}
	c.Send(password)
	c.Expect("Type the password again: ")
	c.Send(password)
	c.Expect("Your account has been created.")
	c.Expect("Exits:")
	if on, _ := c.waitPassword(false); on {
		c.t.Fatal("web client: input still hidden after logging in")
	}
}

func (c *wsClient) waitPassword(want bool) (bool, int) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		on, n := c.Password()
		if on == want || time.Now().After(deadline) {
			return on, n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Token waits for a resume token from the talker, nudging it with telnet
// NOPs as the page does.
func (c *wsClient) Token() string {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		tok := c.token
		c.mu.Unlock()
		if tok != "" {
			return tok
		}
		if time.Now().After(deadline) {
			c.t.Fatal("web client: no resume token")
		}
		c.frame(ws.OpBinary, []byte{255, 241})
		time.Sleep(50 * time.Millisecond)
	}
}
