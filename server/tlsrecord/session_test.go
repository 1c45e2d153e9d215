package tlsrecord

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// pair is a Go TLS client connected over loopback TCP to a server side
// whose handshake was done by Handshake: srv is the raw socket.
type pair struct {
	client *tls.Conn
	srv    *net.TCPConn
	state  State
}

func newPair(t *testing.T, clientCfg *tls.Config, clientFirst []byte) *pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		st  State
		nc  net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		tc := nc.(*net.TCPConn)
		st, err := Handshake(tc, ServerConfig(testCert(t)), 5*time.Second, func() (uint64, uint64, error) {
			raw, _ := tc.SyscallConn()
			var r, w uint64
			var oerr error
			_ = raw.Control(func(fd uintptr) { r, w, oerr = Offsets(int(fd)) })
			return r, w, oerr
		})
		done <- result{st, nc, err}
	}()
	if clientCfg == nil {
		clientCfg = &tls.Config{}
	}
	clientCfg.InsecureSkipVerify = true
	client, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(clientFirst) > 0 {
		// Written at once after the handshake: lands in the socket right
		// behind the client's Finished.
		if _, err := client.Write(clientFirst); err != nil {
			t.Fatal(err)
		}
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.nc.Close() })
	return &pair{client: client, srv: r.nc.(*net.TCPConn), state: r.st}
}

// readUntil feeds the server side from the socket, a byte at a time
// (every record split across reads), until want has arrived.
func feedUntil(t *testing.T, s *Session, nc net.Conn, want string) {
	t.Helper()
	var got []byte
	b := make([]byte, 1)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer nc.SetReadDeadline(time.Time{})
	for !bytes.Contains(got, []byte(want)) {
		if _, err := nc.Read(b); err != nil {
			t.Fatalf("reading %q, got %q: %v", want, got, err)
		}
		var err error
		if got, err = s.Feed(got, b); err != nil {
			t.Fatalf("feed: %v (got %q)", err, got)
		}
	}
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func clientRead(t *testing.T, c *tls.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("client reading %q: %v (got %q)", want, err, buf)
	}
	if string(buf) != want {
		t.Fatalf("client got %q, want %q", buf, want)
	}
}

func TestGoClientTalksToRecordLayer(t *testing.T) {
	p := newPair(t, nil, []byte("first line, right behind Finished\r\n"))
	if p.state.ReadSeq != 0 || p.state.WriteSeq != 0 || len(p.state.ReadPartial) != 0 {
		t.Fatalf("state after the handshake: %+v", p.state)
	}
	s, err := New(p.state)
	if err != nil {
		t.Fatal(err)
	}
	feedUntil(t, s, p.srv, "first line, right behind Finished\r\n")
	if _, err := s.Write(p.srv, []byte("hello from the record layer\r\n")); err != nil {
		t.Fatal(err)
	}
	clientRead(t, p.client, "hello from the record layer\r\n")

	// Bigger than one record both ways.
	big := strings.Repeat("0123456789abcdef", 2500) // 40,000 bytes: 3 records
	go p.client.Write([]byte(big))
	feedUntil(t, s, p.srv, big)
	wrote := make(chan error, 1)
	go func() { _, err := s.Write(p.srv, []byte(big)); wrote <- err }()
	clientRead(t, p.client, big)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}

	// Offsets follow the kernel's counters exactly.
	raw, _ := p.srv.SyscallConn()
	var r, w uint64
	_ = raw.Control(func(fd uintptr) { r, w, err = Offsets(int(fd)) })
	st := s.State()
	if err != nil || st.CheckOffsets(r, w) != nil {
		t.Fatalf("offsets %d/%d against the state's %d/%d: %v %v", r, w, st.ReadOffset, st.WriteOffset, err, st.CheckOffsets(r, w))
	}
}

func TestServerKeyUpdateAndCarry(t *testing.T) {
	p := newPair(t, nil, nil)
	s, err := New(p.state)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		// Ours, asking for the client's: Go's client answers with its own.
		s.RequestKeyUpdate()
		if !s.WantsWrite() {
			t.Fatal("a requested KeyUpdate is not waiting to be written")
		}
		line := "after our key update\r\n"
		if _, err := s.Write(p.srv, []byte(line)); err != nil {
			t.Fatal(err)
		}
		clientRead(t, p.client, line)
		if _, err := p.client.Write([]byte("client after its answer\r\n")); err != nil {
			t.Fatal(err)
		}
		feedUntil(t, s, p.srv, "client after its answer\r\n")
		st := s.State()
		if st.ReadSeq != 1 || st.WriteSeq != 1 {
			t.Fatalf("round %d: both sides should be at record 1 of new keys: %+v", round, st)
		}
		// Carried, as at a reboot: a new session from the plain data.
		if s, err = New(st); err != nil {
			t.Fatal(err)
		}
	}
	// A record split across the carry: half in the state, half later.
	go p.client.Write([]byte("split across a reboot\r\n"))
	_ = p.srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	half := make([]byte, 20)
	if _, err := io.ReadFull(p.srv, half); err != nil {
		t.Fatal(err)
	}
	got, err := s.Feed(nil, half)
	if err != nil || len(got) != 0 {
		t.Fatalf("half a record gave %q, %v", got, err)
	}
	st := s.State()
	if len(st.ReadPartial) != 20 {
		t.Fatalf("partial record carried: %d bytes", len(st.ReadPartial))
	}
	if s, err = New(st); err != nil {
		t.Fatal(err)
	}
	feedUntil(t, s, p.srv, "split across a reboot\r\n")

	// close_notify: the client sees an orderly end.
	if err := s.Close(p.srv); err != nil {
		t.Fatal(err)
	}
	_ = p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := p.client.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("client after close_notify: %d, %v", n, err)
	}
}

// clientSide turns a Go client's handshake into a client-side record layer
// (secrets swapped), so that tests can send what Go's client never does on
// its own: a KeyUpdate asking for the server's.
func clientSide(t *testing.T) (*Session, net.Conn, *Session, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvState := make(chan State, 1)
	srvConn := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(srvState)
			return
		}
		st, err := Handshake(nc, ServerConfig(testCert(t)), 5*time.Second, nil)
		if err != nil {
			t.Error(err)
		}
		srvConn <- nc
		srvState <- st
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var kl keyLog
	cc := tls.Client(&recordConn{Conn: nc}, &tls.Config{InsecureSkipVerify: true, KeyLogWriter: &kl, MinVersion: tls.VersionTLS13})
	if err := cc.Handshake(); err != nil {
		t.Fatal(err)
	}
	cs, ss, err := kl.secrets()
	if err != nil {
		t.Fatal(err)
	}
	client, err := New(State{Suite: cc.ConnectionState().CipherSuite, ReadSecret: ss, WriteSecret: cs})
	if err != nil {
		t.Fatal(err)
	}
	sc := <-srvConn
	server, err := New(<-srvState)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); sc.Close() })
	return client, nc, server, sc
}

func TestClientKeyUpdateIsAnswered(t *testing.T) {
	client, cc, server, sc := clientSide(t)
	for round := 0; round < 3; round++ {
		client.RequestKeyUpdate()
		if _, err := client.Write(cc, []byte("line after the client's key update\r\n")); err != nil {
			t.Fatal(err)
		}
		feedUntil(t, server, sc, "line after the client's key update\r\n")
		if !server.WantsWrite() {
			t.Fatal("the server owes a KeyUpdate and does not want to write")
		}
		// The answer goes before the next record, even with no data.
		if err := server.Flush(sc); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Write(sc, []byte("server under its new key\r\n")); err != nil {
			t.Fatal(err)
		}
		feedUntil(t, client, cc, "server under its new key\r\n")
		st := server.State()
		if st.KeyUpdatesAsked != uint64(round+1) || st.KeyUpdatesAnswered != st.KeyUpdatesAsked || st.WriteSeq != 1 {
			t.Fatalf("round %d: %+v", round, st)
		}
		// The client's side answered nothing (update_not_requested came back).
		if cst := client.State(); cst.KeyUpdatesAsked != 0 {
			t.Fatalf("the server asked for a KeyUpdate in its answer: %+v", cst)
		}
	}
}

// shortWriter accepts n bytes and then fails like a write interrupted by a
// deadline.
type shortWriter struct {
	buf *bytes.Buffer
	n   int
}

var errInterrupted = errors.New("i/o timeout")

func (w *shortWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return w.buf.Write(p)
	}
	k := w.n
	w.buf.Write(p[:k])
	w.n = 0
	return k, errInterrupted
}

func TestEverySuiteAndAnInterruptedRecord(t *testing.T) {
	for _, id := range []uint16{AES128GCMSHA256, AES256GCMSHA384, CHACHA20POLY1305SHA256} {
		su, _ := suiteByID(id)
		a := bytes.Repeat([]byte{1}, su.hash().Size())
		b := bytes.Repeat([]byte{2}, su.hash().Size())
		server, err := New(State{Suite: id, ReadSecret: a, WriteSecret: b})
		if err != nil {
			t.Fatal(err)
		}
		client, err := New(State{Suite: id, ReadSecret: b, WriteSecret: a})
		if err != nil {
			t.Fatal(err)
		}
		var wire bytes.Buffer
		n, err := server.Write(&shortWriter{buf: &wire, n: 7}, []byte("cut off by a freeze"))
		if n != len("cut off by a freeze") || !errors.Is(err, errInterrupted) {
			t.Fatalf("suite %#x: interrupted write took %d: %v", id, n, err)
		}
		st := server.State()
		if len(st.WritePending) == 0 || st.WriteOffset != 7 || st.WriteSeq != 1 {
			t.Fatalf("suite %#x: state after the interrupted record: %+v", id, st)
		}
		// The next generation writes the tail first, then carries on.
		if server, err = New(st); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Write(&wire, []byte(" and resumed")); err != nil {
			t.Fatal(err)
		}
		got, err := client.Feed(nil, wire.Bytes())
		if err != nil || string(got) != "cut off by a freeze and resumed" {
			t.Fatalf("suite %#x: %q, %v", id, got, err)
		}
		// A record with one bit flipped is refused.
		wire.Reset()
		_, _ = server.Write(&wire, []byte("x"))
		corrupt := wire.Bytes()
		corrupt[len(corrupt)-1] ^= 1
		var pe *ProtocolError
		if _, err := client.Feed(nil, corrupt); !errors.As(err, &pe) || pe.Alert != alertBadRecordMAC {
			t.Fatalf("suite %#x: corrupt record gave %v", id, err)
		}
	}
}
