package server

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/talkertest"
	"talker/server/telnet"
)

// transcript collects what a client receives, for a test to wait on.
type transcript struct {
	t    *testing.T
	mu   sync.Mutex
	cond *sync.Cond
	data []byte // every byte received
	pos  int    // expect consumed data up to here
	done bool
}

func newTranscript(t *testing.T) *transcript {
	tr := &transcript{t: t}
	tr.cond = sync.NewCond(&tr.mu)
	return tr
}

// collect appends what r yields until it fails.
func (tr *transcript) collect(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		tr.mu.Lock()
		tr.data = append(tr.data, buf[:n]...)
		tr.done = err != nil
		tr.cond.Broadcast()
		tr.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// expect waits until want appears after the last match.
func (tr *transcript) expect(want string) {
	tr.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { tr.mu.Lock(); tr.cond.Broadcast(); tr.mu.Unlock() })
	defer timer.Stop()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for {
		if i := bytes.Index(tr.data[tr.pos:], []byte(want)); i >= 0 {
			tr.pos += i + len(want)
			return
		}
		if tr.done || time.Now().After(deadline) {
			tr.t.Fatalf("timed out waiting for %q; got:\n%s", want, render(tr.data))
		}
		tr.cond.Wait()
	}
}

func (tr *transcript) bytes() []byte {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]byte(nil), tr.data...)
}

// ptyTerm is a program running on a pseudo-terminal; its transcript is
// what the terminal would display, read from the master side.
type ptyTerm struct {
	*transcript
	master *os.File
}

// openPty opens a pseudo-terminal pair through /dev/ptmx.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open slave: %v", err)
	}
	_ = unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	return m, s
}

// startPty runs name args on a new pseudo-terminal as its controlling
// terminal, as a player's shell would.
func startPty(t *testing.T, name string, args ...string) *ptyTerm {
	t.Helper()
	master, slave := openPty(t)
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	slave.Close()
	p := &ptyTerm{transcript: newTranscript(t), master: master}
	go p.collect(master)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		master.Close()
	})
	return p
}

// typeKeys writes keystrokes as a terminal would send them, one at a time.
func (p *ptyTerm) typeKeys(keys string) {
	p.t.Helper()
	for i := range len(keys) {
		if _, err := p.master.Write([]byte{keys[i]}); err != nil {
			p.t.Fatalf("typing: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// render turns terminal output into the lines a person would read: CR
// returns to the first column, BS moves back one, other characters
// overwrite what is under the cursor. Escape sequences are dropped.
func render(out []byte) string {
	var lines [][]byte
	var cur []byte
	col := 0
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case c == '\n':
			lines, cur, col = append(lines, cur), nil, 0
		case c == '\r':
			col = 0
		case c == '\b':
			col = max(col-1, 0)
		case c == 0x1b:
			for i++; i < len(out) && !(out[i] >= '@' && out[i] <= '~' && out[i] != '['); i++ {
			}
		case c < 0x20:
		default:
			if col < len(cur) {
				cur[col] = c
			} else {
				cur = append(cur, c)
			}
			col++
		}
	}
	lines = append(lines, cur)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(string(l), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestInetutilsTelnet plays a new player who follows the README and
// connects with the telnet client most systems have, inetutils telnet:
// what the terminal shows must be clean lines, with no ^M after each
// line, a backspace that erases, no doubled echo, and the password never
// on the screen.
func TestInetutilsTelnet(t *testing.T) {
	bin, err := exec.LookPath("telnet")
	if err != nil {
		t.Skip("no telnet client installed (Debian: apt-get install telnet): the test of what a plain telnet user sees cannot run")
	}
	for _, tt := range []struct{ name, port string }{
		{"explicit port", ""},
		// A port written "-4000" makes the client negotiate as it does on
		// port 23 (DO SGA, WILL LINEMODE, ...) instead of waiting.
		{"telnet port behaviour", "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t)
			host, port, _ := strings.Cut(ts.addr, ":")
			p := startPty(t, bin, "--", host, tt.port+port)
			const pw = "sekrit-pw-42"
			p.expect("Please enter your name: ")
			p.typeKeys("Zed\r")
			p.expect("(yes/no): ")
			p.typeKeys("yes\r")
			p.expect("Choose a password: ")
			p.typeKeys(pw + "\r")
			p.expect("Type the password again: ")
			p.typeKeys(pw + "\r")
			p.expect("Exits:")
			p.typeKeys("say helx\x7flo\r")
			p.expect("You say 'hello'")
			p.typeKeys("quit\r")
			p.expect("Goodbye")
			time.Sleep(200 * time.Millisecond)
			raw := p.bytes()
			screen := render(raw)
			t.Logf("screen:\n%s", screen)
			for _, bad := range []string{"^M", "^?", "^H", pw} {
				if strings.Contains(string(raw), bad) {
					t.Errorf("the terminal shows %q:\n%s", bad, screen)
				}
			}
			for _, want := range []string{"say hello\n", "You say 'hello'\n"} {
				if n := strings.Count(screen, want); n != 1 {
					t.Errorf("%q on the screen %d times, want once:\n%s", want, n, screen)
				}
			}
		})
	}
}

// TestRawClient connects as netcat or PuTTY's raw mode do, with no telnet
// at all: lines typed whole and ended by LF; and as a client in
// character-at-a-time mode that answers no negotiation either, each byte
// sent alone, erasing with DEL and BS, ending lines with CR NUL or CR LF.
// Both register, talk and see clean lines: after the opening negotiation
// (which a raw client cannot help showing) not one telnet byte, and every
// line ended by CR LF.
func TestRawClient(t *testing.T) {
	const pw = "sekrit-pw-42"
	tests := []struct {
		name  string
		lines []string // as sent, endings included
		bytes bool     // one write per byte
	}{
		{"netcat", []string{"Zed\n", "yes\n", pw + "\n", pw + "\n", "say hello\n", "quit\n"}, false},
		{"character at a time", []string{"Zex\x7fd\r\x00", "yes\r\n", "sekrit-pw-4x\b2\r\x00", "sekrit-pw-42\r\n",
			"say helx\x7flo\r\n", "quit\r\x00"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t)
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tr := newTranscript(t)
			go tr.collect(conn)
			send := func(s string) {
				t.Helper()
				for len(s) > 0 {
					n := len(s)
					if tt.bytes {
						n = 1
						time.Sleep(time.Millisecond)
					}
					if _, err := conn.Write([]byte(s[:n])); err != nil {
						t.Fatal(err)
					}
					s = s[n:]
				}
			}
			for i, wait := range []string{"enter your name: ", "(yes/no): ", "Choose a password: ", "again: ", "Exits:", "You say 'hello'"} {
				tr.expect(wait)
				send(tt.lines[i])
			}
			tr.expect("Goodbye")
			out := tr.closed()
			st := telnet.NewState()
			// The opening, then the MCCP2 and MCCP3 offers (mccp.go,
			// mccp3.go), in the same burst.
			opening := append(st.Open(), telnet.IAC, telnet.WILL, telnet.OptMCCP2, telnet.IAC, telnet.WILL, telnet.OptMCCP3)
			if !bytes.HasPrefix(out, opening) {
				t.Fatalf("does not start with the opening negotiation: %q", out)
			}
			rest := out[len(opening):]
			if i := bytes.IndexByte(rest, telnet.IAC); i >= 0 {
				t.Errorf("a telnet command after the opening: %q", rest[max(i-40, 0):min(i+10, len(rest))])
			}
			for i, c := range rest {
				if c == '\n' && (i == 0 || rest[i-1] != '\r') || c == '\r' && (i+1 == len(rest) || rest[i+1] != '\n') {
					t.Errorf("not a CR LF line ending at %d: %q", i, rest[max(i-40, 0):min(i+10, len(rest))])
					break
				}
			}
			if n := bytes.Count(rest, []byte("You say 'hello'\r\n")); n != 1 {
				t.Errorf("said line shown %d times:\n%s", n, rest)
			}
			// The edited lines were what was meant: the name and password work.
			ts.dial().Login("Zed", pw)
		})
	}
}

// closed waits for the end of the stream and returns all of it.
func (tr *transcript) closed() []byte {
	tr.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		tr.mu.Lock()
		done, data := tr.done, tr.data
		tr.mu.Unlock()
		if done {
			return data
		}
		if time.Now().After(deadline) {
			tr.t.Fatalf("connection not closed:\n%s", render(data))
		}
	}
}

// TestRefusingClient is a telnet client that refuses every option: it is
// offered each once, asked for ECHO once at the password, and gets GA
// after prompts (it swallows them; they are how it can tell a prompt).
func TestRefusingClient(t *testing.T) {
	ts := startServer(t)
	c := ts.dial(talkertest.Options{RefuseAll: true})
	c.Register("Zed", "sekrit-pw-42")
	c.Send("say hello")
	c.Expect("You say 'hello'")
	if got, want := strings.Join(c.Negotiations(), ","), "WILL 25,DO 31,DO 24,WILL 42,WILL 70,WILL 201,WILL 86,WILL 87,WILL 1"; got != want {
		t.Errorf("negotiations %s, want %s", got, want)
	}
	if c.Prompts() == 0 {
		t.Error("no GA after prompts")
	}
	if strings.ContainsAny(c.Text(), "\x00\xff") {
		t.Errorf("junk in the text: %q", c.Text())
	}
}
