package server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startTLSDoor serves TLS (and so https) on a loopback port of a test
// server with a self-signed certificate.
func startTLSDoor(t *testing.T) (*testServer, string) {
	t.Helper()
	certFile, keyFile, _, err := EnsureSelfSigned(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := LoadTLSCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeTLS(ln, cert)
	return ts, ln.Addr().String()
}

func dialALPN(t *testing.T, addr string, protos ...string) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: protos})
	if err != nil {
		t.Fatalf("TLS handshake offering %v: %v", protos, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// readTLSUntil reads from c until s appears (or the connection ends).
func readTLSUntil(c net.Conn, s string) (string, error) {
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), s) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
	}
	return string(got), nil
}

// TestTLSDoorByALPN: on a TLS port, a client offering http/1.1 (alone or
// after h2, as browsers do) gets the web client over https; one offering
// nothing, or only another protocol, is not refused and gets telnet.
func TestTLSDoorByALPN(t *testing.T) {
	_, addr := startTLSDoor(t)

	for _, protos := range [][]string{nil, {"h2"}, {"telnet"}} {
		c := dialALPN(t, addr, protos...)
		if p := c.ConnectionState().NegotiatedProtocol; p != "" {
			t.Errorf("offering %v: agreed %q, want none", protos, p)
		}
		if got, err := readTLSUntil(c, "enter your name: "); err != nil {
			t.Errorf("offering %v: no telnet greeting (%v): %q", protos, err, got)
		}
	}

	for _, protos := range [][]string{{"http/1.1"}, {"h2", "http/1.1"}} {
		c := dialALPN(t, addr, protos...)
		if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
			t.Fatalf("offering %v: agreed %q, want http/1.1", protos, p)
		}
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("offering %v: %v", protos, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>") || len(body) != len(webPage) ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
			t.Errorf("offering %v: %d, %d bytes, CSP %q", protos, resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestWebOverTLSUpgrade: a WebSocket upgrade over https from another
// site's page is refused; one with bytes sent before the 101 is closed
// without a session; a good one becomes a connection counted as
// web_tls, and the TLS port is listed as https.
func TestWebOverTLSUpgrade(t *testing.T) {
	ts, addr := startTLSDoor(t)
	upgrade := func(origin string) string {
		return "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + origin + "\r\n\r\n"
	}

	evil := dialALPN(t, addr, "http/1.1")
	_, _ = io.WriteString(evil, upgrade("https://evil.example"))
	if got, _ := io.ReadAll(evil); !strings.HasPrefix(string(got), "HTTP/1.1 403") {
		t.Errorf("another site's upgrade: %q", got)
	}

	eager := dialALPN(t, addr, "http/1.1")
	_, _ = io.WriteString(eager, upgrade("https://"+addr)+"\x81\x80abcd") // an empty frame before the 101
	if got, _ := io.ReadAll(eager); strings.Contains(string(got), "enter your name") {
		t.Errorf("bytes before the 101 were accepted: %q", got)
	}

	good := dialALPN(t, addr, "http/1.1")
	_, _ = io.WriteString(good, upgrade("https://"+addr))
	if got, err := readTLSUntil(good, "\r\n\r\n"); err != nil || !strings.HasPrefix(got, "HTTP/1.1 101") {
		t.Fatalf("upgrade: %q %v", got, err)
	}
	if got, err := readTLSUntil(good, "enter your name: "); err != nil {
		t.Fatalf("no greeting in WebSocket frames over TLS: %v %q", err, got)
	}
	st := ts.srv.Status()
	if st.ConnectionsByKind[DoorWebTLS] != 1 || st.ConnectionsByKind[DoorTLS] != 0 {
		t.Errorf("connections by kind: %v", st.ConnectionsByKind)
	}
	if l := st.ListeningByKind[DoorWebTLS]; len(l) != 1 || l[0] != "https://"+addr+"/" {
		t.Errorf("listening by kind: %v", st.ListeningByKind)
	}
}
