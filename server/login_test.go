package server

import (
	"strings"
	"testing"
	"time"

	"talker/player"
	"talker/server/talkertest"
)

func TestRegisterAndLogin(t *testing.T) {
	ts := startServer(t)
	c := ts.dial()
	c.Expect("Please enter your name: ")
	c.Send("alice")
	c.Expect("Create a new account called Alice? (yes/no): ")
	c.Send("yes")
	c.Expect("Choose a password: ")
	if !c.EchoOff() {
		t.Error("echo not switched off for the password")
	}
	c.Send("hunter22")
	c.Expect("Type the password again: ")
	c.Send("hunter22")
	c.Expect("Your account has been created. Welcome, Alice!")
	c.Expect("The Main Room")
	if c.EchoOff() {
		t.Error("echo still off after registration")
	}
	// Exactly one WILL ECHO and one WONT ECHO for the whole registration
	// (Mudlet stops masking passwords if ECHO flaps).
	var echoNegs []string
	for _, n := range c.Negotiations() {
		if strings.HasSuffix(n, " 1") {
			echoNegs = append(echoNegs, n)
		}
	}
	if strings.Join(echoNegs, ",") != "WILL 1,WONT 1" {
		t.Errorf("echo negotiations = %v, want one WILL and one WONT", echoNegs)
	}
	c.Send("quit")
	c.Expect("Goodbye")
	c.WaitClosed()

	c2 := ts.dial()
	c2.Expect("name: ")
	c2.Send("ALICE")
	c2.Expect("Password: ")
	c2.Send("hunter22")
	c2.Expect("Welcome back, Alice!")
	c2.Expect("The Main Room")

	p, err := ts.srv.Store().Player("alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rank != player.Newbie || p.Logins != 2 || p.PasswordHash == "hunter22" {
		t.Errorf("stored player wrong: rank %v logins %d", p.Rank, p.Logins)
	}
}

func TestRegistrationMismatchAndRules(t *testing.T) {
	ts := startServer(t)
	c := ts.dial()
	c.Expect("name: ")
	c.Send("x")
	c.Expect("names are 2 to 16 letters long")
	c.Expect("name: ")
	c.Send("bob99")
	c.Expect("only the letters")
	c.Send("admin")
	c.Expect("reserved")
	c.Send("bob")
	c.Expect("(yes/no): ")
	c.Send("maybe")
	c.Expect("yes or no")
	c.Send("no")
	c.Expect("name: ")
	c.Send("bob")
	c.Expect("(yes/no): ")
	c.Send("y")
	c.Expect("Choose a password: ")
	c.Send("short")
	c.Expect("at least 6")
	c.Expect("Choose a password: ")
	c.Send("first-one")
	c.Expect("again: ")
	c.Send("second-one")
	c.Expect("did not match")
	c.Expect("Choose a password: ")
	c.Send("right-one")
	c.Expect("again: ")
	c.Send("right-one")
	c.Expect("Welcome, Bob!")
}

func TestWrongPasswordAndThrottle(t *testing.T) {
	ts := startServer(t)
	ts.newPlayer("Carol").Send("quit")
	c := ts.dial()
	c.Expect("name: ")
	c.Send("carol")
	for i := 0; i < 2; i++ {
		c.Expect("Password: ")
		c.Send("nope-nope")
		c.Expect("Wrong password.")
	}
	c.Expect("Password: ")
	c.Send("nope-nope")
	c.Expect("Too many attempts; goodbye.")
	c.WaitClosed()

	// The address and the name are now throttled: even the right password
	// is refused for a while, without being checked.
	c2 := ts.dial()
	c2.Expect("name: ")
	c2.Send("carol")
	c2.Expect("Password: ")
	c2.Send("secret-Carol")
	c2.Expect("Too many failed logins")
	c2.WaitClosed()
}

func TestTakeover(t *testing.T) {
	ts := startServer(t)
	a := ts.newPlayer("Dave")
	a.Send("title the Bold")
	a.Expect("Your title is now")
	a.Send("go lounge")
	a.Expect("The Lounge")
	watcher := ts.newPlayer("Erin")
	watcher.Send("go lounge")
	watcher.Expect("Dave the Bold.")

	b := ts.dial()
	got := b.Login("dave", "secret-Dave")
	a.Expect("logged in from another connection")
	a.WaitClosed()
	if !strings.Contains(got, "taken over your session") || !strings.Contains(got, "The Lounge") {
		t.Errorf("takeover transcript lacks the message or the old room:\n%s", got)
	}
	watcher.Expect("Dave has reconnected.")
	b.Send("say still here")
	watcher.Expect("Dave says 'still here'")
	ts.srv.Do(func(w *World) {
		if n := len(w.rooms["lounge"].Members); n != 2 {
			t.Errorf("lounge has %d members after takeover, want 2", n)
		}
	})
}

func TestLoginTimeoutAndQuitAtPrompt(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.LoginTimeout = time.Second })
	c := ts.dial()
	c.Expect("name: ")
	c.Expect("Login timed out")
	c.WaitClosed()

	q := ts.dial()
	q.Expect("name: ")
	q.Send("quit")
	q.Expect("Goodbye")
	q.WaitClosed()
}

func TestMaxPerAddress(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxPerAddress = 2 })
	ts.dial().Expect("name: ")
	ts.dial().Expect("name: ")
	third := ts.dial()
	third.Expect("Too many connections from your address")
	third.WaitClosed()
}

func TestTelnetNegotiationAtLogin(t *testing.T) {
	ts := startServer(t)
	c := ts.dial(talkertest.Options{Width: 40, Height: 20, TTypes: []string{"TINTIN++", "XTERM", "MTTS 137"}})
	if _, ok := c.TryExpect("name: ", 5*time.Second); !ok {
		t.Fatal("no name prompt")
	}
	c.Quiet(100 * time.Millisecond)
	negs := strings.Join(c.Negotiations(), ",")
	for _, want := range []string{"WILL 25", "DO 31", "DO 24", "WILL 42", "WILL 70"} {
		if !strings.Contains(negs, want) {
			t.Errorf("opening negotiation lacks %s: %s", want, negs)
		}
	}
	if strings.Contains(negs+",", "WILL 3,") {
		t.Errorf("SGA offered (puts plain telnet in character mode): %s", negs)
	}
	c.Send("Fred")
	c.Expect("(yes/no): ")
	c.Send("yes")
	c.Expect("password: ")
	c.Send("fredfred")
	c.Expect("again: ")
	c.Send("fredfred")
	c.Expect("Exits:")
	if c.Prompts() == 0 {
		t.Error("no EOR/GA after prompts although the client agreed to EOR")
	}
	ts.srv.Do(func(w *World) {
		s := w.online["fred"]
		if s.Telnet.Width != 40 || s.Telnet.ClientName != "TINTIN++" || s.Telnet.MTTS != 137 {
			t.Errorf("telnet state: %+v", s.Telnet)
		}
	})
	// Word wrap follows the window width.
	c.Send("description " + strings.Repeat("word ", 30))
	out := c.Expect("Your description is now")
	_ = out
	for _, line := range talkertest.Lines(c.Quiet(300 * time.Millisecond)) {
		if len(line) > 40 {
			t.Errorf("line longer than the window: %q", line)
		}
	}
}
