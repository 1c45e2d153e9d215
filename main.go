// Command talker is a telnet chat server in the EW-too / PG+ / NUTS
// tradition that never drops anyone: see README.md.
//
// Usage: talker <command> [flags]; `talker help` lists the commands.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"talker/reboot"
	"talker/server/logging"
)

// versionFlag is set at build time with -ldflags "-X main.versionFlag=...";
// read it through version().
var versionFlag = "dev"

// version names this build for admins (a reboot shows "version A -> B"):
// the -ldflags value if one was given, else the commit `go build` recorded
// (with "+dirty" for uncommitted changes), else "dev".
func version() string {
	if versionFlag != "dev" {
		return versionFlag
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return versionFlag
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
		return versionFlag
	}
	return rev[:min(len(rev), 12)] + dirty
}

type subcommand struct {
	name    string
	summary string
	run     func(args []string) int
}

func subcommands() []subcommand {
	return []subcommand{
		{"run", "run angel and talker in the foreground (logs on the terminal; Ctrl-C stops both)", cmdRun},
		{"account", "manage accounts: account create --name NAME --rank RANK (password on stdin)", cmdAccount},
		{"start", "start the talker in the background under its angel, and wait until it serves", cmdStart},
		{"stop", "stop the talker and its angel (players are told, saved and disconnected)", cmdStop},
		{"reboot", "seamless reboot: a new binary takes over every connection", cmdReboot(reboot.ModeReboot)},
		{"reset", "seamless reboot running the cold-start hooks", cmdReboot(reboot.ModeReset)},
		{"restart", "full stop and start (players are disconnected; the listener stays open)", cmdReboot(reboot.ModeRestart)},
		{"status", "show the state of the angel and the talker", cmdStatus},
		{"log", "show the angel's and the talker's logs merged in time order (log -f to follow)", cmdLog},
		{"angel", "run the watchdog that keeps the talker up (--detach for cron)", cmdAngel},
		{"serve", "the talker process itself (what the angel runs; no watchdog)", cmdServe},
		{"version", "print the version", func([]string) int { fmt.Println("talker", version()); return 0 }},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	logging.Init()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range subcommands() {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "talker: unknown command %q\n\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: talker <command> [flags]    (talker <command> -h for its flags)")
	fmt.Fprintln(os.Stderr, "\ncommands:")
	for _, c := range subcommands() {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
}
