package cli

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dialGoTLSRaw is dialGoTLS with a raw write (no line end added).
func dialGoTLSRaw(t *testing.T, addr, name string) (*tlsPlayer, func(string)) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sc := &splitConn{Conn: nc}
	c := tls.Client(sc, &tls.Config{InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &tlsPlayer{t: t, name: name, split: sc}
	raw := func(s string) {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Errorf("%s: write: %v", name, err)
		}
	}
	p.send = func(line string) { raw(line + "\r\n") }
	go p.read(c)
	return p, raw
}

// TestKill9TLSHandlesEveryLineOnce is TestKill9HandlesEveryLineOnce with
// both players on the TLS port: a kill -9 right after a line was handled
// and its output written (so after the angel's last checkpoint, in records
// the checkpoint does not know), with a half-typed line in a whole record
// and half a record in the kernel, continues both TLS sessions: nobody is
// disconnected, the half line is finished once, the line handled before
// the kill is not handled again, and no line is lost or doubled on either
// side. Before (the TLS crash rule), both were closed and kept link-dead.
func TestKill9TLSHandlesEveryLineOnce(t *testing.T) {
	tlsAddr := freePort(t)
	la := startAngel(t, "--listen-tls", tlsAddr, "--line-rate", "0")
	typer, typeRaw := dialGoTLSRaw(t, tlsAddr, "Typer")
	typer.register("Typer", "typer-password")
	hearer, _ := dialGoTLSRaw(t, tlsAddr, "Hearer")
	hearer.register("Hearer", "hearer-password")

	for round := 1; round <= 3; round++ {
		first, second := fmt.Sprintf("first %d", round), fmt.Sprintf("second %d", round)
		half := fmt.Sprintf("half %d of a li", round)
		typer.send("say " + first)
		hearer.expect("Typer says '" + first + "'")
		time.Sleep(450 * time.Millisecond) // first is in the angel's checkpoint
		// second is handled and written to both (records the checkpoint
		// knows nothing of), then the kill: only the journal has it. The
		// half line is in a whole record; the next record is cut after
		// 7 bytes (its header and 2 bytes) until after the recovery.
		typeRaw("say " + second + "\r\nsay " + half[:len(half)-2])
		hearer.expect("Typer says '" + second + "'")
		typer.expect("You say '" + second + "'")
		typer.split.mu.Lock()
		typer.split.armed = true
		typer.split.mu.Unlock()
		typeRaw(half[len(half)-2:] + "ne\r\n")
		time.Sleep(20 * time.Millisecond) // the 7 bytes are in the kernel
		if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		hearer.expect(fmt.Sprintf("tripped over something and recovered")) // (once per round: counted below)
		typer.expect("tripped over something and recovered")
		if err := typer.split.release(); err != nil {
			t.Fatal(err)
		}
		hearer.expect("Typer says '" + half + "ne'")
		typer.expect("You say '" + half + "ne'")
		typer.send("review")
		time.Sleep(500 * time.Millisecond)
		review := typer.text()
		if i := strings.LastIndex(review, "lines said in"); i >= 0 {
			review = review[i:]
		}
		for _, said := range []string{first, second, half + "ne"} {
			if n := strings.Count(review, said); n != 1 {
				t.Errorf("round %d: %q is in the room's review %d times, want 1:\n%s", round, said, n, review)
			}
		}
	}
	for _, p := range []*tlsPlayer{typer, hearer} {
		p.mu.Lock()
		eof := p.eof
		p.mu.Unlock()
		if eof {
			t.Errorf("%s was disconnected", p.name)
		}
		txt := p.text()
		if n := strings.Count(txt, "tripped over something and recovered"); n != 3 {
			t.Errorf("%s saw the recovery %d times, want 3", p.name, n)
		}
		for round := 1; round <= 3; round++ {
			for _, said := range []string{fmt.Sprintf("first %d'", round), fmt.Sprintf("second %d'", round), fmt.Sprintf("half %d of a line'", round)} {
				who := "Typer says '"
				if p == typer {
					who = "You say '"
				}
				if n := strings.Count(txt, who+said); n != 1 {
					t.Errorf("%s saw %q %d times, want 1", p.name, who+said, n)
				}
			}
		}
		if strings.Contains(txt, "nknown") {
			t.Errorf("%s: a tail ran as a command:\n%s", p.name, txt)
		}
	}
}
