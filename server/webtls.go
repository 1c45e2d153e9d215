package server

import (
	"errors"
	"net"

	"talker/server/tlsrecord"
)

// The browser client over HTTPS (issue 12): served on the TLS ports
// themselves. A client that offers the ALPN protocol "http/1.1" in its
// handshake (every browser does, and curl) is a browser: its HTTP request
// is read, and answered, through the talker's own TLS record layer
// (package tlsrecord), exactly as web.go answers one on a plain socket: the
// page, or a WebSocket upgrade. After an upgrade the connection is an
// ordinary conn.Conn that is both TLS and WebSocket (socket -> TLS records
// -> WebSocket frames -> telnet), so a reboot carries the TLS session and
// the WebSocket framing exactly, and the angel's crash recovery continues
// both where the connection was idle since its last checkpoint (the TLS
// rule, conn/tls.go, is the stricter of the two). A client that offers
// no ALPN protocol, or others only (Mudlet, openssl s_client, TinTin++),
// is a telnet client, as before.
//
// One port for both means one certificate and one address to open in a
// firewall, and https://HOST:PORT/ works on every TLS port an admin lists.

// webALPN is the ALPN protocol that makes a TLS connection a browser's.
// (Not "h2": the talker speaks HTTP/1.1 only, which is all a WebSocket
// upgrade needs.)
const webALPN = "http/1.1"

// tlsWebConn is an HTTPS connection while its request is read and
// answered: reads and writes go through the TLS session on the socket.
// It is used by one goroutine at a time (serveWebConn's).
type tlsWebConn struct {
	*net.TCPConn
	s     *tlsrecord.Session
	raw   [16 << 10]byte // one read from the socket (a record is at most 16 KiB + 256)
	plain []byte         // decrypted bytes not yet returned by Read
	err   error          // the session cannot be read any more
}

// serveWebTLS answers a browser's HTTPS request on tc, whose handshake
// ended in st.
func (s *Server) serveWebTLS(tc *net.TCPConn, st tlsrecord.State) {
	sess, err := tlsrecord.New(st)
	if err != nil {
		s.cfg.Log.Error().Err(err).Msg("TLS session refused")
		tc.Close()
		return
	}
	s.serveWebConn(&tlsWebConn{TCPConn: tc, s: sess}, "")
}

// Read returns decrypted application data.
func (c *tlsWebConn) Read(p []byte) (int, error) {
	for len(c.plain) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, rerr := c.TCPConn.Read(c.raw[:])
		if n > 0 {
			var ferr error
			c.plain, ferr = c.s.Feed(c.plain, c.raw[:n])
			if ferr != nil {
				if errors.Is(ferr, tlsrecord.ErrCloseNotify) {
					ferr = net.ErrClosed
				}
				c.err = ferr
			}
		}
		if rerr != nil && c.err == nil {
			c.err = rerr
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

// Write sends b as TLS records.
func (c *tlsWebConn) Write(b []byte) (int, error) { return c.s.Write(c.TCPConn, b) }

// CloseWrite ends the response: close_notify, then the TCP half-close.
func (c *tlsWebConn) CloseWrite() error {
	_ = c.s.Close(c.TCPConn)
	return c.TCPConn.CloseWrite()
}

// webSocketOf returns the socket of a connection whose WebSocket upgrade
// has just been answered, and its TLS state for an HTTPS one (nil for
// plain HTTP). An HTTPS connection with decrypted bytes not yet read is
// refused, as web.go refuses buffered bytes: a client sends nothing
// before the 101 arrives. (A record only partly received is in the state,
// and carried.)
func webSocketOf(wc webConn) (*net.TCPConn, *tlsrecord.State, error) {
	switch c := wc.(type) {
	case *net.TCPConn:
		return c, nil, nil
	case *tlsWebConn:
		if len(c.plain) > 0 || c.err != nil {
			return nil, nil, errors.New("bytes after the WebSocket upgrade request")
		}
		st := c.s.State()
		return c.TCPConn, &st, nil
	}
	return nil, nil, errors.New("not a TCP connection")
}
