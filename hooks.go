package main

import (
	"fmt"
	"os"
	"time"

	"talker/reboot"
	"talker/server"
)

// registerHooks registers the program's lifecycle hook sets. A talker's
// owner adds theirs here; they run in registration order. See the hook
// table in docs/ARCHITECTURE.md.
func registerHooks(cfg *server.Config) {
	// TALKER_HOOK_TRACE=FILE appends one line per hook call to FILE: a way
	// for admins (and the tests) to see exactly which hooks ran, in which
	// process, in what order.
	if path := os.Getenv("TALKER_HOOK_TRACE"); path != "" {
		cfg.Hooks.Register(traceHooks(path))
	}
}

func traceHooks(path string) reboot.HookSet[*server.World] {
	trace := func(name string) func(*server.World) error {
		return func(*server.World) error {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = fmt.Fprintf(f, "%d %s %s\n", os.Getpid(), time.Now().Format(time.RFC3339Nano), name)
			return err
		}
	}
	return reboot.HookSet[*server.World]{
		Name:        "trace",
		Init:        trace(reboot.HookInit),
		ColdStart:   trace(reboot.HookColdStart),
		ReloadStart: trace(reboot.HookReloadStart),
		Start:       trace(reboot.HookStart),
		ReloadStop:  trace(reboot.HookReloadStop),
		ColdStop:    trace(reboot.HookColdStop),
		Stop:        trace(reboot.HookStop),
	}
}
