package server

import (
	"strconv"
	"strings"
	"time"

	"talker/reboot"
)

// An in-game shutdown: 'shutdown now|<seconds>|cancel [reason]' stops at
// once or counts down with announcements (countdown.go), like a reboot, and
// then asks the program to stop exactly as `talker stop` does
// (Server.ShutdownRequested): players are told and disconnected, the stop
// is recorded, the process exits with code 0 and the angel stops with it,
// so the talker stays down until `talker start`. Because one word too few
// is an outage, 'shutdown' alone does nothing but explain. The countdown
// is carried across a reboot in SystemState.Shutdown.

// shutdownWarning is what the admin who asks for a shutdown is told.
const shutdownWarning = "The angel stops too: the talker stays down until someone runs 'talker start' on the server."

func (w *World) cmdShutdown(s *Session, args string) {
	first, rest, _ := strings.Cut(args, " ")
	if strings.EqualFold(first, "cancel") {
		if w.shutdownCountdown == nil {
			s.println("There is no shutdown countdown to cancel.")
			return
		}
		w.shutdownCountdown = nil
		w.toOnline("*** The shutdown countdown has been cancelled by " + s.Player.Name + ".")
		w.staffLog(s, "shutdown", "", "cancelled")
		return
	}
	seconds, reason := 0, strings.TrimSpace(rest)
	if n, err := strconv.Atoi(first); err == nil {
		if n < 1 || n > 24*3600 {
			s.println("The countdown must be between 1 and 86400 seconds ('shutdown now' stops at once).")
			return
		}
		seconds = n
	} else if !strings.EqualFold(first, "now") {
		s.println("'shutdown' stops the talker and the angel with it: nobody can log in until someone runs 'talker start' on the server. " +
			"Type 'shutdown now [reason]' to stop at once, or 'shutdown <seconds> [reason]' to count down first ('shutdown cancel' stops a countdown). " +
			"'reboot' restarts without disconnecting anyone.")
		return
	}
	if w.requestStop == nil {
		s.println("Shutdown is not available in this talker.")
		return
	}
	if w.shutdownCountdown != nil {
		s.println("A shutdown countdown is already running; 'shutdown cancel' stops it.")
		return
	}
	logReason := reason
	if seconds > 0 {
		logReason = strings.TrimSpace("in " + plural(seconds, "second") + " " + reason)
	}
	w.staffLog(s, "shutdown", "", logReason)
	if seconds == 0 {
		s.println("Shutting down now. " + shutdownWarning)
		w.shutdownNow(s.Player.Name, reason)
		return
	}
	s.println("Shutting down in " + plural(seconds, "second") + " ('shutdown cancel' stops it). " + shutdownWarning)
	w.shutdownCountdown = w.newCountdown(reboot.ModeShutdown, s, reason, seconds)
	w.announceCountdown(w.shutdownCountdown, time.Duration(seconds)*time.Second)
}

// shutdownNow tells everyone, in the one line they get about it, and asks
// the program to stop.
func (w *World) shutdownNow(by, reason string) {
	w.shutdownCountdown = nil
	msg := "*** The talker is shutting down now, by " + by + "."
	if reason != "" {
		msg = "*** The talker is shutting down now, by " + by + " (" + reason + ")."
	}
	w.toOnline(msg)
	w.log.Info().Str("by", by).Str("reason", reason).Msg("shutdown requested in-game")
	w.requestStop()
}
