package server

// The World's lifecycle: one typed phase, and the data of the phase it is
// in. Every transition happens on the world's goroutine, in the methods
// below and in the two halves of a reboot (reboot_parent.go).
//
//	serving ──beginReboot──▶ rebooting ──startQuiesce──▶ pausing ──checkQuiesced──▶ paused
//	   ▲                        │  ▲                                                  │
//	   └──────endReboot─────────┘  └───────────────────resumeAll──────────────────────┘
//	serving, rebooting ──shutdown──▶ stopping      paused ──(handed over)──▶ the process exits
//
// A reboot that fails goes back the way it came: resumeAll (if the pause
// had begun), then endReboot. A shutdown is final: nothing leaves stopping.

// phase is where the World is in its life.
type phase uint8

const (
	// phaseServing: the normal life of a generation.
	phaseServing phase = iota
	// phaseRebooting: a reboot has been announced and its stop hooks have
	// run; the new binary starts and takes in the sockets while this
	// generation still serves. No password check starts (see mustDefer).
	phaseRebooting
	// phasePausing: the pause has begun: the accept loops are parked and
	// every reader is being frozen; input queued for the world is held
	// for the next generation instead of handled (unless it is an older
	// build: pauseState.carry).
	phasePausing
	// phasePaused: every reader has stopped and no password check runs:
	// nothing may change until the handoff commits (the process exits) or
	// fails (resumeAll).
	phasePaused
	// phaseStopping: shutting down for good: sessions are closing, and the
	// world's loop ends when the last one has gone.
	phaseStopping
)

var phaseNames = [...]string{
	phaseServing:   "serving",
	phaseRebooting: "rebooting",
	phasePausing:   "pausing",
	phasePaused:    "paused",
	phaseStopping:  "stopping",
}

func (p phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(" + itoa(int(p)) + ")"
}

// rebootInProgress is the World's side of a reboot, from its announce to
// its end (phases rebooting, pausing and paused).
type rebootInProgress struct {
	req RebootRequest
	// superseded is a countdown to the same kind of reboot as this one,
	// which started early (from a shell, SIGHUP, an admin's 'reboot'):
	// done if this reboot succeeds, running again if it fails.
	superseded *countdown
	// hashesIdle, if set, is closed when no password check is running
	// (waitHashes).
	hashesIdle chan struct{}
}

// pauseState is the pause's data (phases pausing and paused).
type pauseState struct {
	// carry: input queued or held is carried to the next generation
	// rather than handled here. False when the new binary is an older
	// build, which would refuse held input.
	carry bool
	// readers are the sessions whose reader has not stopped yet.
	readers map[uint64]bool
	// done is closed on entering phasePaused.
	done chan struct{}
}

// beginReboot enters phaseRebooting for req. A countdown to the same kind
// of reboot is done by this one (put back if it fails, see endReboot); a
// countdown to another kind carries on, in the next generation too.
func (w *World) beginReboot(req RebootRequest) {
	w.reboot = &rebootInProgress{req: req}
	if c := w.countdown; c != nil && c.Mode == req.Mode {
		w.reboot.superseded, w.countdown = c, nil
	}
	if w.phase == phaseServing {
		w.phase = phaseRebooting
	}
}

// endReboot leaves a reboot that failed: the world serves again (unless a
// shutdown began meanwhile), and the input held back for the next
// generation is handled here after all, in order, before anything typed
// since.
func (w *World) endReboot() {
	r := w.reboot
	w.reboot = nil
	w.recoveryAsked = false
	if w.phase == phaseRebooting {
		w.phase = phaseServing
	}
	if r != nil && r.superseded != nil && w.countdown == nil {
		c := r.superseded
		// The countdown this reboot pre-empted still has a reboot to do,
		// unless its time has come meanwhile: this failure was its reboot.
		if left := c.At.Sub(w.cfg.Now()); left > 0 {
			w.countdown = c
			w.announceCountdown(c, left)
		}
	}
	w.replayHeld()
	w.dispatchHashes()
}

// paused reports whether connections are paused for a handoff (or pausing):
// a connection accepted now starts in whichever generation carries on.
func (w *World) paused() bool { return w.phase == phasePausing || w.phase == phasePaused }

// closeReason says why a session ended: logged, and deciding whether its
// departure is announced.
type closeReason uint8

const (
	closeQuit           closeReason = iota + 1 // the player typed quit
	closeQuitAtLogin                           // quit at a login prompt
	closeConnectionLost                        // the client went away (EOF, reset, a write that failed, a full backlog)
	closeFlooding                              // input far beyond the limits
	closeLoginTimeout                          // too long at the login prompts
	closeIdleTimeout                           // idle past --idle-timeout
	closeLoginThrottled                        // too many failed logins from the address or for the name
	closeBannedName                            // the name is banned
	closeWrongPasswords                        // too many wrong passwords on this connection
	closeTakenOver                             // the same player logged in on another connection
	closeKicked                                // by staff
	closeBanned                                // by staff, with a ban
	closeShutdown                              // the talker is stopping
	closeRestart                               // a restart disconnects everyone
	closeDeleted                               // the account was deleted
)

var closeReasonNames = [...]string{
	closeQuit:           "quit",
	closeQuitAtLogin:    "quit at login",
	closeConnectionLost: "connection lost",
	closeFlooding:       "flooding",
	closeLoginTimeout:   "login timeout",
	closeIdleTimeout:    "idle timeout",
	closeLoginThrottled: "login throttled",
	closeBannedName:     "banned name",
	closeWrongPasswords: "too many wrong passwords",
	closeTakenOver:      "taken over",
	closeKicked:         "kicked",
	closeBanned:         "banned",
	closeShutdown:       "shutdown",
	closeRestart:        "restart",
	closeDeleted:        "account deleted",
}

func (r closeReason) String() string {
	if int(r) < len(closeReasonNames) && closeReasonNames[r] != "" {
		return closeReasonNames[r]
	}
	return "close(" + itoa(int(r)) + ")"
}

// everyone reports whether the reason ends every session at once (a
// shutdown, a restart): then nobody needs to hear about each departure,
// which would cost N² lines.
func (r closeReason) everyone() bool { return r == closeShutdown || r == closeRestart }
