package cli

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal pair: what the test types into master
// reaches a process whose stdin is slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestRunAsksForTheFirstAdminOnATerminal: `talker run` on a terminal with
// no admin account asks for one (password unechoed) before starting.
func TestRunAsksForTheFirstAdminOnATerminal(t *testing.T) {
	la := newAngelDir(t)
	master, slave := openPTY(t)
	cmd := la.command("run")
	cmd.Stdin = slave
	var seen syncBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor := func(s string) {
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(seen.String()+la.out.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("never saw %q; terminal:\n%s\noutput:\n%s", s, seen.String(), la.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("Admin name: ")
	master.Write([]byte("Chief\n"))
	waitFor("Password: ")
	master.Write([]byte("chief-password\n"))
	waitFor("Password again: ")
	master.Write([]byte("chief-password\n"))
	waitFor("admin account Chief created")
	la.waitServing(20 * time.Second)
	if strings.Contains(seen.String(), "chief-password") {
		t.Error("the password was echoed on the terminal")
	}
	c := la.dialClient()
	c.Login("Chief", "chief-password")
	c.Send("reboot cancel")
	c.Expect("There is no countdown to cancel.") // an admin command: Chief is an admin
}
