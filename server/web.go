package server

import (
	"bufio"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"talker/server/conn"
)

// The browser client's door. A web listener (listen_web) answers GET / with
// one page, embedded in the binary and linking to nothing outside it
// (web/index.html), and GET /ws with a WebSocket upgrade. The upgraded
// connection is then an ordinary connection (package conn, in its
// WebSocket framing): the World does not know the difference, and a reboot
// or a crash recovery hands it over like any other, framing state and all.
// A plain page request caught by a reboot is simply closed; the browser
// retries.

//go:embed web/index.html
var webPage []byte

// webPath is where the page's WebSocket connects.
const webPath = "/ws"

// webRequestWait bounds how long a client may take to send its request,
// so that idle connections cannot pile up (a browser sends it at once).
const webRequestWait = 10 * time.Second

// maxWebHandshakes bounds the requests being read at once: beyond it a new
// connection waits for a slot, in the listen backlog.
const maxWebHandshakes = 256

// webListener is a web listener: its address reads as the page's URL in
// `talker status`. It keeps the TCP listener's SetDeadline, which a
// reboot's pause uses to park the accept loop.
type webListener struct {
	*net.TCPListener
}

type webAddr struct{ net.Addr }

func (a webAddr) String() string { return "http://" + a.Addr.String() + "/" }

// Addr is the listener's address, shown as the page's URL.
func (l webListener) Addr() net.Addr { return webAddr{l.TCPListener.Addr()} }

// ServeWeb serves the browser client on ln until Shutdown. Like Serve, it
// always returns a non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) ServeWeb(ln net.Listener) error { return s.serveWeb(ln, false) }

// ServeWebBehindProxy is ServeWeb for a listener behind a proxy (caddy's
// proxy_protocol transport, nginx's stream module, haproxy): each
// connection starts with a PROXY protocol header naming the player's
// address (proxy.go).
func (s *Server) ServeWebBehindProxy(ln net.Listener) error { return s.serveWeb(ln, true) }

func (s *Server) serveWeb(ln net.Listener, behindProxy bool) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return fmt.Errorf("web listener %s is not TCP", ln.Addr())
	}
	wl := webListener{tl}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, wl)
	s.mu.Unlock()
	s.gate.add()
	defer s.gate.remove()
	s.cfg.Log.Info().Str("addr", wl.Addr().String()).Msg("listening (web client)")
	slots := make(chan struct{}, maxWebHandshakes)
	var backoff time.Duration
	for {
		s.gate.wait()
		slots <- struct{}{}
		tc, err := tl.AcceptTCP()
		if err != nil {
			<-slots
			if err = s.acceptFailed(err, &backoff, "accept failed"); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		go func() {
			defer func() { <-slots }()
			realAddr := ""
			if behindProxy {
				var err error
				if realAddr, err = readProxyHeader(tc); err != nil {
					s.cfg.Log.Warn().Err(err).Str("proxy", tc.RemoteAddr().String()).Msg("web connection refused: no valid PROXY header")
					tc.Close()
					return
				}
			}
			s.serveWebConn(tc, realAddr)
		}()
	}
}

// webConn is what an HTTP request is read from and answered on: the
// socket (http), or the TLS session on it (https, webtls.go).
type webConn interface {
	net.Conn
	CloseWrite() error
}

// serveWebConn reads one HTTP request and answers it: the page, the
// WebSocket upgrade, or an error. Only an upgrade keeps the connection.
func (s *Server) serveWebConn(tc webConn, realAddr string) {
	_ = tc.SetReadDeadline(time.Now().Add(webRequestWait))
	br := bufio.NewReaderSize(tc, 4096)
	req, err := http.ReadRequest(br)
	if err != nil {
		tc.Close()
		return
	}
	_ = tc.SetReadDeadline(time.Time{})
	_ = tc.SetWriteDeadline(time.Now().Add(webRequestWait))
	switch {
	case req.URL.Path == webPath:
		s.upgradeWeb(tc, br, req, realAddr)
		return
	case req.URL.Path == "/" && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		h := "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" +
			"Content-Length: " + strconv.Itoa(len(webPage)) + "\r\n" +
			// Nothing from elsewhere: the page is all inline.
			"Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n" +
			"X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
		_, _ = tc.Write([]byte(h))
		if req.Method == http.MethodGet {
			_, _ = tc.Write(webPage)
		}
	case req.URL.Path == "/":
		_, _ = tc.Write([]byte("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	default:
		_, _ = tc.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nNot found\n"))
	}
	// Close after the response has gone: a shutdown of the sending side
	// first, so the client reads it all rather than a reset.
	_ = tc.CloseWrite()
	_ = tc.SetReadDeadline(time.Now().Add(time.Second))
	var sink [512]byte
	for {
		if _, err := tc.Read(sink[:]); err != nil {
			break
		}
	}
	tc.Close()
}

// upgradeWeb completes a WebSocket handshake and hands the connection to
// the world. It waits at the accept gate first: during a reboot's pause it
// must not upgrade a connection the handoff would not carry (the client
// waits, and the generation that carries on answers, or the connection
// closes with the old one and the page retries).
func (s *Server) upgradeWeb(tc webConn, br *bufio.Reader, req *http.Request, realAddr string) {
	s.gate.add()
	defer s.gate.remove()
	s.gate.wait()
	if origin := req.Header.Get("Origin"); origin != "" && !sameOrigin(origin, req.Host) {
		_, _ = tc.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		tc.Close()
		return
	}
	hj := &hijacker{tc: tc, rw: bufio.NewReadWriter(br, bufio.NewWriter(tc))}
	if _, _, _, err := (ws.HTTPUpgrader{}).Upgrade(req, hj); err != nil {
		s.cfg.Log.Debug().Err(err).Str("addr", tc.RemoteAddr().String()).Msg("WebSocket handshake refused")
		tc.Close()
		return
	}
	if br.Buffered() > 0 {
		// A client sends nothing before the 101 arrives; bytes already here
		// would be lost between this reader and the connection's.
		tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	sock, tlsState, err := webSocketOf(tc) // webtls.go: the TLS state of an https one
	if err != nil {
		s.cfg.Log.Debug().Err(err).Str("addr", tc.RemoteAddr().String()).Msg("WebSocket refused")
		tc.Close()
		return
	}
	id := s.nextConn.Add(1)
	c := conn.NewWithPanics(id, sock, *s.connLimits.Load(), s.deliver, s.world.reportPanic)
	if tlsState != nil {
		if err := c.SetTLS(*tlsState); err != nil {
			s.cfg.Log.Error().Err(err).Msg("TLS session refused")
			sock.Close()
			return
		}
	}
	c.SetWebSocket()
	if realAddr != "" {
		c.Addr = realAddr
	}
	select {
	case s.world.events <- accepted{c: c}:
	case <-s.worldDone:
		tc.Close()
	}
}

// sameOrigin reports whether a browser's Origin names the host the page
// was served from: another site's page must not open sessions here with
// the visitor's browser.
func sameOrigin(origin, host string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(origin, scheme); ok {
			return strings.EqualFold(rest, host)
		}
	}
	return false
}

// hijacker is the http.ResponseWriter gobwas/ws's HTTPUpgrader needs: the
// request was read here, on the raw socket, so "hijacking" only hands the
// socket back, with the reader that may hold bytes after the request.
type hijacker struct {
	tc     webConn
	rw     *bufio.ReadWriter
	header http.Header
}

func (h *hijacker) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}
func (h *hijacker) Write(b []byte) (int, error)                  { return h.tc.Write(b) }
func (h *hijacker) WriteHeader(int)                              {}
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return h.tc, h.rw, nil }
