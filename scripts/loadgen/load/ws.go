package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// Clients over WebSocket (-ws): the talker's browser client door. A
// wsNetConn makes an upgraded connection look like a telnet stream to the
// rest of the load generator: every Write goes as one masked binary frame,
// whose payload the talker takes as raw telnet input (a line with its
// CR LF, or a single byte when typing bytewise, or a negotiation); every
// frame read, text or telnet commands, is handed on as its payload. So
// the same telnet client, token scanner and measurements serve both doors.

// dialWS connects to the talker's web listener and upgrades to a
// WebSocket at /ws.
func dialWS(d *net.Dialer, ctx context.Context, addr string) (net.Conn, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return upgradeWS(nc, addr, "http")
}

// upgradeWS does the WebSocket upgrade on nc (plain, or TLS: scheme is the
// page's, "http" or "https", for the Origin).
func upgradeWS(nc net.Conn, addr, scheme string) (net.Conn, error) {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	dialer := ws.Dialer{Header: ws.HandshakeHeaderHTTP{"Origin": []string{scheme + "://" + addr}}}
	br, _, err := dialer.Upgrade(nc, &url.URL{Scheme: "ws", Host: addr, Path: "/ws"})
	if err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	var r io.Reader = nc
	if br != nil && br.Buffered() > 0 {
		r = io.MultiReader(br, nc)
	}
	return &wsNetConn{Conn: nc, r: bufio.NewReaderSize(r, 8192)}, nil
}

// wsNetConn is a net.Conn carrying a telnet stream in WebSocket frames.
type wsNetConn struct {
	net.Conn
	r       *bufio.Reader
	payload []byte // the rest of the current frame's payload, not yet read
	wmu     sync.Mutex
}

func (c *wsNetConn) Read(p []byte) (int, error) {
	for len(c.payload) == 0 {
		h, err := ws.ReadHeader(c.r)
		if err != nil {
			return 0, err
		}
		buf := make([]byte, h.Length)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return 0, err
		}
		if h.Masked {
			ws.Cipher(buf, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary, ws.OpContinuation:
			c.payload = buf
		case ws.OpPing:
			if err := c.frame(ws.OpPong, buf); err != nil {
				return 0, err
			}
		case ws.OpClose:
			_ = c.frame(ws.OpClose, buf)
			return 0, io.EOF
		}
	}
	n := copy(p, c.payload)
	c.payload = c.payload[n:]
	return n, nil
}

func (c *wsNetConn) Write(p []byte) (int, error) {
	if err := c.frame(ws.OpBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// frame writes one masked frame in one write.
func (c *wsNetConn) frame(op ws.OpCode, payload []byte) error {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	var buf bytes.Buffer
	if err := ws.WriteHeader(&buf, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload)), Masked: true, Mask: mask}); err != nil {
		return err
	}
	start := buf.Len()
	buf.Write(payload)
	ws.Cipher(buf.Bytes()[start:], mask, 0)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.Conn.Write(buf.Bytes())
	return err
}
