package server

import (
	"strconv"
	"strings"
	"time"

	"talker/reboot"
)

// An in-game shutdown: 'shutdown [seconds|cancel] [reason]' counts down
// with announcements (countdown.go), like a reboot, and then asks the program to stop
// exactly as `talker stop` does (Server.ShutdownRequested): players are
// told and disconnected, the stop is recorded, the process exits with code
// 0 and the angel does not restart it. The countdown is carried across a
// reboot in SystemState.Shutdown.

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
	seconds, reason := 0, strings.TrimSpace(args)
	if n, err := strconv.Atoi(first); err == nil {
		if n < 0 || n > 24*3600 {
			s.println("The countdown must be between 0 and 86400 seconds.")
			return
		}
		seconds, reason = n, strings.TrimSpace(rest)
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
		w.shutdownNow(s.Player.Name, reason)
		return
	}
	w.shutdownCountdown = w.newCountdown(reboot.ModeShutdown, s, reason, seconds)
	w.announceCountdown(w.shutdownCountdown, time.Duration(seconds)*time.Second)
}

// shutdownNow tells everyone and asks the program to stop.
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
