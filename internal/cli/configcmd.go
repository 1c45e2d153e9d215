package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"talker/config"
	"talker/reboot"
	"talker/server"
)

// cmdConfig implements `talker config check | reload | show`.
func cmdConfig(args []string) int {
	usage := func() int {
		fmt.Fprintln(os.Stderr, `usage: talker config check [--data DIR] [FILE]   say what is wrong with the file, by line
       talker config reload [--data DIR]        apply the file to the running talker, at once where possible
       talker config show [--data DIR]          every setting the file (and defaults) give`)
		return reboot.ExitUsage
	}
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	data := fs.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	// Flags may come before the verb or after it.
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return usage()
	}
	verb := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return reboot.ExitUsage
	}
	switch verb {
	case "check":
		path := configPath(*data)
		if fs.NArg() > 0 {
			path = fs.Arg(0)
		}
		if _, err := os.Stat(path); err != nil {
			fmt.Fprintf(os.Stderr, "talker config check: %v\n", err)
			return 1
		}
		if _, err := config.Read(path, nil); err != nil {
			printConfigError(os.Stdout, err)
			return 1
		}
		fmt.Printf("%s: OK\n", path)
		return 0
	case "show":
		s, err := readSettings(*data, nil)
		if err != nil {
			printConfigError(os.Stderr, err)
			return 1
		}
		fmt.Print(config.Show(s, nil))
		return 0
	case "reload":
		user := os.Getenv("USER")
		if user == "" {
			user = "console"
		}
		reply, err := controlCall(dataPaths{*data}, server.ControlRequest{Cmd: "config-reload", By: user + " (shell)"}, 30*time.Second)
		if errors.Is(err, errTalkerNotRunning) {
			fmt.Fprintln(os.Stderr, "talker config reload: the talker is not running; it reads the file when it starts")
			return 1
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "talker config reload:", err)
			return 1
		}
		if !reply.OK {
			fmt.Println("Not reloaded; the talker carries on as it was:")
			for _, p := range strings.Split(reply.Error, "; ") {
				fmt.Println("  " + p)
			}
			return 1
		}
		fmt.Println(reply.Reload.String())
		return 0
	}
	return usage()
}

// printConfigError writes a configuration error one problem a line.
func printConfigError(w *os.File, err error) {
	var ce *config.Error
	if !errors.As(err, &ce) {
		fmt.Fprintln(w, err)
		return
	}
	for _, p := range ce.Problems {
		fmt.Fprintf(w, "%s: %s\n", ce.Path, p)
	}
}
