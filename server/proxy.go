package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
	"golang.org/x/sys/unix"
)

// Behind a proxy (haproxy, stunnel, nginx's stream module), every player
// would seem to come from the proxy's address: limits, bans, `site` and the
// logs would hit everyone at once. A listener configured as behind a proxy
// (listen_proxy) expects each connection to start with a PROXY protocol
// header (v1 or v2), which names the client's address. The header is read
// here, exactly, before the connection's reader starts, so that the
// client's own first bytes stay in the socket; the address then lives in
// the session (carried across reboots and crash recoveries like the rest
// of its record). A listener not behind a proxy treats a PROXY header as
// ordinary input.

// proxyHeaderWait bounds the wait for the header. A proxy sends it as soon
// as it has connected, before any byte of the client's; waiting longer
// would let a stray client that reached the port directly hold up the
// accept loop. (Keep proxy listeners on loopback or a private network.)
const proxyHeaderWait = 2 * time.Second

// v2Signature opens a version 2 header.
var v2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyHeader bounds what is accepted: 107 bytes for version 1; a
// version 2 header with the TLVs proxies add fits in far less.
const maxProxyHeader = 1024

// readProxyHeader reads the PROXY header a proxy sent first on tc, and no
// byte more, and returns the client's address as the proxy saw it ("" if
// the header names none: a health check's LOCAL, or UNKNOWN).
func readProxyHeader(tc *net.TCPConn) (string, error) {
	deadline := time.Now().Add(proxyHeaderWait)
	_ = tc.SetReadDeadline(deadline)
	defer tc.SetReadDeadline(time.Time{})
	n, err := proxyHeaderLength(tc, deadline)
	if err != nil {
		return "", err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(tc, buf); err != nil {
		return "", err
	}
	h, err := proxyproto.Read(bufio.NewReader(bytes.NewReader(buf)))
	if err != nil {
		return "", fmt.Errorf("PROXY header: %w", err)
	}
	if h.Command.IsLocal() || h.SourceAddr == nil {
		return "", nil
	}
	switch a := h.SourceAddr.(type) {
	case *net.TCPAddr:
		return a.IP.String(), nil
	default:
		return "", nil
	}
}

// proxyHeaderLength peeks at what has arrived until it can tell how long
// the header is.
func proxyHeaderLength(tc *net.TCPConn, deadline time.Time) (int, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, err
	}
	peek := make([]byte, maxProxyHeader)
	for {
		var n int
		var perr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, perr = unix.Recvfrom(int(fd), peek, unix.MSG_PEEK)
			return perr != unix.EAGAIN
		}); err != nil {
			return 0, err
		}
		if perr != nil {
			return 0, perr
		}
		if n == 0 {
			return 0, io.EOF
		}
		b := peek[:n]
		switch {
		case len(b) >= 16 && bytes.HasPrefix(b, v2Signature):
			total := 16 + int(b[14])<<8 | int(b[15])
			if total > maxProxyHeader {
				return 0, errors.New("PROXY v2 header too long")
			}
			if len(b) >= total {
				return total, nil
			}
		case bytes.HasPrefix(v2Signature, b[:min(len(b), len(v2Signature))]):
			// the start of a version 2 header: wait for the rest
		case bytes.HasPrefix(b, []byte("PROXY ")):
			if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
				return i + 2, nil
			}
			if len(b) >= 107 {
				return 0, errors.New("PROXY v1 header longer than 107 bytes")
			}
		case bytes.HasPrefix([]byte("PROXY "), b):
			// the start of a version 1 header
		default:
			return 0, errors.New("no PROXY header: is this listener really behind a proxy?")
		}
		// Part of a header: it is coming (a proxy sends it in one go).
		if time.Now().After(deadline) {
			return 0, errors.New("timed out waiting for the rest of the PROXY header")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
