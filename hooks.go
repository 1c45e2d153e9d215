package main

import "talker/server"

// registerHooks registers the talker owner's lifecycle hook sets: add yours
// here with cfg.Hooks.Register (a reboot.HookSet[*server.World]); they run
// in registration order. See the hook table in docs/ARCHITECTURE.md and
// what a hook may do with the World in server/hookapi.go.
// (TALKER_HOOK_TRACE=FILE, which logs every hook call, is built in: see
// internal/cli/hooktrace.go.)
func registerHooks(cfg *server.Config) {
	_ = cfg
}
