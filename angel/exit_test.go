package angel

import (
	"syscall"
	"testing"

	"talker/angel/link"
	"talker/reboot"
)

// TestEndingClassified: every way a generation can end, and what the angel
// makes of it. An exit code settles it; without one the bye does; a process
// the angel killed crashed unless the angel is stopping.
func TestEndingClassified(t *testing.T) {
	exited := func(code int) *syscall.WaitStatus {
		ws := syscall.WaitStatus(code << 8) // WIFEXITED with this status
		return &ws
	}
	signalled := func(sig syscall.Signal) *syscall.WaitStatus {
		ws := syscall.WaitStatus(sig)
		return &ws
	}
	for _, c := range []struct {
		name string
		e    ending
		want exitKind
		how  string
	}{
		{"handed over, our child", ending{status: exited(reboot.ExitHandedOver)}, exitHandedOver, "exit status 10"},
		{"handed over, adopted (bye)", ending{bye: link.ByeHandedOver}, exitHandedOver, "exited (not our child: status unknown)"},
		{"shut down", ending{status: exited(reboot.ExitShutdown)}, exitShutdown, "exit status 0"},
		{"shut down, adopted (bye)", ending{bye: link.ByeShutdown}, exitShutdown, ""},
		{"restart asked", ending{status: exited(reboot.ExitRestart)}, exitRestart, ""},
		{"restart, adopted (bye)", ending{bye: link.ByeRestart}, exitRestart, ""},
		{"configuration broken", ending{status: exited(reboot.ExitConfig)}, exitConfig, ""},
		{"failed to start", ending{status: exited(reboot.ExitError)}, exitCrash, "exit status 1"},
		{"an exit code beats the bye", ending{status: exited(reboot.ExitError), bye: link.ByeShutdown}, exitCrash, ""},
		{"kill -9, no bye", ending{status: signalled(syscall.SIGKILL)}, exitCrash, "killed by SIGKILL"},
		{"killed after its bye", ending{status: signalled(syscall.SIGKILL), bye: link.ByeHandedOver}, exitHandedOver, ""},
		{"adopted, silent", ending{}, exitCrash, ""},
		{"killed by the angel (hung)", ending{status: signalled(syscall.SIGKILL), killedBy: "hung (no heartbeat)", bye: link.ByeHandedOver},
			exitCrash, "hung (no heartbeat); killed by SIGKILL"},
		{"killed by the angel while stopping", ending{status: exited(1), killedBy: "hung", stopping: true}, exitShutdown, ""},
		{"anything while stopping", ending{status: exited(reboot.ExitError), stopping: true}, exitShutdown, ""},
		{"a successor while stopping is still followed", ending{status: exited(reboot.ExitHandedOver), stopping: true}, exitHandedOver, ""},
	} {
		if got := c.e.classify(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if c.how != "" && c.e.describe() != c.how {
			t.Errorf("%s: described as %q, want %q", c.name, c.e.describe(), c.how)
		}
	}
	if exitHandedOver.String() != "handed over" || exitKind(99).String() != "exit kind 99" {
		t.Error("exit kinds' names")
	}
}

// TestKilledFromOutside: only a SIGKILL the angel did not send clears the
// line a generation was running (reboot.Header.Killed); a fatal error, a
// SIGSEGV, a hang the angel ended or an unknown status do not.
func TestKilledFromOutside(t *testing.T) {
	sig := func(s syscall.Signal) *syscall.WaitStatus { ws := syscall.WaitStatus(s); return &ws }
	exit2 := syscall.WaitStatus(2 << 8)
	for _, c := range []struct {
		name string
		e    ending
		want bool
	}{
		{"kill -9 from outside", ending{status: sig(syscall.SIGKILL)}, true},
		{"killed by the angel for a hang", ending{status: sig(syscall.SIGKILL), killedBy: "hung (no heartbeat)"}, false},
		{"SIGSEGV", ending{status: sig(syscall.SIGSEGV)}, false},
		{"Go fatal error (exit 2)", ending{status: &exit2}, false},
		{"adopted, status unknown", ending{}, false},
	} {
		if got := c.e.killedFromOutside(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSignalSentBy reads the head of the runtime's dumps: a kill -SEGV
// (sigcode 0, SI_USER; addr holds the sender's pid) is from outside, a
// fault (sigcode 1) and a fatal error are not.
func TestSignalSentBy(t *testing.T) {
	for _, c := range []struct {
		trace  string
		sender int
		ok     bool
	}{
		{"SIGSEGV: segmentation violation\nPC=0x490aa1 m=0 sigcode=0 addr=0x2e3\n\ngoroutine 0 gp=0x11ca500 m=0 [idle]:\n", 739, true},
		{"SIGABRT: abort\nPC=0x490aa1 m=3 sigcode=0\n\ngoroutine 0 [idle]:\n", 0, true},
		{"SIGSEGV: segmentation violation\nPC=0x490aa1 m=0 sigcode=1 addr=0x0\n", 0, false},
		{"fatal error: sync: unlock of unlocked mutex\n\ngoroutine 7 [running]:\n", 0, false},
		{"", 0, false},
		{"SIGSEGV: segmentation violation\n", 0, false},
	} {
		sender, ok := signalSentBy([]byte(c.trace))
		if sender != c.sender || ok != c.ok {
			t.Errorf("%q: sender %d ok %v, want %d %v", c.trace, sender, ok, c.sender, c.ok)
		}
	}
}
