package angel

import (
	"strconv"
	"syscall"

	"talker/angel/link"
	"talker/reboot"
)

// What the end of a talker generation means. The angel goes by the exit
// code when it can wait for the process (its child), by what the
// generation said before exiting (its bye) when it cannot (one it adopted,
// whose status is not the angel's to collect), and by its own doing when it
// killed the process itself.

// exitKind is what the angel makes of a generation's end.
type exitKind uint8

const (
	// exitCrash: anything not deliberate: restart it, counting toward the
	// crash loop, handing it the players held.
	exitCrash exitKind = iota
	// exitHandedOver: a seamless reboot: follow the next generation.
	exitHandedOver
	// exitShutdown: a deliberate stop: do not restart.
	exitShutdown
	// exitRestart: a restart was asked for: start a new generation.
	exitRestart
	// exitConfig: its configuration is broken: restarting will not help.
	exitConfig
)

var exitKindNames = [...]string{
	exitCrash:      "crash",
	exitHandedOver: "handed over",
	exitShutdown:   "shutdown",
	exitRestart:    "restart",
	exitConfig:     "configuration error",
}

func (k exitKind) String() string {
	if int(k) < len(exitKindNames) {
		return exitKindNames[k]
	}
	return "exit kind " + strconv.Itoa(int(k))
}

// ending is what the angel knows of how a generation ended.
type ending struct {
	status   *syscall.WaitStatus // nil: not the angel's child, status unknown
	killedBy string              // why the angel killed it ("": it did not)
	bye      link.ByeReason      // what it said before exiting ("": nothing)
	stopping bool                // the angel is stopping the talker
}

// classify says what an ending means. An exit code settles it; without
// one (a process the angel cannot wait for, or one killed by a signal) the
// bye does; a process the angel killed itself crashed, unless the angel is
// stopping (then whatever it was doing, it is stopped).
func (e ending) classify() exitKind {
	code, known := 0, false
	if e.status != nil && e.status.Exited() {
		code, known = e.status.ExitStatus(), true
	}
	byeCounts := !known && e.killedBy == ""
	switch {
	case e.killedBy != "":
		if e.stopping {
			return exitShutdown
		}
		return exitCrash
	case known && code == reboot.ExitHandedOver, byeCounts && e.bye == link.ByeHandedOver:
		return exitHandedOver
	case e.stopping, known && code == reboot.ExitShutdown, byeCounts && e.bye == link.ByeShutdown:
		return exitShutdown
	case known && code == reboot.ExitRestart, byeCounts && e.bye == link.ByeRestart:
		return exitRestart
	case known && code == reboot.ExitConfig:
		return exitConfig
	}
	return exitCrash
}

// killedFromOutside reports a SIGKILL the angel did not send: an admin's
// kill -9 or the OOM killer, not the talker's own failure (a Go fatal
// error exits 2; a hang the angel ends has killedBy set).
func (e ending) killedFromOutside() bool {
	return e.status != nil && e.status.Signaled() && e.status.Signal() == syscall.SIGKILL && e.killedBy == ""
}

// describe says how the process ended, for logs and status: the angel's
// reason first if it killed it.
func (e ending) describe() string {
	how := "exited (not our child: status unknown)"
	if e.status != nil {
		how = exitInfo{status: *e.status}.describe()
	}
	if e.killedBy != "" {
		how = e.killedBy + "; " + how
	}
	return how
}
