package cli

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConfigReloadLive: the talker's name,
// a connection limit and a message are changed in the file; `talker config
// reload` (and the in-game command) put them in effect for the players
// already on, nobody is disconnected, and the next reboot keeps them.
func TestConfigReloadLive(t *testing.T) {
	addr := freePort(t)
	lt := startTalkerWith(t, fmt.Sprintf("name = \"Oak\"\nlisten = [%q]\n", addr))
	lt.createAccount("Boss", "boss-password", "admin")
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	boss := lt.dial()
	boss.Login("Boss", "boss-password")
	alice.Send("who")
	alice.Expect("on Oak:")
	long := strings.Repeat("x", 300)
	alice.Send("say " + long)
	if got := alice.Expect("x'"); strings.Count(got, "x") != 300 {
		t.Fatalf("said 300 x, heard %d:\n%s", strings.Count(got, "x"), got)
	}

	lt.writeConfig(fmt.Sprintf("name = \"Elm\"\nlisten = [%q]\n[limits]\nmax_line = 100\n[messages]\nrebooting = \"*** Hold tight: new code!\"\n", addr))
	out, err := lt.cli("config", "reload")
	if err != nil {
		t.Fatalf("config reload: %v\n%s", err, out)
	}
	for _, want := range []string{"name: Oak -> Elm", "limits.max_line: 1000 -> 100", "messages.rebooting: "} {
		if !strings.Contains(out, want) {
			t.Errorf("reload's answer lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "after the next reboot") {
		t.Errorf("reload says something waits for a reboot:\n%s", out)
	}
	alice.Send("who")
	alice.Expect("on Elm:")
	alice.Send("say " + long)
	got := alice.Expect("too long")
	if strings.Count(got, "x") > 100 {
		t.Fatalf("a line of 304 bytes was not cut at 100 on a connection made before the reload:\n%s", got)
	}

	// The in-game command, by an admin.
	lt.writeConfig(fmt.Sprintf("name = \"Ash\"\nlisten = [%q]\n[limits]\nmax_line = 100\n[messages]\nrebooting = \"*** Hold tight: new code!\"\n", addr))
	boss.Send("config reload")
	boss.Expect("name: Elm -> Ash")
	alice.Send("who")
	alice.Expect("on Ash:")
	alice.Send("config reload")
	alice.Expect("Unknown command") // not for residents

	// The next generation reads the same file: the message is the new one.
	lt.reboot()
	alice.Expect("*** Hold tight: new code!")
	alice.Send("who")
	alice.Expect("on Ash:")
	if alice.Closed() || boss.Closed() {
		t.Fatal("a client was disconnected")
	}
}

// TestConfigListenersChangeAtReboot: the file lists two addresses; one is
// replaced by a third. The reload says it waits for a reboot; after the
// reboot the new address serves, the removed one is closed, and the
// players who came in through either are still connected.
func TestConfigListenersChangeAtReboot(t *testing.T) {
	a, b, c := freePort(t), freePort(t), freePort(t)
	file := func(addrs ...string) string {
		return fmt.Sprintf("listen = [%q, %q]\n", addrs[0], addrs[1])
	}
	lt := startTalkerWith(t, file(a, b))
	waitListening(t, b, 5*time.Second)
	onA := lt.dial()
	onA.Register("Ann", "ann-password")
	lt.addr = b
	onB := lt.dial()
	onB.Register("Bob", "bob-password")
	if conn, err := net.Dial("tcp", c); err == nil {
		conn.Close()
		t.Fatalf("%s serves before it is configured", c)
	}

	lt.writeConfig(file(a, c))
	out, err := lt.cli("config", "reload")
	if err != nil || !strings.Contains(out, "after the next reboot") || !strings.Contains(out, "listen: ") {
		t.Fatalf("config reload: %v\n%s", err, out)
	}
	lt.reboot()

	onA.Send("say still here")
	onB.Expect("Ann says 'still here'")
	onB.Send("say me too")
	onA.Expect("Bob says 'me too'")
	lt.addr = c
	newcomer := lt.dial()
	newcomer.Expect("enter your name: ")
	if conn, err := net.DialTimeout("tcp", b, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after it was removed from the file", b)
	}
	out, err = lt.cli("status")
	if err != nil || !strings.Contains(out, a) || !strings.Contains(out, c) || strings.Contains(out, b) {
		t.Fatalf("status after the reboot: %v\n%s", err, out)
	}
}

// TestConfigBrokenRefused: a file with a mistake changes
// nothing: the reload and the reboot are refused with the line, and the
// talker carries on with the settings it had, in the same process.
func TestConfigBrokenRefused(t *testing.T) {
	addr := freePort(t)
	lt := startTalkerWith(t, fmt.Sprintf("name = \"Oak\"\nlisten = [%q]\n", addr))
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	pid := lt.pid()

	lt.writeConfig(fmt.Sprintf("name = \"Elm\"\nlisten = [%q]\n\n[limits]\nmax_line = \"long\"\n", addr))
	out, err := lt.cli("config", "check")
	if err == nil || !strings.Contains(out, "line 5") {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	out, err = lt.cli("config", "reload")
	if err == nil || !strings.Contains(out, "line 5") || !strings.Contains(out, "carries on") {
		t.Fatalf("config reload of a broken file: %v\n%s", err, out)
	}
	out, err = lt.cli("reboot")
	if err == nil || !strings.Contains(out, "line 5") {
		t.Fatalf("reboot with a broken file: %v\n%s", err, out)
	}
	if got := alice.Quiet(300 * time.Millisecond); strings.Contains(got, "reboot") {
		t.Fatalf("players were told of a reboot that was refused:\n%s", got)
	}
	alice.Send("who")
	alice.Expect("on Oak:")
	if lt.pid() != pid {
		t.Fatalf("the talker changed process: %d -> %d", pid, lt.pid())
	}
}
