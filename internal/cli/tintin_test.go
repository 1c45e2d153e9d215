package cli

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ttTerm is TinTin++ (tt++) running on a pseudo-terminal, and what it has
// shown there.
type ttTerm struct {
	t      *testing.T
	master *os.File
	mu     sync.Mutex
	cond   *sync.Cond
	out    []byte
	pos    int
	done   bool
}

// findTinTin returns the path of tt++ (Debian installs it in /usr/games),
// or skips the test.
func findTinTin(t *testing.T) string {
	if p, err := exec.LookPath("tt++"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/games/tt++"); err == nil {
		return "/usr/games/tt++"
	}
	t.Skip("TinTin++ (tt++, Debian package tintin++) is not installed: skipping the TinTin++ test")
	return ""
}

// startTinTin runs tt++ on a new pseudo-terminal, connected to addr.
func startTinTin(t *testing.T, path, addr string) *ttTerm {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	master, slave := openPTY(t)
	_ = unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120})
	cmd := exec.Command(path, "-G", "-e", "#session talker "+host+" "+port)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tt++: %v", err)
	}
	slave.Close()
	tt := &ttTerm{t: t, master: master}
	tt.cond = sync.NewCond(&tt.mu)
	go tt.collect()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by its own pid
		_ = cmd.Wait()
	})
	return tt
}

func (tt *ttTerm) collect() {
	buf := make([]byte, 4096)
	for {
		n, err := tt.master.Read(buf)
		tt.mu.Lock()
		tt.out = append(tt.out, buf[:n]...)
		tt.done = err != nil
		tt.cond.Broadcast()
		tt.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// expect waits until want appears after the last match, and returns what
// came before it since that match.
func (tt *ttTerm) expect(want string) []byte {
	tt.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { tt.mu.Lock(); tt.cond.Broadcast(); tt.mu.Unlock() })
	defer timer.Stop()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for {
		if i := bytes.Index(tt.out[tt.pos:], []byte(want)); i >= 0 {
			got := append([]byte(nil), tt.out[tt.pos:tt.pos+i]...)
			tt.pos += i + len(want)
			return got
		}
		if tt.done || time.Now().After(deadline) {
			tt.t.Fatalf("TinTin++ never showed %q; it showed:\n%q", want, tt.out[tt.pos:])
		}
		tt.cond.Wait()
	}
}

// typeLine types a line and Enter, a key at a time.
func (tt *ttTerm) typeLine(line string) {
	tt.t.Helper()
	for _, b := range []byte(line + "\r") {
		if _, err := tt.master.Write([]byte{b}); err != nil {
			tt.t.Fatalf("typing: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestTinTinWithMCCPAcrossAReboot: TinTin++ connects, agrees to MCCP2 (it
// does by default), registers, sees colour (it says 256 colours through
// MTTS), and after a seamless reboot, inside the same compressed stream,
// sees a line said after it.
func TestTinTinWithMCCPAcrossAReboot(t *testing.T) {
	path := findTinTin(t)
	lt := startTalker(t)
	tt := startTinTin(t, path, lt.addr)
	tt.expect("enter your name: ")
	tt.typeLine("Tinny")
	tt.expect("(yes/no): ")
	tt.typeLine("yes")
	tt.expect("password: ")
	tt.typeLine("tinny-pw-1")
	tt.expect("again: ")
	tt.typeLine("tinny-pw-1")
	tt.expect("Exits:")
	if log := lt.logWhen(func(l string) bool { return strings.Contains(l, "MCCP2 compression on") }); !strings.Contains(log, "MCCP2 compression on") {
		t.Fatalf("TinTin++ did not agree to MCCP2; talker log:\n%s", log)
	}
	speaker := lt.dial()
	speaker.Register("Speaker", "speaker-pw")
	speaker.Send("say ^Rrosy^N before")
	if before := tt.expect("rosy"); !bytes.Contains(before, []byte("\x1b[")) || !bytes.Contains(before[max(0, len(before)-24):], []byte("31m")) {
		t.Errorf("no red before 'rosy' at TinTin++: %q", before[max(0, len(before)-80):])
	}
	tt.expect("before")
	lt.reboot()
	tt.expect("Reboot complete")
	speaker.Send("say after the reboot")
	tt.expect("Speaker says 'after the reboot'")
	if strings.Contains(lt.out.String(), "MCCP2 compression off") {
		t.Error("compression was turned off")
	}
}
