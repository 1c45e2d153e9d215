package cli

import (
	"strings"
	"testing"
)

// TestPanicRecoversAndRepeatOffenderIsDisabled: a command that panics is
// caught and turned into a recovery reboot (nobody is disconnected, one
// line says so); when it does it again it is disabled until an admin
// enables it.
func TestPanicRecoversAndRepeatOffenderIsDisabled(t *testing.T) {
	lt := startTalker(t)
	lt.createAccount("Boss", "boss-password", "admin")
	boss := lt.dial()
	boss.Login("Boss", "boss-password")
	alice := lt.dial()
	alice.Register("Alice", "alice-pw")
	waiting := lt.dial()
	waiting.Expect("enter your name: ")

	gen1 := lt.pid()
	boss.Send("crash")
	boss.Expect("That command tripped the talker up")
	alice.Expect("The talker tripped over something and recovered")
	lt.waitExit(gen1)
	gen2 := lt.pid()
	if gen2 == gen1 {
		t.Fatal("no recovery reboot")
	}
	alice.Send("say still here")
	boss.Expect("Alice says 'still here'")
	log := lt.logWhen(func(log string) bool {
		return strings.Contains(log, "panic caught") && strings.Contains(log, "command=crash") && strings.Contains(log, "goroutine ")
	})
	if !strings.Contains(log, "panic caught: recovering with a seamless reboot") ||
		!strings.Contains(log, "command=crash") || !strings.Contains(log, "goroutine ") {
		t.Error("the log lacks the panic, the command or the stack")
	}

	boss.Send("crash")
	boss.Expect("crashed the talker twice and has been disabled")
	alice.Expect("tripped over something and recovered")
	lt.waitExit(gen2)
	boss.Send("crash")
	boss.Expect("The 'crash' command has been disabled because it crashed the talker")
	boss.Send("enable")
	boss.Expect("Disabled commands: crash.")
	boss.Send("enable crash")
	boss.Expect("'crash' is enabled again.")

	waiting.Send("Latecomer")
	waiting.Expect("(yes/no): ")
	for _, c := range []interface{ Closed() bool }{boss, alice, waiting} {
		if c.Closed() {
			t.Fatal("a client was disconnected by a recovered panic")
		}
	}
	st, _ := lt.cli("status")
	if !strings.Contains(st, "last recover") {
		t.Errorf("status does not show the recovery:\n%s", st)
	}
}
