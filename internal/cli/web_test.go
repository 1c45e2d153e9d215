package cli

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestWebClientSurvivesReboots: a browser client (a real WebSocket on
// 127.0.0.1) logs in, chats with a telnet player through 5 seamless
// reboots without its WebSocket closing, sees every line once, and a frame
// split across a reboot (half before, half after) arrives as one line.
func TestWebClientSurvivesReboots(t *testing.T) {
	web := freePort(t)
	lt := startTalker(t, "--listen-web", web)
	waitListening(t, web, 10*time.Second)

	// The page: one document, nothing from elsewhere.
	resp, err := http.Get("http://" + web + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<title>") || strings.Contains(string(page), "https://") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page: %d %q, CSP %q", resp.StatusCode, page[:min(len(page), 200)], resp.Header.Get("Content-Security-Policy"))
	}
	if st, _ := lt.cli("status"); !strings.Contains(st, "http://"+web+"/") {
		t.Errorf("status does not show the web listener:\n%s", st)
	}

	browser := dialWeb(t, web)
	browser.Register("Webby", "webby-pw")
	tel := lt.dial()
	tel.Register("Tel", "tel-pw-1")

	for i := 0; i < 5; i++ {
		browser.Send(fmt.Sprintf("say from the web %d", i))
		tel.Expect(fmt.Sprintf("Webby says 'from the web %d'", i))
		tel.Send(fmt.Sprintf("say from telnet %d", i))
		browser.Expect(fmt.Sprintf("Tel says 'from telnet %d'", i))
		if i == 4 {
			// Half a frame (the header and part of the payload) before
			// the reboot, the rest after: one line.
			f := wsEncode(ws.OpText, []byte("say split across a reboot"))
			browser.raw(f[:9])
			time.Sleep(50 * time.Millisecond)
			lt.reboot()
			browser.raw(f[9:])
		} else {
			lt.reboot()
		}
		browser.Expect("Reboot complete")
	}
	tel.Expect("Webby says 'split across a reboot'")
	browser.Send("say still here")
	tel.Expect("Webby says 'still here'")
	// A ping is answered; the session goes on.
	browser.frame(ws.OpPing, []byte("hi"))
	tel.Send("say bye")
	browser.Expect("Tel says 'bye'")

	if browser.Closed() {
		t.Fatal("the WebSocket closed")
	}
	text := browser.Text()
	for i := 0; i < 5; i++ {
		if n := strings.Count(text, fmt.Sprintf("Tel says 'from telnet %d'", i)); n != 1 {
			t.Errorf("line %d seen %d times by the browser", i, n)
		}
	}
	if n := strings.Count(text, "Reboot complete"); n != 5 {
		t.Errorf("saw %d reboot-complete lines, want 5", n)
	}
	if strings.ContainsRune(text, 0xff) || strings.Contains(text, "\xff") {
		t.Error("telnet commands reached the page as text")
	}
	// Quitting closes the WebSocket with a Close frame.
	browser.Send("quit")
	browser.Expect("Goodbye")
	deadline := time.Now().Add(5 * time.Second)
	for !browser.Closed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !browser.Closed() {
		t.Error("the WebSocket stayed open after quit")
	}
}

// TestWebClientSurvivesKill9: under the angel, a kill -9 of the talker
// leaves the browser's WebSocket open; a frame half sent before the kill
// (and idle since the checkpoint) completes its line after it.
func TestWebClientSurvivesKill9(t *testing.T) {
	web := freePort(t)
	la := startAngel(t, "--listen-web", web)
	waitListening(t, web, 10*time.Second)
	browser := dialWeb(t, web)
	browser.Register("Webby", "webby-pw")
	tel := la.dialClient()
	tel.Register("Tel", "tel-pw-1")
	browser.Send("say before")
	tel.Expect("Webby says 'before'")

	f := wsEncode(ws.OpText, []byte("say split across a crash"))
	browser.raw(f[:12])
	time.Sleep(500 * time.Millisecond) // a checkpoint or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	browser.Expect("recovered")
	browser.raw(f[12:])
	tel.Expect("Webby says 'split across a crash'")
	tel.Send("say after")
	browser.Expect("Tel says 'after'")
	browser.Send("say me too")
	tel.Expect("Webby says 'me too'")
	if browser.Closed() {
		t.Fatal("the WebSocket closed")
	}
	if n := strings.Count(browser.Text(), "Tel says 'after'"); n != 1 {
		t.Errorf("line seen %d times", n)
	}
}

// TestWebClientBehindProxy: on a listen_web_proxy address the PROXY header
// names the player's address; the WebSocket works after it.
func TestWebClientBehindProxy(t *testing.T) {
	web := freePort(t)
	lt := startTalker(t, "--listen-web-proxy", web)
	waitListening(t, web, 10*time.Second)
	nc, err := net.Dial("tcp", web)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n")); err != nil {
		t.Fatal(err)
	}
	browser := upgradeWeb(t, nc, web)
	browser.Expect("enter your name: ")
	if log := lt.logWhen(func(l string) bool { return strings.Contains(l, "addr=203.0.113.7") }); !strings.Contains(log, "addr=203.0.113.7") {
		t.Errorf("the session does not have the PROXY header's address:\n%s", log)
	}
}

// TestWebClientResumesAfterDrop: a browser whose connection drops
// reconnects and presents its resume token: the session comes back on the
// new WebSocket with what was said meanwhile, once; a used token is
// refused.
func TestWebClientResumesAfterDrop(t *testing.T) {
	web := freePort(t)
	lt := startTalker(t, "--listen-web", web)
	waitListening(t, web, 10*time.Second)
	browser := dialWeb(t, web)
	browser.Register("Webby", "webby-pw")
	tel := lt.dial()
	tel.Register("Tel", "tel-pw-1")
	token := browser.Token()
	browser.nc.Close() // the network drops
	time.Sleep(200 * time.Millisecond)
	tel.Send("say while you were away")
	tel.Expect("You say 'while you were away'")

	again := dialWeb(t, web)
	again.Send("resume:" + token)
	again.Expect("Tel says 'while you were away'")
	again.Send("say back again")
	tel.Expect("Webby says 'back again'")
	if n := strings.Count(again.Text(), "Tel says 'while you were away'"); n != 1 {
		t.Errorf("the missed line came %d times", n)
	}
	if strings.Contains(again.Text(), "enter your name: resume") {
		t.Error("the token was shown")
	}
	// A token works once.
	third := dialWeb(t, web)
	third.Send("resume:" + token)
	third.Expect("please log in again")
	third.Expect("enter your name: ")
}
