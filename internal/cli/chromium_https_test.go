package cli

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChromiumOverHTTPSThroughRebootAndKill9: a headless Chromium loads
// the page over https from the TLS port (ALPN http/1.1; the self-signed
// certificate accepted with --ignore-certificate-errors), so its WebSocket
// is wss: through the talker's own TLS record layer. It logs in, chats
// with a telnet player, goes through a seamless reboot and a kill -9 of
// the talker with the WebSocket never closing, and sees every line once.
func TestChromiumOverHTTPSThroughRebootAndKill9(t *testing.T) {
	if findChromium() == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium); skipping the headless browser test")
	}
	tlsAddr := freePort(t)
	la := startAngel(t, "--listen-tls", tlsAddr)
	waitListening(t, tlsAddr, 10*time.Second)
	br := startChromium(t, "--ignore-certificate-errors")
	br.call("Page.navigate", map[string]any{"url": "https://" + tlsAddr + "/"})

	br.expect("enter your name: ")
	var scheme string
	br.eval(`location.protocol`, &scheme)
	if scheme != "https:" {
		t.Fatalf("the page was loaded over %q", scheme)
	}
	br.typeLine("Shielded")
	br.expect("(yes/no): ")
	br.typeLine("yes")
	st := br.expect("Choose a password: ")
	deadline := time.Now().Add(5 * time.Second)
	for st.InputType != "password" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st = br.state()
	}
	if st.InputType != "password" {
		t.Fatalf("the input is %q at the password prompt, want hidden", st.InputType)
	}
	br.typeLine("shielded-pw")
	br.expect("Type the password again: ")
	br.typeLine("shielded-pw")
	br.expect("Exits:")

	tel := la.dialClient()
	tel.Register("Tel", "tel-pw-1")
	// The browser's connection is counted as the web client over TLS:
	// its WebSocket is wss on the TLS port (this talker has no plain web
	// listener at all).
	if out, _ := la.cli("status"); !strings.Contains(out, "(1 telnet, 0 TLS, 0 web, 1 web over TLS)") {
		t.Errorf("status does not count the browser as web over TLS:\n%s", out)
	}
	br.typeLine("say hello over https")
	tel.Expect("Shielded says 'hello over https'")
	tel.Send("say one")
	br.expect("Tel says 'one'")

	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("talker reboot: %d %s", code, out)
	}
	br.expect("Reboot complete")
	tel.Send("say two")
	br.expect("Tel says 'two'")
	br.typeLine("say after the reboot")
	tel.Expect("Shielded says 'after the reboot'")

	// A TLS session continues after a kill -9 when it was quiet since the
	// last checkpoint (every 200 ms): two intervals.
	time.Sleep(600 * time.Millisecond)
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	br.expect("recovered")
	tel.Expect("recovered")
	tel.Send("say three")
	br.expect("Tel says 'three'")
	br.typeLine("say after the crash")
	tel.Expect("Shielded says 'after the crash'")

	st = br.state()
	if st.Opens != 1 || st.Closes != 0 {
		t.Errorf("the page's WebSocket opened %d times and closed %d times, want 1 and 0", st.Opens, st.Closes)
	}
	for _, line := range []string{"Tel says 'one'", "Tel says 'two'", "Tel says 'three'"} {
		if n := strings.Count(st.Text, line); n != 1 {
			t.Errorf("the page shows %q %d times, want once", line, n)
		}
	}
	if n := strings.Count(tel.Text(), "Shielded says 'after the crash'"); n != 1 {
		t.Errorf("Tel saw the line after the crash %d times", n)
	}
}

// TestChromiumOverHTTPSBusyAtKill9Resumes: a kill -9 while the talker is
// writing to the page over wss (a telnet player talking every 10 ms)
// closes that connection by the TLS crash rule; the page reconnects by
// itself, presents its resume token and takes its session back, showing
// what was said meanwhile once, and goes on talking.
func TestChromiumOverHTTPSBusyAtKill9Resumes(t *testing.T) {
	if findChromium() == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium); skipping the headless browser test")
	}
	tlsAddr := freePort(t)
	la := startAngel(t, "--listen-tls", tlsAddr, "--line-rate", "0", "--byte-rate", "0")
	waitListening(t, tlsAddr, 10*time.Second)
	br := startChromium(t, "--ignore-certificate-errors")
	br.call("Page.navigate", map[string]any{"url": "https://" + tlsAddr + "/"})
	br.expect("enter your name: ")
	br.typeLine("Shielded")
	br.expect("(yes/no): ")
	br.typeLine("yes")
	br.expect("Choose a password: ")
	br.typeLine("shielded-pw")
	br.expect("Type the password again: ")
	br.typeLine("shielded-pw")
	br.expect("Exits:")
	tel := la.dialClient()
	tel.Register("Tel", "tel-pw-1")
	br.typeLine("say ready")
	tel.Expect("Shielded says 'ready'")
	// The page has its resume token once the talker sent it (after its
	// first input as a player).
	deadline := time.Now().Add(10 * time.Second)
	for {
		var has bool
		br.eval(`(() => { try { return !!sessionStorage.getItem("talker-resume") } catch (e) { return false } })()`, &has)
		if has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page never got a resume token")
		}
		time.Sleep(50 * time.Millisecond)
	}

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tel.Send(fmt.Sprintf("say busy %d", i))
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-done
	tel.Expect("recovered")
	tel.Send("say while you were away")
	tel.Expect("You say 'while you were away'")
	st := br.expect("Tel says 'while you were away'")
	if st.Closes == 0 {
		t.Log("the last checkpoint came after the last record: the WebSocket continued")
	} else if st.Opens != 2 {
		t.Errorf("after the crash the page's WebSocket opened %d times and closed %d, want 2 and 1", st.Opens, st.Closes)
	}
	br.typeLine("say back again")
	tel.Expect("Shielded says 'back again'")
	if n := strings.Count(br.state().Text, "Tel says 'while you were away'"); n != 1 {
		t.Errorf("the page shows the missed line %d times", n)
	}
}
