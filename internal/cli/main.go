// Package cli is the talker's command line: `talker run`, `start`, `stop`,
// `reboot`, `status`, `account`, `angel`, `serve` and the rest, and the
// process-level glue of each (flags, signals, logging, the angel's link).
// What a command does is in the packages it calls: server (the talker),
// angel (the watchdog), reboot (handing over to a new binary). The
// repository's root keeps only main.go and the owner's customisation
// points, which reach this package through Options.
//
// One command a file:
//   - main.go: Main, the command table, the version.
//   - serve.go: `talker serve`, the talker process itself (what the angel
//     and every reboot start): set up, serve, hand over or shut down.
//   - angel.go: `talker angel`, `run` and `start`: the watchdog, in the
//     foreground or detached.
//   - angellink.go: a talker generation's link to its angel (hello,
//     heartbeats, bye, the hold channel).
//   - control.go: `talker reboot`, `reset`, `restart`, `status` and `stop`:
//     the launcher, talking to the control socket and the angel's.
//   - account.go: `talker account create | passwd | delete | rename | list
//     | show`.
//   - configcmd.go: `talker config check | reload | show`.
//   - backup.go: `talker backup`, a verified copy of the database.
//   - log.go: `talker log`.
//   - flags.go, paths.go, terminal.go, hooktrace.go: shared flags, the data
//     directory's layout, terminal prompts, the hook trace.
//
// The end-to-end tests live here too: the test binary doubles as the
// talker (TestMain), so they start real processes without building one.
package cli

import (
	"fmt"
	"os"
	"runtime/debug"

	"talker/angel"
	"talker/ipc"
	"talker/reboot"
	"talker/server"
	"talker/server/logging"
	"talker/server/store"
)

// Options are what the program's main package gives the command line: the
// build's version and the talker owner's customisation points.
type Options struct {
	// Version names the build; "" or "dev" means: the commit `go build`
	// recorded (see version).
	Version string
	// Hooks registers the owner's lifecycle hook sets (the root's hooks.go).
	Hooks func(*server.Config)
	// Setup is the owner's last step of a new talker's setup (the root's
	// setup_hook.go).
	Setup func(*store.Store) error

	// resume is the state of the angel image this process replaces, when
	// it is one re-executed by `talker angel upgrade` (angel/upgrade.go).
	resume *angel.Resume
}

// version names this build for admins (a reboot shows "version A -> B"):
// the -ldflags value if one was given, else the commit `go build` recorded
// (with "+dirty" for uncommitted changes), else "dev".
func (o Options) version() string {
	if o.Version != "" && o.Version != "dev" {
		return o.Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return rev[:min(len(rev), 12)] + dirty
}

// loadResume takes the resume state of an upgraded angel (only `angel`
// and `run` are angels) and returns the descriptors it names. State that
// cannot be read leaves a fresh angel: its strays are closed, the lock is
// released with them, and it adopts the talker as after any angel restart.
func (o *Options) loadResume(cmd string) []int {
	if cmd != "angel" && cmd != "run" {
		return nil
	}
	r, err := angel.LoadResume()
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker: cannot take over from the previous angel image; starting afresh:", err)
		return nil
	}
	if r == nil {
		return nil
	}
	o.resume = r
	return r.KeepFDs()
}

// subcommandNamed is the named subcommand, bound to o.
func subcommandNamed(o Options, name string) subcommand {
	for _, c := range subcommands(o) {
		if c.name == name {
			return c
		}
	}
	return subcommand{}
}

type subcommand struct {
	name    string
	summary string
	run     func(args []string) int
}

func subcommands(o Options) []subcommand {
	return []subcommand{
		{"run", "run angel and talker in the foreground (logs on the terminal; Ctrl-C stops both)", func(a []string) int { return cmdRun(a, o) }},
		{"account", "manage accounts: account create | passwd | delete | rename | list | show (account -h)", cmdAccount},
		{"start", "start the talker in the background under its angel, and wait until it serves", cmdStart},
		{"stop", "stop the talker and its angel (players are told, saved and disconnected)", cmdStop},
		{"reboot", "seamless reboot: a new binary takes over every connection", cmdReboot(reboot.ModeReboot)},
		{"reset", "seamless reboot running the cold-start hooks", cmdReboot(reboot.ModeReset)},
		{"restart", "full stop and start (players are disconnected; the listener stays open)", cmdReboot(reboot.ModeRestart)},
		{"config", "the configuration file: config check | reload | show", cmdConfig},
		{"status", "show the state of the angel and the talker", cmdStatus},
		{"tls", "TLS: tls selfsigned makes a self-signed certificate and key (tls selfsigned -h)", cmdTLS},
		{"backup", "copy the database, running or not, and say how to restore it (--out FILE)", cmdBackup},
		{"log", "show the angel's and the talker's logs merged in time order (log -f to follow)", cmdLog},
		{"angel", "run the watchdog that keeps the talker up (--detach for cron); angel upgrade: re-execute it from the new binary, keeping everything", func(a []string) int { return cmdAngel(a, o) }},
		{"serve", "the talker process itself (what the angel runs; no watchdog)", func(a []string) int { return cmdServe(a, o) }},
		{"version", "print the version", func([]string) int { fmt.Println("talker", o.version()); return 0 }},
	}
}

// Main runs the command line args (without the program name) and returns
// the process's exit code.
func Main(args []string, o Options) int {
	logging.Init()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(o)
		if len(args) == 0 {
			return reboot.ExitUsage
		}
		return 0
	}
	for _, c := range subcommands(o) {
		if c.name == args[0] {
			// Descriptors left open by cron, a shell or systemd are
			// closed before anything runs, so that they never reach the
			// angel or a generation. The talker itself does it once
			// tableflip has claimed what a reboot handed it (serve.go).
			if c.name != "serve" {
				// Except what an angel's previous image handed this one.
				ipc.CloseInherited(o.loadResume(c.name)...)
				return subcommandNamed(o, c.name).run(args[1:])
			}
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "talker: unknown command %q\n\n", args[0])
	usage(o)
	return reboot.ExitUsage
}

func usage(o Options) {
	fmt.Fprintln(os.Stderr, "usage: talker <command> [flags]    (talker <command> -h for its flags)")
	fmt.Fprintln(os.Stderr, "\ncommands:")
	for _, c := range subcommands(o) {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
}
