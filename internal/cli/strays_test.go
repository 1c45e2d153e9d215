package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talker/reboot"
)

// TestAngelKillsAStrayHoldingTheTalkersSockets: a broken new binary that
// daemonizes a process of its own (a double fork and a new session: it
// leaves the binary's tree and process group at once, so the reboot's
// rollback cannot find it) with the talker's
// listening socket inherited is reparented to the angel, which kills it
// within a few seconds. A child of the angel holding none of the talker's
// sockets is left alone.
func TestAngelKillsAStrayHoldingTheTalkersSockets(t *testing.T) {
	la := startAngel(t)
	alice := la.dialClient()
	alice.Register("Alice", "alice-pw")
	time.Sleep(500 * time.Millisecond) // the angel holds the listener by now
	strayFile := filepath.Join(la.dir, "stray.pid")
	la.swapTo(fmt.Sprintf("#!/bin/sh\n( setsid sleep 600 & echo $! > %s )\nexec sleep 600\n", strayFile))
	if out, code := la.cli("reboot", "--timeout", "20s"); code == 0 {
		t.Fatalf("the reboot into a binary that never connects succeeded:\n%s", out)
	}
	b, err := os.ReadFile(strayFile)
	if err != nil {
		t.Fatalf("the broken binary did not start its stray: %v", err)
	}
	var stray int
	fmt.Sscanf(string(b), "%d", &stray)
	deadline := time.Now().Add(10 * time.Second)
	for alive(stray) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(stray) {
		t.Fatalf("the stray %d holding the listening socket lives on (parent %d)", stray, reboot.ParentPID(stray))
	}
	log, _ := os.ReadFile(filepath.Join(la.data, "log", "angel.log"))
	if !strings.Contains(string(log), "held the talker's sockets; killed") {
		t.Errorf("the angel's log does not say why it killed %d:\n%s", stray, log)
	}
	alice.Send("say still here")
	alice.Expect("You say 'still here'")
}
