package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// A headless Chromium driven over the DevTools protocol (a WebSocket, JSON
// messages, Runtime.evaluate): no browser-automation dependency, only the
// WebSocket library the talker already uses.

// chromium starts a headless Chromium with a private profile and returns a
// connection to its first page. The browser is killed by pid in cleanup.
type chromium struct {
	t    *testing.T
	nc   net.Conn // the page target's DevTools WebSocket
	next int      // the last command id
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startChromium(t *testing.T, extraArgs ...string) *chromium {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium); skipping the headless browser test")
	}
	profile := t.TempDir()
	args := append([]string{"--headless=new", "--remote-debugging-port=0", "--user-data-dir=" + profile,
		"--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--remote-allow-origins=*"}, extraArgs...)
	cmd := exec.Command(bin, append(args, "about:blank")...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		// The browser and its helper processes (its own process group).
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// Chromium writes its DevTools port to the profile once it listens.
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for port == "" {
		if b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			if lines := strings.Split(string(b), "\n"); len(lines) > 1 && lines[0] != "" {
				port = strings.TrimSpace(lines[0])
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromium did not start its DevTools listener:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The page target's WebSocket.
	var targets []struct {
		Type string `json:"type"`
		URL  string `json:"webSocketDebuggerUrl"`
	}
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		var page string
		for _, tg := range targets {
			if tg.Type == "page" {
				page = tg.URL
			}
		}
		if page != "" {
			nc, _, _, err := ws.Dial(t.Context(), page)
			if err != nil {
				t.Fatalf("DevTools WebSocket: %v", err)
			}
			c := &chromium{t: t, nc: nc}
			t.Cleanup(func() { nc.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromium has no page target: %v %+v\n%s", err, targets, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends one DevTools command and returns its result.
func (c *chromium) call(method string, params any) json.RawMessage {
	c.t.Helper()
	c.next++
	id := c.next
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	c.nc.SetDeadline(time.Now().Add(15 * time.Second))
	defer c.nc.SetDeadline(time.Time{})
	if err := wsutil.WriteClientText(c.nc, msg); err != nil {
		c.t.Fatalf("DevTools %s: %v", method, err)
	}
	for {
		b, err := wsutil.ReadServerText(c.nc)
		if err != nil {
			c.t.Fatalf("DevTools %s: %v", method, err)
		}
		var reply struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &reply) != nil || reply.ID != id {
			continue // an event, or another reply
		}
		if reply.Error != nil {
			c.t.Fatalf("DevTools %s: %s", method, reply.Error.Message)
		}
		return reply.Result
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value
// into out.
func (c *chromium) eval(expr string, out any) {
	c.t.Helper()
	res := c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.Exception != nil {
		c.t.Fatalf("evaluate %q: %v %+v", expr, err, r.Exception)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			c.t.Fatalf("evaluate %q: value %s: %v", expr, r.Result.Value, err)
		}
	}
}

// pageState is what the page shows and its WebSocket's history.
type pageState struct {
	Text      string `json:"text"`
	Opens     int    `json:"opens"`
	Closes    int    `json:"closes"`
	InputType string `json:"inputType"`
}

func (c *chromium) state() pageState {
	var st pageState
	c.eval(`window.talker ? {text: document.getElementById("out").innerText, opens: talker.opens, closes: talker.closes,
		inputType: document.getElementById("in").type} : {text: "", opens: 0, closes: 0, inputType: ""}`, &st)
	return st
}

// expect waits until the page shows s, and returns the state.
func (c *chromium) expect(s string) pageState {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := c.state()
		if strings.Contains(st.Text, s) {
			return st
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the page does not show %q; it shows:\n%s", s, st.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectCount waits until s appears n times on the page.
func (c *chromium) expectCount(s string, n int) pageState {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := c.state()
		if strings.Count(st.Text, s) >= n {
			return st
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the page shows %q %d times, want %d; it shows:\n%s", s, strings.Count(st.Text, s), n, st.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeLine types a line into the page's input and presses Enter.
func (c *chromium) typeLine(line string) {
	c.t.Helper()
	q, _ := json.Marshal(line)
	c.eval(fmt.Sprintf(`(() => { const i = document.getElementById("in"); i.value = %s;
		document.getElementById("bar").requestSubmit(); return true })()`, q), nil)
}

// TestChromiumThroughRebootAndKill9: a headless Chromium loads the page,
// registers through it (the password field hidden), chats with a telnet
// player, and goes through a seamless reboot and a kill -9 of the talker
// with its WebSocket never closing, every line seen once.
func TestChromiumThroughRebootAndKill9(t *testing.T) {
	if findChromium() == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium); skipping the headless browser test")
	}
	web := freePort(t)
	la := startAngel(t, "--listen-web", web)
	waitListening(t, web, 10*time.Second)
	br := startChromium(t)
	br.call("Page.navigate", map[string]any{"url": "http://" + web + "/"})

	br.expect("enter your name: ")
	br.typeLine("Chromy")
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
	br.typeLine("chromy-pw")
	br.expect("Type the password again: ")
	br.typeLine("chromy-pw")
	br.expect("Exits:")
	if st := br.state(); st.InputType != "text" || strings.Contains(st.Text, "chromy-pw") {
		t.Fatalf("after login the input is %q; password shown: %v", st.InputType, strings.Contains(st.Text, "chromy-pw"))
	}

	// The page says it understands colour (TTYPE, MTTS), so the talker
	// sends it, and the page renders it.
	var coloured int
	br.eval(`document.querySelectorAll("#out span[style*='color']").length`, &coloured)
	if coloured == 0 {
		t.Error("no coloured text on the page after logging in")
	}

	tel := la.dialClient()
	tel.Register("Tel", "tel-pw-1")
	br.typeLine("say hello from chromium")
	tel.Expect("Chromy says 'hello from chromium'")
	tel.Send("say one")
	br.expect("Tel says 'one'")

	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("talker reboot: %d %s", code, out)
	}
	br.expect("Reboot complete")
	tel.Send("say two")
	br.expect("Tel says 'two'")
	br.typeLine("say after the reboot")
	tel.Expect("Chromy says 'after the reboot'")

	time.Sleep(400 * time.Millisecond) // a checkpoint or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	br.expect("recovered")
	tel.Expect("recovered")
	tel.Send("say three")
	st = br.expect("Tel says 'three'")
	br.typeLine("say after the crash")
	tel.Expect("Chromy says 'after the crash'")

	st = br.state()
	if st.Opens != 1 || st.Closes != 0 {
		t.Errorf("the page's WebSocket opened %d times and closed %d times, want 1 and 0", st.Opens, st.Closes)
	}
	for _, line := range []string{"Tel says 'one'", "Tel says 'two'", "Tel says 'three'"} {
		if n := strings.Count(st.Text, line); n != 1 {
			t.Errorf("the page shows %q %d times, want once", line, n)
		}
	}
}
