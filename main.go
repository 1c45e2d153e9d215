// Command talker is a telnet chat server in the EW-too / PG+ / NUTS
// tradition that never drops anyone: see README.md.
//
// Usage: talker <command> [flags]; `talker help` lists the commands. The
// command line is package internal/cli; this file, hooks.go and
// setup_hook.go are the talker owner's: the build's version and the
// customisation points.
package main

import (
	"os"

	"talker/internal/cli"
)

// versionFlag is set at build time with -ldflags "-X main.versionFlag=...";
// "dev" means: name the build by the commit `go build` recorded.
var versionFlag = "dev"

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Options{Version: versionFlag, Hooks: registerHooks, Setup: ownerSetup}))
}
