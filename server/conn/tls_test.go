package conn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"talker/server/tlsrecord"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsPairConn is a TLS Conn (handshake done the talker's way) and a Go TLS
// client on the other end.
func tlsPairConn(t *testing.T) (*Conn, *tls.Conn, chan Input) {
	t.Helper()
	server, client := tcpPair(t)
	tc := tls.Client(client, &tls.Config{InsecureSkipVerify: true})
	hs := make(chan error, 1)
	go func() { hs <- tc.Handshake() }()
	st, err := tlsrecord.Handshake(server, tlsrecord.ServerConfig(selfSigned(t)), 5*time.Second, func() (uint64, uint64, error) {
		fd, err := (&Conn{nc: server}).RawFD()
		if err != nil {
			return 0, 0, err
		}
		return tlsrecord.Offsets(fd)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-hs; err != nil {
		t.Fatal(err)
	}
	in := make(chan Input, 16)
	c := New(1, server, DefaultLimits(), func(i Input) { in <- i })
	if err := c.SetTLS(st); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close(); c.Abort() })
	return c, tc, in
}

// freeze stops c's reader and writer as a reboot does.
func freeze(t *testing.T, c *Conn, in chan Input) {
	t.Helper()
	if !c.FreezeReading() {
		for i := range in {
			if i.Stopped {
				break
			}
		}
	}
	c.FreezeWriting()
	c.WaitWriting()
}

func readString(t *testing.T, c *tls.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, len(want))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != want {
		t.Fatalf("client read %q, %v; want %q", b, err, want)
	}
}

func lineIn(t *testing.T, in chan Input, want string) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case i := <-in:
			if i.Closed != nil {
				t.Fatalf("closed (%v) waiting for %q", i.Closed, want)
			}
			for _, l := range lines(i) {
				if l == want {
					return
				}
			}
		case <-deadline:
			t.Fatalf("no line %q", want)
		}
	}
}

// TestTLSCrashRule is the crash recovery rule (tls.go): a checkpoint of the
// TLS state continues on the socket only if nothing was read or written
// since; one with output after it is refused, with the reason, rather than
// reusing a sequence number.
func TestTLSCrashRule(t *testing.T) {
	c, client, in := tlsPairConn(t)
	c.Start()
	if _, err := client.Write([]byte("hello\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, in, "hello")
	c.Send([]byte("first\r\n"))
	readString(t, client, "first\r\n")
	time.Sleep(50 * time.Millisecond) // the writer publishes after its write returns
	quiet := c.TLSCheckpoint()
	c.Send([]byte("second\r\n"))
	readString(t, client, "second\r\n")
	time.Sleep(50 * time.Millisecond)
	fresh := c.TLSCheckpoint()
	if quiet.WriteSeq == fresh.WriteSeq || quiet.WriteOffset == fresh.WriteOffset {
		t.Fatalf("the checkpoints do not differ: %+v / %+v", quiet, fresh)
	}

	// "The process died": another process's view of the same socket.
	adopt := func(from *Conn, st *tlsrecord.State) (*Conn, chan Input) {
		fd, err := from.DupFD()
		if err != nil {
			t.Fatal(err)
		}
		in2 := make(chan Input, 16)
		c2, err := Adopt(2, fd, DefaultLimits(), func(i Input) { in2 <- i }, nil, Carried{TLS: st})
		if err != nil {
			t.Fatal(err)
		}
		return c2, in2
	}
	stale, staleIn := adopt(c, quiet)
	// (The write side's reason waits for the crash journal's records,
	// ResumeTLS, which this connection has none of: it ends at Start.)
	if stale.tls.writeErr == nil || !strings.Contains(stale.tls.writeErr.Error(), "bytes written since") {
		t.Fatalf("a stale checkpoint was accepted: %v", stale.tls.writeErr)
	}
	stale.Abandon() // (Start would shut the socket down: the test goes on with it)
	_ = staleIn

	// The freezing process stops for good; the fresh checkpoint continues.
	freeze(t, c, in)
	ok, okIn := adopt(c, fresh)
	if ok.tls.broken != nil || ok.tls.writeErr != nil {
		t.Fatalf("an exact checkpoint was refused: %v %v", ok.tls.broken, ok.tls.writeErr)
	}
	c.Abandon()
	ok.Start()
	t.Cleanup(ok.Abort)
	if _, err := client.Write([]byte("after the crash\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, okIn, "after the crash")
	ok.Send([]byte("third\r\n"))
	readString(t, client, "third\r\n")

	// A refused state ends the connection at Start, with the reason.
	late, lateIn := adopt(ok, fresh) // stale now: "third" went out since
	late.Start()
	select {
	case i := <-lateIn:
		if i.Closed == nil || !strings.Contains(i.Closed.Error(), "TLS session cannot continue") {
			t.Fatalf("want the connection closed with the reason, got %+v", i)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a refused TLS state did not end its connection")
	}
}

// TestTLSCarryThroughFreeze: a reboot's freeze and Carry, then a new Conn
// on the same socket from the carried state, mid-stream and after a
// KeyUpdate the server asked for.
func TestTLSCarryThroughFreeze(t *testing.T) {
	c, client, in := tlsPairConn(t)
	c.Start()
	c.RequestKeyUpdate()
	c.Send([]byte("under a new key\r\n"))
	readString(t, client, "under a new key\r\n")
	if _, err := client.Write([]byte("client answered\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, in, "client answered")
	freeze(t, c, in)
	carried := c.Carry()
	if carried.TLS == nil || carried.TLS.WriteSeq != 1 || carried.TLS.ReadSeq != 1 {
		t.Fatalf("carried TLS state: %+v", carried.TLS)
	}
	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	in2 := make(chan Input, 16)
	c2, err := Adopt(2, fd, DefaultLimits(), func(i Input) { in2 <- i }, nil, carried)
	if err != nil {
		t.Fatal(err)
	}
	c.Abandon()
	c2.Start()
	t.Cleanup(c2.Abort)
	c2.Send([]byte("next generation\r\n"))
	readString(t, client, "next generation\r\n")
	if _, err := client.Write([]byte("still here\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, in2, "still here")
	// A clean close sends close_notify: the client reads EOF, not an error.
	c2.Close()
	_ = client.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client after Close: %v, want EOF (close_notify)", err)
	}
}
