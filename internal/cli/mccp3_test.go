package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

// mccp3Options is a MUD client that agrees to MCCP3 as TinTin++ does and
// compresses everything it sends with Go's zlib writer, flushing after
// each line (talkertest's mccp3.go).
var mccp3Options = talkertest.Options{Width: 200, Height: 50, MCCP3: true,
	TTypes: []string{"TINTIN++", "XTERM-256COLOR", "MTTS 271"}}

// compressedChatter says "say zseq NNNN" on c every few milliseconds
// until stopped, and returns how many it said.
func compressedChatter(c *talkertest.Client) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	sent := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ; ; sent++ {
			select {
			case <-done:
				return
			default:
			}
			if c.TrySend(fmt.Sprintf("say zseq %04d", sent)) != nil {
				return // closed: a crash recovery could not resume its stream
			}
			time.Sleep(4 * time.Millisecond)
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return sent
	}
}

// zseqCheck counts each "Zipped says 'zseq NNNN'" in text: every one of
// the n must be there exactly once, and no other line from Zipped.
func zseqCheck(t *testing.T, text string, n int) {
	t.Helper()
	var missing, repeated []int
	for i := range n {
		switch strings.Count(text, fmt.Sprintf("Zipped says 'zseq %04d'", i)) {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			repeated = append(repeated, i)
		}
	}
	if len(missing) > 0 || len(repeated) > 0 {
		t.Fatalf("of %d compressed lines, missing %v, repeated %v", n, missing, repeated)
	}
	for _, l := range talkertest.Lines(text) {
		if i := strings.Index(l, "Zipped says '"); i >= 0 && !strings.HasPrefix(l[i+len("Zipped says '"):], "zseq ") && !strings.Contains(l, "the end") {
			t.Fatalf("a line from Zipped that it never said: %q", l)
		}
	}
}

// TestMCCP3InputAcrossReboots: a client whose input is one zlib stream
// (MCCP3, a flush after each line) types a line every few milliseconds
// through 10 seamless reboots: the listener sees each line exactly once,
// nothing is ever garbled, the stream is never restarted (each reboot
// carries the last 32 KiB it inflated and the compressed bytes since the
// last flush), and it still ends properly (the Adler-32 checks out) and
// plain input follows.
func TestMCCP3InputAcrossReboots(t *testing.T) {
	lt := startTalker(t)
	zipped := lt.dial(mccp3Options)
	zipped.Register("Zipped", "zipped-pw")
	listener := lt.dial()
	listener.Register("Listener", "listener-pw")
	if started, _ := zipped.MCCP3Streams(); started != 1 {
		t.Fatalf("MCCP3 streams started: %d", started)
	}
	if log := lt.logWhen(func(l string) bool { return strings.Contains(l, "MCCP3 compression on") }); !strings.Contains(log, "MCCP3 compression on") {
		t.Fatal("the talker never saw the client's compressed stream")
	}
	stop := compressedChatter(zipped)
	for i := range 10 {
		if out := lt.reboot(); !strings.Contains(out, "reboot done") {
			t.Fatalf("reboot %d: %q", i, out)
		}
		time.Sleep(30 * time.Millisecond)
	}
	sent := stop()
	zipped.Send("say the end")
	listener.Expect("Zipped says 'the end'")
	zseqCheck(t, listener.Text(), sent)
	if zipped.Closed() || strings.Contains(lt.out.String(), "MCCP3:") {
		t.Fatalf("the compressed input failed; talker log:\n%s", lt.out.String())
	}
	zipped.StopMCCP3()
	zipped.Send("say plain again")
	listener.Expect("Zipped says 'plain again'")
	if started, ended := zipped.MCCP3Streams(); started != 1 || ended != 1 {
		t.Fatalf("streams started %d, ended %d", started, ended)
	}
	t.Logf("%d compressed lines through 10 reboots, each once, one stream", sent)
}

// TestMCCP3InputAfterKill9: the angel's crash recovery. A compressed
// client quiet for over a second before the kill goes on in the same
// stream (its checkpoint is at the socket's read offset: exact). One that
// was typing when the talker died cannot be resumed at the right place:
// it is told so and disconnected (and goes link-dead), and nothing it sent
// is ever shown garbled or twice.
func TestMCCP3InputAfterKill9(t *testing.T) {
	la := startAngel(t, "--line-rate", "0", "--byte-rate", "0")
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(la.data, "log", "*"))
			for _, f := range logs {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	quiet := talkertest.Dial(t, la.addr, mccp3Options)
	quiet.Register("Quiet", "quiet-pw")
	zipped := talkertest.Dial(t, la.addr, mccp3Options)
	zipped.Register("Zipped", "zipped-pw")
	listener := la.dialClient()
	listener.Register("Listener", "listener-pw")
	quiet.Send("say before the crash")
	listener.Expect("Quiet says 'before the crash'")
	stop := compressedChatter(zipped)
	time.Sleep(1500 * time.Millisecond) // the quiet one's last line is checkpointed
	victim := la.talkerPID()
	if err := signalPID(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	quiet.Expect("tripped over something and recovered")
	la.waitNewTalker(victim, 5*time.Second)
	sent := stop()
	quiet.Send("say after the crash")
	listener.Expect("Quiet says 'after the crash'")
	if quiet.Closed() {
		t.Fatal("the quiet compressed client was disconnected")
	}
	// The busy one: told and closed, or (if the kill fell between its
	// lines and a checkpoint) still going; never garbage.
	outcome := "closed after the crash, told why"
	if _, told := zipped.TryExpect("lost its place in your client's compressed input (MCCP3)", 3*time.Second); told {
		zipped.WaitClosed()
	} else {
		// The checkpoint was taken after its last read: exact.
		outcome = "continued exactly"
		zipped.Send("say the end")
		listener.Expect("Zipped says 'the end'")
	}
	text := listener.Text()
	for _, l := range talkertest.Lines(text) {
		if i := strings.Index(l, "Zipped says '"); i >= 0 && !strings.HasPrefix(l[i+len("Zipped says '"):], "zseq ") &&
			!strings.HasPrefix(l[i+len("Zipped says '"):], "the end'") {
			t.Fatalf("a line from Zipped that it never said: %q", l)
		}
	}
	for i := range sent {
		if n := strings.Count(text, fmt.Sprintf("Zipped says 'zseq %04d'", i)); n > 1 {
			t.Fatalf("line %d shown %d times", i, n)
		}
	}
	quiet.StopMCCP3()
	quiet.Send("say plain now")
	listener.Expect("Quiet says 'plain now'")
	t.Logf("busy client: %d lines typed, %s; quiet client continued", sent, outcome)
}

// TestTinTinWithMCCP3AcrossAReboot: TinTin++ agrees to MCCP3 by default
// (answering the talker's WILL 87 with DO 87 and starting its stream), so
// everything typed in it, password included, arrives compressed; it keeps
// working across a seamless reboot.
func TestTinTinWithMCCP3AcrossAReboot(t *testing.T) {
	path := findTinTin(t)
	lt := startTalker(t)
	tt := startTinTin(t, path, lt.addr)
	tt.expect("enter your name: ")
	tt.typeLine("Tinny")
	tt.expect("(yes/no): ")
	if log := lt.logWhen(func(l string) bool { return strings.Contains(l, "MCCP3 compression on") }); !strings.Contains(log, "MCCP3 compression on") {
		t.Fatalf("TinTin++ did not start MCCP3; talker log:\n%s", log)
	}
	tt.typeLine("yes")
	tt.expect("password: ")
	tt.typeLine("tinny-pw-1")
	tt.expect("again: ")
	tt.typeLine("tinny-pw-1")
	tt.expect("Exits:")
	listener := lt.dial()
	listener.Register("Listener", "listener-pw")
	tt.typeLine("say compressed before")
	listener.Expect("Tinny says 'compressed before'")
	lt.reboot()
	tt.expect("Reboot complete")
	tt.typeLine("say compressed after")
	listener.Expect("Tinny says 'compressed after'")
	if strings.Contains(lt.out.String(), "MCCP3:") {
		t.Fatalf("MCCP3 failed:\n%s", lt.out.String())
	}
}
