package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"talker/reboot"
)

// A seamless reboot, in two halves named by role, side by side:
//
//   - reboot_parent.go, the old generation's side: Server.Reboot runs one
//     attempt through its phases (preflight, announce, begin, stage, pause,
//     snapshot, commit), and every failure takes the one way back,
//     attempt.rollback. The World's side of the pause (quiesce, snapshot,
//     resume) is there too.
//   - reboot_child.go, the new generation's side: TakeOver receives the
//     staged sockets and wraps them (Prepared) while the old generation
//     still serves, then restores the state sent at the pause (Restore),
//     reports, becomes ready and starts (Restored.Start).
//
// Below them, package reboot moves the descriptors and bytes between the
// processes (reboot/parent.go and reboot/child.go), and package state is
// the format of what is handed over. This file holds what both halves
// share: the request, the timings admins see, and what the server needs
// from package reboot.

// Upgrader is what the server needs from the process to reboot: package
// reboot's Upgrader. Without one (an in-process test, say) reboots are
// refused with a clear message.
type Upgrader interface {
	Begin(req reboot.BeginRequest) (*reboot.Attempt, error)
	WaitForParent(ctx context.Context) error
}

// RebootRequest asks for a seamless reboot, a reset, a restart or (after a
// panic) a recovery.
type RebootRequest struct {
	Mode      reboot.Mode // ModeReboot, ModeReset, ModeRestart or ModeRecover
	Reason    string
	By        string // who asked, for messages and logs
	BySession uint64 // the admin's session, to tell them the outcome in-game
}

// ErrRebootInProgress is returned when a reboot is asked for during one.
var ErrRebootInProgress = errors.New("a reboot is already in progress")

// RebootTimings are the phases of one reboot, as admins see them: the old
// generation measures up to the handoff, the new one its restore and the
// pause players saw.
type RebootTimings struct {
	Mode        reboot.Mode
	At          time.Time
	By          string // who asked (a player, "console", "signal")
	BySession   uint64 // the session to tell, if in-game
	Reason      string
	FromVersion string
	ToVersion   string
	FromPID     int
	ToPID       int
	Sessions    int
	Dropped     int
	Prepare     time.Duration // start the new binary and stage the sockets, before the pause
	Exec        time.Duration // of Prepare: until the new binary said hello
	Stage       time.Duration // of Prepare: handing it the sockets and their records
	Quiesce     time.Duration // stop reading, drain the world, stop writing
	Snapshot    time.Duration // encode the state
	Handoff     time.Duration // write the state, pass it and the unstaged sockets
	Restore     time.Duration // decode and rebuild in the new binary
	Pause       time.Duration // from the start of the quiesce to everyone resumed
}

// timingsLine formats a reboot's phases for admins.
func timingsLine(t *RebootTimings) string {
	parts := []string{
		"prepare " + ms(t.Prepare) + " (exec " + ms(t.Exec) + ", staging " + ms(t.Stage) + "; before the pause)",
		"quiesce " + ms(t.Quiesce),
		"snapshot " + ms(t.Snapshot),
		"handoff " + ms(t.Handoff),
		"restore " + ms(t.Restore),
		"pause " + ms(t.Pause),
	}
	s := strings.Join(parts, ", ") + "; " + itoa(t.Sessions) + " sessions"
	if t.Dropped > 0 {
		s += " (" + itoa(t.Dropped) + " could not be restored)"
	}
	return s + "; version " + t.FromVersion + " -> " + t.ToVersion + ", pid " + itoa(t.FromPID) + " -> " + itoa(t.ToPID)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// requestReboot asks for a reboot from off the world goroutine (the reboot
// needs the world to answer its requests): a countdown that fires, an
// admin's 'reboot', a panic's recovery.
func (w *World) requestReboot(req RebootRequest) {
	if w.doReboot == nil {
		return
	}
	if _, err := w.doReboot(req); err != nil && errors.Is(err, ErrRebootInProgress) {
		w.do(func(w *World) {
			if s := w.sessions[req.BySession]; s != nil {
				s.println("A reboot is already in progress.")
			}
		})
	}
}

// runStartHooks and runStopHooks run the lifecycle hooks, which can ask
// the world which mode they run in (hookapi.go).
func (w *World) runStartHooks(mode reboot.Mode) error {
	w.hookMode = mode
	return w.cfg.Hooks.RunStart(mode, w)
}

func (w *World) runStopHooks(mode reboot.Mode) error {
	w.hookMode = mode
	return w.cfg.Hooks.RunStop(mode, w)
}
