package cli

import (
	"fmt"
	"os"
	"time"

	"talker/reboot"
	"talker/server"
)

// TALKER_HOOK_TRACE=FILE makes the talker append one line per hook call
// (pid, time, hook) to FILE: a way for admins (and the tests) to see
// exactly which hooks ran, in which process, in what order.
const envHookTrace = "TALKER_HOOK_TRACE"

// registerHookTrace registers the trace hook set if it is asked for.
func registerHookTrace(cfg *server.Config) {
	if path := os.Getenv(envHookTrace); path != "" {
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
