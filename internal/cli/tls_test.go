package cli

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tlsPlayer is a player on a TLS port: Go's TLS client, or openssl
// s_client, reading everything into one buffer.
type tlsPlayer struct {
	t    *testing.T
	name string
	mu   sync.Mutex
	buf  bytes.Buffer
	eof  bool
	send func(string)
	// raw writes without a line end (set for openssl s_client players).
	raw func(string)
	// held: bytes of a record written later (splitConn), for a record
	// split across a reboot.
	split *splitConn
}

func (p *tlsPlayer) read(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		p.mu.Lock()
		p.buf.Write(b[:n])
		if err != nil {
			p.eof = true
		}
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (p *tlsPlayer) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// expect waits for want to appear (after what was already consumed by
// earlier expects is not tracked: tests use distinct lines).
func (p *tlsPlayer) expect(want string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.text(), want) {
		p.mu.Lock()
		eof := p.eof
		p.mu.Unlock()
		if eof || time.Now().After(deadline) {
			p.t.Fatalf("%s: waiting for %q (eof %v); got:\n%s", p.name, want, eof, p.text())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// splitConn passes writes through, except that, when armed, it holds back
// all but the first 7 bytes of the next write until release.
type splitConn struct {
	net.Conn
	mu    sync.Mutex
	armed bool
	held  []byte
}

func (c *splitConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed && len(b) > 7 {
		c.armed = false
		c.held = append([]byte(nil), b[7:]...)
		if _, err := c.Conn.Write(b[:7]); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *splitConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.Conn.Write(c.held)
	c.held = nil
	return err
}

func dialGoTLS(t *testing.T, addr, name string) *tlsPlayer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sc := &splitConn{Conn: nc}
	c := tls.Client(sc, &tls.Config{InsecureSkipVerify: true}) // the talker's self-signed pair
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &tlsPlayer{t: t, name: name, split: sc}
	p.send = func(line string) {
		if _, err := c.Write([]byte(line + "\r\n")); err != nil {
			t.Errorf("%s: write: %v", name, err)
		}
	}
	go p.read(c)
	return p
}

// dialOpenSSL connects with `openssl s_client` (not -quiet, so that a line
// "K" sends a KeyUpdate asking for ours).
func dialOpenSSL(t *testing.T, addr, name string) *tlsPlayer {
	t.Helper()
	cmd := exec.Command("openssl", "s_client", "-connect", addr, "-tls1_3", "-ign_eof", "-crlf")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("openssl stderr:\n%s", stderr.String())
		}
	})
	p := &tlsPlayer{t: t, name: name}
	p.raw = func(s string) {
		if _, err := io.WriteString(in, s); err != nil {
			t.Errorf("%s: write: %v", name, err)
		}
	}
	p.send = func(line string) { p.raw(line + "\n") }
	go p.read(out)
	return p
}

func (p *tlsPlayer) register(name, pw string) {
	p.t.Helper()
	p.expect("enter your name: ")
	p.send(name)
	p.expect("(yes/no): ")
	p.send("yes")
	p.expect("password: ")
	p.send(pw)
	p.expect("again: ")
	p.send(pw)
	p.expect("Exits:")
}

// TestTLSPlayersThroughRebootsAndKill9: a Go TLS client and openssl
// s_client chat with a telnet player through 10 seamless reboots (one
// with a TLS record split across it, one after a KeyUpdate each way) and
// a kill -9 of the talker: nobody is disconnected and every line arrives
// once.
func TestTLSPlayersThroughRebootsAndKill9(t *testing.T) {
	tlsAddr := freePort(t)
	la := startAngel(t, "--listen-tls", tlsAddr, "--line-rate", "0")
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	gopher := dialGoTLS(t, tlsAddr, "Gopher")
	gopher.register("Gopher", "gopher-pw")
	var ossl *tlsPlayer
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl is not installed: the openssl s_client player is skipped (apt-get install openssl)")
	} else {
		ossl = dialOpenSSL(t, tlsAddr, "Osl")
		ossl.register("Osl", "osl-pw-1")
	}
	if st, _ := la.cli("status"); !strings.Contains(st, "tls://"+tlsAddr) {
		t.Errorf("status does not show the TLS port:\n%s", st)
	}

	round := func(i int) {
		t.Helper()
		gopher.send(fmt.Sprintf("say gopher %d", i))
		alice.Expect(fmt.Sprintf("Gopher says 'gopher %d'", i))
		alice.Send(fmt.Sprintf("say alice %d", i))
		gopher.expect(fmt.Sprintf("Alice says 'alice %d'", i))
		if ossl != nil {
			ossl.send(fmt.Sprintf("say osl %d", i))
			alice.Expect(fmt.Sprintf("Osl says 'osl %d'", i))
			gopher.expect(fmt.Sprintf("Osl says 'osl %d'", i))
			ossl.expect(fmt.Sprintf("Gopher says 'gopher %d'", i))
		}
	}
	for i := 0; i < 10; i++ {
		round(i)
		switch i {
		case 3:
			// Half a record now, the rest after the reboot.
			gopher.split.mu.Lock()
			gopher.split.armed = true
			gopher.split.mu.Unlock()
			gopher.send("say split across a reboot")
		case 5:
			if ossl != nil {
				ossl.send("K") // KeyUpdate, update_requested: ours must follow
			}
		}
		if out, code := la.cli("reboot"); code != 0 {
			t.Fatalf("reboot %d: %d %s", i, code, out)
		}
		alice.Expect("Reboot complete")
		gopher.expect("Reboot complete")
		if i == 3 {
			if err := gopher.split.release(); err != nil {
				t.Fatal(err)
			}
			alice.Expect("Gopher says 'split across a reboot'")
		}
	}
	round(10)

	// kill -9, with everyone quiet for two checkpoint intervals first: the
	// checkpoint then has every TLS session exactly (see conn/tls.go), so
	// the TLS players are carried like the telnet one.
	time.Sleep(600 * time.Millisecond)
	victim := la.talkerPID()
	if err := signalPID(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	alice.Expect("tripped over something and recovered")
	gopher.expect("tripped over something and recovered")
	round(11)

	for _, p := range []*tlsPlayer{gopher, ossl} {
		if p == nil {
			continue
		}
		txt := p.text()
		for i := 0; i <= 11; i++ {
			if n := strings.Count(txt, fmt.Sprintf("Alice says 'alice %d'\r", i)); n != 1 {
				t.Errorf("%s saw Alice's line %d %d times", p.name, i, n)
			}
		}
	}
	if n := strings.Count(alice.Text(), "Gopher says 'split across a reboot'"); n != 1 {
		t.Errorf("the split line arrived %d times", n)
	}
}
