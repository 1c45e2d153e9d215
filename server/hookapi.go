package server

import (
	"sort"

	"github.com/rs/zerolog"

	"talker/reboot"
)

// The methods in this file are what a lifecycle hook (Config.Hooks) can do
// with the *World it is given. Hooks run on the world's own goroutine (or,
// at a start, before it runs), so these touch the world's state directly;
// nothing but a hook may call them.

// Mode is the mode of the start or stop whose hooks are running. On a
// start: ModeCold, ModeCrash (the previous run did not stop cleanly, or
// died in a reboot), ModeRestart, ModeReboot, ModeReset or ModeRecover (a
// crash the angel recovered the players from). On a stop: ModeReboot,
// ModeReset, ModeRestart or ModeShutdown.
func (w *World) Mode() reboot.Mode { return w.hookMode }

// System is the talker's system state: generation, cold start time,
// reboots, the last reboot's timings.
func (w *World) System() SystemState { return w.system }

// Players lists the names of the players logged in, sorted.
func (w *World) Players() []string {
	names := make([]string, 0, len(w.online))
	for _, s := range w.online {
		names = append(names, s.Player.Name)
	}
	sort.Strings(names)
	return names
}

// Announce sends a line to every player logged in. Like every line sent,
// it is rendered for each terminal (Session.render), which removes control
// characters: a hook cannot put escape sequences on players' screens.
// Colour codes (^R and so on) work as in players' own text.
func (w *World) Announce(line string) { w.toOnline(line) }

// Logger is the talker's log.
func (w *World) Logger() zerolog.Logger { return w.log }

// hookMetaPrefix keeps hooks' durable values apart from the talker's own.
const hookMetaPrefix = "hook:"

// HookValue reads a value a hook stored with SetHookValue, in this run or
// any earlier one.
func (w *World) HookValue(key string) (string, bool, error) {
	return w.store.Meta(hookMetaPrefix + key)
}

// SetHookValue durably stores a value for hooks (it survives reboots,
// crashes and cold starts).
func (w *World) SetHookValue(key, value string) error {
	return w.store.SetMeta(hookMetaPrefix+key, value)
}
