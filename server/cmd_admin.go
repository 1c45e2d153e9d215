package server

import (
	"strconv"
	"strings"
	"time"

	"talker/config"
	"talker/player"
	"talker/reboot"
)

// adminRank may reboot the talker.
const adminRank = player.Admin

func adminCommands() []*command {
	return []*command{
		{name: "reboot", minRank: adminRank, category: "Staff", usage: "reboot [seconds | cancel] [reason]",
			summary: "seamless reboot: a new binary takes over, nobody is disconnected",
			help: "Runs the binary the talker was started as (rebuilt or not) and hands it every connection, " +
				"login and half-typed line; players see one line before and one after. With a number of " +
				"seconds, counts down first with announcements; 'reboot cancel' stops a countdown. If the new " +
				"binary fails in any way, nothing happens to anyone and you are told why.",
			run: func(w *World, s *Session, args string) { w.cmdReboot(s, args, reboot.ModeReboot) }},
		{name: "reset", minRank: adminRank, category: "Staff", usage: "reset [seconds | cancel] [reason]",
			summary: "seamless reboot that runs the cold-start hooks",
			help:    "Like reboot (nobody is disconnected), but the lifecycle hooks run as for a cold start.",
			run:     func(w *World, s *Session, args string) { w.cmdReboot(s, args, reboot.ModeReset) }},
		{name: "config", minRank: adminRank, category: "Staff", usage: "config [reload]",
			summary: "show the settings, or re-read the configuration file",
			help: "'config' lists every setting in effect. 'config reload' re-reads the configuration file " +
				"(talker.toml in the data directory): what can change at once does, for everyone on, and you are " +
				"told which changes wait for the next reboot. A file with mistakes changes nothing; you are told " +
				"what is wrong, by line.",
			run: (*World).cmdConfig},
		{name: "uptime", category: "Information", usage: "uptime",
			summary: "how long the talker has been up, and its reboots",
			help: "Shows when the talker was last started from cold, how many seamless reboots it has had since and, counted apart, " +
				"how many times it recovered from a crash, and when the last of either was.",
			run: (*World).cmdUptime},
	}
}

func (w *World) cmdReboot(s *Session, args string, mode reboot.Mode) {
	first, rest, _ := strings.Cut(args, " ")
	if strings.EqualFold(first, "cancel") {
		if w.countdown == nil {
			s.println("There is no countdown to cancel.")
			return
		}
		// 'reboot cancel' and 'reset cancel' cancel whichever is running:
		// name the one that was.
		mode = w.countdown.Mode
		w.countdown = nil
		w.toOnline("*** The " + string(mode) + " countdown has been cancelled by " + s.Player.Name + ".")
		w.log.Info().Str("by", s.Player.Name).Msg("reboot countdown cancelled")
		w.staffLog(s, string(mode), "", "countdown cancelled")
		return
	}
	seconds := 0
	reason := args
	if n, err := strconv.Atoi(first); err == nil {
		if n < 0 || n > 24*3600 {
			s.println("The countdown must be between 0 and 86400 seconds.")
			return
		}
		seconds, reason = n, strings.TrimSpace(rest)
	}
	if w.cfg.Upgrader == nil {
		s.println("Reboot is not available: this talker was not started by 'talker run'.")
		return
	}
	if w.countdown != nil {
		s.println("A countdown is already running; 'reboot cancel' stops it.")
		return
	}
	req := RebootRequest{Mode: mode, Reason: reason, By: s.Player.Name, BySession: s.ID}
	w.log.Info().Str("by", s.Player.Name).Int("seconds", seconds).Str("reason", reason).Str("mode", string(mode)).Msg("reboot requested in-game")
	logReason := reason
	if seconds > 0 {
		logReason = strings.TrimSpace("in " + plural(seconds, "second") + " " + reason)
	}
	w.staffLog(s, string(mode), "", logReason)
	if seconds == 0 {
		s.println("Rebooting now.")
	}
	if seconds == 0 {
		go w.requestReboot(req)
		return
	}
	w.countdown = w.newCountdown(mode, s, reason, seconds)
	w.announceCountdown(w.countdown, time.Duration(seconds)*time.Second)
}

func (w *World) cmdUptime(s *Session, _ string) {
	now := w.cfg.Now()
	sys := w.system
	s.println("Up for " + ago(now.Sub(sys.ColdStartedAt)) + " since a cold start; this is generation " +
		itoa(sys.Generation) + " (" + plural(sys.Reboots, "seamless reboot") + ", " + recoveries(sys.Recoveries) + ").")
	if t := sys.LastReboot; t != nil {
		what := "Last reboot"
		if t.Mode == reboot.ModeRecover {
			what = "Last crash recovery"
		}
		s.println(what + " " + ago(now.Sub(t.At).Round(time.Second)) + " ago, by " + t.By + ": players paused for " + ms(t.Pause) + ".")
	}
}

// recoveries counts crash recoveries ("1 crash recovery", "2 crash
// recoveries").
func recoveries(n int) string {
	if n == 1 {
		return "1 crash recovery"
	}
	return itoa(n) + " crash recoveries"
}

func (w *World) cmdConfig(s *Session, args string) {
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "":
		s.println("Settings in effect (config reload re-reads " + w.configFileName() + "):")
		for _, line := range strings.Split(strings.TrimRight(config.Show(w.cfg.Settings, w.cfg.Overrides), "\n"), "\n") {
			s.println("  " + line)
		}
	case "reload":
		if w.doReload == nil {
			s.println("Reloading is not available in this talker.")
			return
		}
		// The file is read off the world's goroutine; the answer comes
		// back to the session if it is still here.
		id, name := s.ID, s.Player.Name
		w.staffLog(s, "config reload", "", "")
		go func() {
			rep, err := w.doReload(name)
			w.do(func(w *World) {
				s := w.sessions[id]
				if s == nil {
					return
				}
				if err != nil {
					s.println("The configuration was not reloaded; nothing changed:")
					for _, line := range strings.Split(err.Error(), "; ") {
						s.println("  " + line)
					}
					return
				}
				for _, line := range strings.Split(rep.String(), "\n") {
					s.println(line)
				}
			})
		}()
	default:
		s.println("Usage: config [reload]")
	}
}

func (w *World) configFileName() string {
	if w.cfg.ConfigFile == "" {
		return "no file: this talker was configured by code"
	}
	return w.cfg.ConfigFile
}
