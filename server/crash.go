package server

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"talker/reboot"
)

// Crash handling inside the talker. A panic anywhere the talker can catch
// one — a command, the world's loop, a connection's reader or writer — is
// logged with its stack and turns into a seamless reboot in "recover" mode:
// players see one line, and the process that may have been left in a bad
// state is replaced by a fresh one. A command that crashes the talker twice
// within commandCrashWindow is disabled until an admin enables it again.
// (Panics in hooks are turned into errors by package reboot.)

const (
	commandCrashWindow = 10 * time.Minute
	metaCommandCrashes = "command_crashes"   // JSON map: command → last crash time
	metaDisabled       = "disabled_commands" // JSON list of command names
)

// runCommand runs a command, catching a panic.
func (w *World) runCommand(s *Session, c *command, args string) {
	defer func() {
		if r := recover(); r != nil {
			s.println("*** That command tripped the talker up; the talker is recovering and the problem has been logged.")
			w.panicked("command", c.name, s.name(), r, debug.Stack(), "args", args)
		}
	}()
	c.run(w, s, args)
}

// safely runs part of the world's loop, turning a panic into a recovery.
func (w *World) safely(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked(what, "", "", r, debug.Stack())
		}
	}()
	fn()
}

// panicked logs a panic, records which command caused it (disabling a
// repeat offender) and starts a recovery reboot.
func (w *World) panicked(where, cmd, who string, value any, stack []byte, kv ...string) {
	ev := w.log.Error().Str("where", where).Str("panic", fmt.Sprint(value)).Str("stack", string(stack))
	if cmd != "" {
		ev = ev.Str("command", cmd).Str("player", who)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		ev = ev.Str(kv[i], kv[i+1])
	}
	ev.Msg("panic caught: recovering with a seamless reboot")
	if cmd != "" {
		w.recordCommandCrash(cmd)
	}
	if w.cfg.Upgrader == nil || w.phase == phaseStopping || w.recoveryAsked {
		return
	}
	w.recoveryAsked = true
	reason := "a panic in " + where
	if cmd != "" {
		reason = "a panic in the '" + cmd + "' command"
	}
	go w.requestReboot(RebootRequest{Mode: reboot.ModeRecover, Reason: reason, By: "the talker"})
}

// recordCommandCrash notes a crash by a command; a second one within the
// window disables it, durably.
func (w *World) recordCommandCrash(cmd string) {
	now := w.cfg.Now()
	crashes := map[string]time.Time{}
	if v, ok, _ := w.store.Meta(metaCommandCrashes); ok {
		_ = json.Unmarshal([]byte(v), &crashes)
	}
	if last, ok := crashes[cmd]; ok && now.Sub(last) < commandCrashWindow {
		w.disabled[cmd] = true
		w.saveDisabled()
		w.log.Error().Str("command", cmd).Msg("command crashed the talker twice: disabled until an admin enables it")
		for _, s := range w.online {
			if s.Player.Rank >= adminRank {
				s.println("*** [staff] The '" + cmd + "' command crashed the talker twice and has been disabled ('enable " + cmd + "' turns it back on).")
			}
		}
	}
	crashes[cmd] = now
	b, _ := json.Marshal(crashes)
	if err := w.store.SetMeta(metaCommandCrashes, string(b)); err != nil {
		w.log.Error().Err(err).Msg("could not record the command crash")
	}
}

func (w *World) loadDisabled() {
	w.disabled = map[string]bool{}
	if v, ok, _ := w.store.Meta(metaDisabled); ok {
		var names []string
		_ = json.Unmarshal([]byte(v), &names)
		for _, n := range names {
			w.disabled[n] = true
		}
	}
}

func (w *World) saveDisabled() {
	names := make([]string, 0, len(w.disabled))
	for n := range w.disabled {
		names = append(names, n)
	}
	sort.Strings(names)
	b, _ := json.Marshal(names)
	if err := w.store.SetMeta(metaDisabled, string(b)); err != nil {
		w.log.Error().Err(err).Msg("could not save the disabled commands")
	}
}

func crashCommands() []*command {
	return []*command{
		{name: "enable", minRank: adminRank, category: "Staff", usage: "enable [command]",
			summary: "turn a disabled command back on, or list disabled commands",
			help:    "A command that crashes the talker twice in ten minutes is disabled. 'enable <command>' turns it back on (fix the bug first); 'enable' alone lists the disabled commands.",
			run:     (*World).cmdEnable},
		{name: "disable", minRank: adminRank, category: "Staff", usage: "disable <command>",
			summary: "turn a command off for everyone",
			help:    "Disables a command until 'enable <command>', as the talker does by itself for a command that keeps crashing it.",
			run:     (*World).cmdDisable},
		{name: "crash", minRank: adminRank, category: "Staff", usage: "crash [fatal|hang]",
			summary: "deliberately crash the talker, to check that it recovers",
			help: "Makes the command handler panic. The talker catches it, logs it and recovers with a seamless reboot: nobody is disconnected. " +
				"Doing it twice within ten minutes disables this command, as for any command that keeps crashing. " +
				"'crash fatal' causes a Go fatal error instead, which nothing in the process can catch: the angel restarts the talker with every connection it holds. " +
				"'crash hang' stops the talker's loop, as a command stuck in a loop would: the angel's hang timeout ends the process and starts another with every connection. " +
				"In both cases the command is not run again after the recovery.",
			run: func(w *World, s *Session, args string) {
				switch strings.TrimSpace(args) {
				case "fatal":
					w.log.Warn().Str("by", s.Player.Name).Msg("deliberate fatal error")
					var mu sync.Mutex
					mu.Unlock() // "fatal error: sync: unlock of unlocked mutex": no recover catches it
				case "hang":
					w.log.Warn().Str("by", s.Player.Name).Msg("deliberate hang")
					for {
						time.Sleep(time.Hour) // no heartbeat from here on
					}
				}
				panic("deliberate crash (the 'crash' command)")
			}},
	}
}

func (w *World) cmdEnable(s *Session, args string) {
	name := strings.ToLower(strings.TrimSpace(args))
	if name == "" {
		if len(w.disabled) == 0 {
			s.println("No command is disabled.")
			return
		}
		var names []string
		for n := range w.disabled {
			names = append(names, n)
		}
		sort.Strings(names)
		s.println("Disabled commands: " + strings.Join(names, ", ") + ".")
		return
	}
	if !w.disabled[name] {
		s.println("'" + name + "' is not disabled.")
		return
	}
	delete(w.disabled, name)
	w.saveDisabled()
	w.log.Info().Str("command", name).Str("by", s.Player.Name).Msg("command enabled")
	w.staffLog(s, "enable", name, "")
	s.println("'" + name + "' is enabled again.")
}

func (w *World) cmdDisable(s *Session, args string) {
	name := strings.ToLower(strings.TrimSpace(args))
	c := w.commands.byWord[name]
	if c == nil {
		s.println("There is no command called '" + name + "'.")
		return
	}
	if c.name == "enable" {
		s.println("That would leave no way back.")
		return
	}
	w.disabled[c.name] = true
	w.saveDisabled()
	w.log.Info().Str("command", c.name).Str("by", s.Player.Name).Msg("command disabled")
	w.staffLog(s, "disable", c.name, "")
	s.println("'" + c.name + "' is disabled.")
}
