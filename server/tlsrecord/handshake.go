package tlsrecord

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// ServerConfig returns cfg as the handshake needs it: TLS 1.3 only (the
// record layer here is 1.3's) and no session tickets, so that the server
// sends nothing after its Finished and its first application record is
// number 0.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: true,
	}
}

// Handshake runs a server handshake with crypto/tls on nc (within
// timeout) and returns the record layer's state for the session it made,
// to be carried on by New. crypto/tls reads from nc only whole records,
// one at a time, so nothing the client sent after its Finished has left
// the socket; and it writes nothing after its own Finished. The offsets
// are the socket's counters (offsets) at the end.
func Handshake(nc net.Conn, cfg *tls.Config, timeout time.Duration, offsets func() (read, written uint64, err error)) (State, error) {
	st, _, err := HandshakeALPN(nc, cfg, timeout, offsets, nil)
	return st, err
}

// HandshakeALPN is Handshake that also agrees an application protocol
// (ALPN, RFC 7301) with a client that offers one of protos, and returns it
// ("" when the client offered none of them, or nothing at all). A client
// that offers only other protocols is not refused, as crypto/tls would
// refuse it with protos in NextProtos: it simply gets no protocol (a
// telnet client never offers one; a browser offers "http/1.1").
func HandshakeALPN(nc net.Conn, cfg *tls.Config, timeout time.Duration, offsets func() (read, written uint64, err error), protos []string) (State, string, error) {
	var keylog keyLog
	c := cfg.Clone()
	c.MinVersion = tls.VersionTLS13
	c.SessionTicketsDisabled = true
	c.KeyLogWriter = &keylog
	c.NextProtos = nil
	if len(protos) > 0 {
		c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			for _, p := range protos {
				if slices.Contains(hello.SupportedProtos, p) {
					cc := c.Clone() // the same key log
					cc.GetConfigForClient = nil
					cc.NextProtos = []string{p}
					return cc, nil
				}
			}
			return nil, nil // c as it is: no protocol agreed
		}
	}
	rc := &recordConn{Conn: nc}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	srv := tls.Server(rc, c)
	if err := srv.Handshake(); err != nil {
		return State{}, "", err
	}
	cs := srv.ConnectionState()
	if cs.Version != tls.VersionTLS13 {
		return State{}, "", fmt.Errorf("tls: negotiated version %#04x, not 1.3", cs.Version)
	}
	if rc.remaining != 0 || rc.hdrN != 0 {
		return State{}, "", errors.New("tls: the handshake stopped inside a record")
	}
	clientSecret, serverSecret, err := keylog.secrets()
	if err != nil {
		return State{}, "", err
	}
	st := State{Suite: cs.CipherSuite, ReadSecret: clientSecret, WriteSecret: serverSecret}
	if offsets != nil {
		if st.ReadOffset, st.WriteOffset, err = offsets(); err != nil {
			return State{}, "", err
		}
	}
	if _, err := suiteByID(st.Suite); err != nil {
		return State{}, "", err
	}
	return st, cs.NegotiatedProtocol, nil
}

// recordConn hands crypto/tls at most the rest of the current TLS record
// on each Read (it reads with large buffers), so that when its handshake
// ends, right after the client's Finished, nothing the client sent next
// is buffered inside it.
type recordConn struct {
	net.Conn
	hdr       [headerLen]byte
	hdrN      int // header bytes read so far (while remaining is 0)
	remaining int // bytes of the current record's body still to hand out
}

func (c *recordConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.remaining == 0 {
		// A header first, read whole before any of it is handed out.
		for c.hdrN < headerLen {
			n, err := c.Conn.Read(c.hdr[c.hdrN:])
			c.hdrN += n
			if err != nil {
				return 0, err
			}
		}
		if len(p) < headerLen {
			return 0, io.ErrShortBuffer // crypto/tls reads into buffers of 512 bytes or more
		}
		copy(p, c.hdr[:])
		c.hdrN = 0
		c.remaining = int(c.hdr[3])<<8 | int(c.hdr[4])
		return headerLen, nil
	}
	n, err := c.Conn.Read(p[:min(len(p), c.remaining)])
	c.remaining -= n
	return n, err
}

// keyLog takes crypto/tls's key log lines (NSS key log format) for one
// connection.
type keyLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (k *keyLog) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.buf.Write(p)
}

// secrets returns the client's and the server's first application traffic
// secrets.
func (k *keyLog) secrets() (client, server []byte, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(k.buf.Bytes()))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		var dst *[]byte
		switch f[0] {
		case "CLIENT_TRAFFIC_SECRET_0":
			dst = &client
		case "SERVER_TRAFFIC_SECRET_0":
			dst = &server
		default:
			continue
		}
		if *dst, err = hex.DecodeString(f[2]); err != nil {
			return nil, nil, fmt.Errorf("tls: key log: %w", err)
		}
	}
	if client == nil || server == nil {
		return nil, nil, errors.New("tls: the key log did not give both application traffic secrets")
	}
	return client, server, nil
}
