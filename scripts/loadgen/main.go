// Command loadgen loads a talker with many telnet clients and measures
// what they see: losses, duplicates, latency, pauses around events
// (seamless reboots, kill -9, a broken binary), throughput, and the
// talker's memory and descriptors. See README.md.
//
//	go run ./scripts/loadgen -talker ./talker -data /tmp/lg -n 1000 -duration 30s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"talker/scripts/loadgen/load"
)

type eventFlags []load.EventSpec

func (e *eventFlags) String() string { return fmt.Sprint(*e) }
func (e *eventFlags) Set(v string) error {
	kind, at, ok := strings.Cut(v, "@")
	if !ok {
		return fmt.Errorf("want KIND@TIME, e.g. reboot@10s")
	}
	d, err := time.ParseDuration(at)
	if err != nil {
		return err
	}
	*e = append(*e, load.EventSpec{Kind: kind, At: d})
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() { os.Exit(run()) }

func run() int {
	cfg := load.Defaults()
	var (
		events      eventFlags
		talkerArgs  listFlag
		rebootEvery time.Duration
		outDir      string
		talkerLog   string
		quiet       bool
		cpuProfile  string
		noRestart   bool
	)
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", "", "talker to load, HOST:PORT on loopback (empty with -talker: start one)")
	fs.StringVar(&cfg.TLSAddr, "tls", "", "clients connect over TLS to this address, HOST:PORT on loopback (the talker's listen_tls; managed mode passes it as --listen-tls)")
	fs.StringVar(&cfg.WSSAddr, "wss", "", "clients connect as browsers over https to this TLS address (ALPN http/1.1, then a WebSocket: wss), HOST:PORT on loopback (the talker's listen_tls; managed mode passes it as --listen-tls)")
	fs.StringVar(&cfg.WebAddr, "ws", "", "clients connect over WebSocket to this browser client address, HOST:PORT on loopback (the talker's listen_web; managed mode passes it as --listen-web)")
	fs.StringVar(&cfg.Talker, "talker", "", "talker binary: started on a free loopback port unless -addr is given; {talker} in event commands")
	fs.StringVar(&cfg.DataDir, "data", "", "talker data directory (pid file; managed mode: --data of the talker started)")
	fs.StringVar(&talkerLog, "talker-log", "", "managed mode: file for the talker's output (default OUT/talker.log)")
	fs.IntVar(&cfg.HashCost, "hash-cost", cfg.HashCost, "managed mode: the talker's --hash-cost")
	fs.Float64Var(&cfg.LineRate, "line-rate", 0, "managed mode: the talker's --line-rate (0: its default)")
	fs.Var(&talkerArgs, "talker-arg", "managed mode: extra argument for 'talker run' (repeatable)")
	fs.IntVar(&cfg.Clients, "n", cfg.Clients, "number of clients")
	fs.IntVar(&cfg.Rooms, "rooms", cfg.Rooms, "rooms to spread the clients over (1-3: main, lounge, garden)")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "lines per second per client")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "workload duration, after all clients have logged in")
	fs.Float64Var(&cfg.Ramp, "ramp", cfg.Ramp, "logins started per second")
	fs.IntVar(&cfg.MaxLogins, "max-logins", cfg.MaxLogins, "logins in progress at once")
	fs.StringVar(&cfg.Typing, "typing", cfg.Typing, "line (whole lines) or bytewise (one byte at a time)")
	fs.DurationVar(&cfg.ByteGap, "byte-gap", cfg.ByteGap, "bytewise typing: pause between bytes")
	fs.IntVar(&cfg.Pad, "pad", cfg.Pad, "filler bytes after each line's token")
	fs.IntVar(&cfg.Width, "width", cfg.Width, "window width the clients report (NAWS)")
	fs.StringVar(&cfg.NamePrefix, "prefix", cfg.NamePrefix, "account name prefix (letters); names are prefix+aaaa, prefix+aaab, ...")
	fs.StringVar(&cfg.Password, "password", cfg.Password, "password of every load account (made on first use, reused after)")
	fs.BoolVar(&cfg.Reconnect, "reconnect", false, "reconnect and log in again after a disconnect")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "wait after the last line for deliveries to arrive")
	fs.DurationVar(&cfg.Window, "window", cfg.Window, "length of the before/after windows around events")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "'during' an event lasts until this long after its end")
	fs.DurationVar(&rebootEvery, "reboot-every", 0, "a seamless reboot every T during the workload")
	fs.Var(&events, "event", "an event KIND@T (reboot, kill9, segv, fatal, broken, angel-upgrade) at T after the workload starts (repeatable)")
	fs.StringVar(&cfg.Admin, "admin", "", "admin account the fatal event logs in as, with -password (managed mode: made if missing, default Crashtester)")
	fs.StringVar(&cfg.RebootCmd, "reboot-cmd", cfg.RebootCmd, "shell command of a reboot; {talker} {data} {addr} {pid} are filled in")
	fs.DurationVar(&cfg.EventTimeout, "event-timeout", cfg.EventTimeout, "longest an event may take")
	fs.StringVar(&cfg.BrokenPath, "broken-path", "", "binary the broken event replaces (default: -talker)")
	fs.StringVar(&cfg.BrokenKind, "broken-kind", cfg.BrokenKind, "what replaces it: exit1, hang or garbage")
	fs.BoolVar(&noRestart, "no-restart", false, "managed mode without an angel: do not start the talker again after kill9, only wait for it")
	fs.StringVar(&outDir, "out", "loadgen-out", "directory for report.txt, report.json and latency.png")
	fs.BoolVar(&quiet, "q", false, "no progress lines on stderr")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/loadgen [flags]\n\nmanaged:  -talker ./talker -data DIR [-n 1000 -duration 30s ...]\nattached: -addr 127.0.0.1:4000 [-data DIR for the pid file] [-talker ./talker for events]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	cfg.TalkerArgs = talkerArgs
	cfg.KillRestart = !noRestart
	if rebootEvery > 0 {
		for t := rebootEvery; t < cfg.Duration; t += rebootEvery {
			events = append(events, load.EventSpec{Kind: load.EventReboot, At: t})
		}
	}
	cfg.Events = events
	if cfg.Talker != "" {
		if abs, err := filepath.Abs(cfg.Talker); err == nil {
			cfg.Talker = abs
		}
	}
	if cfg.DataDir != "" {
		if abs, err := filepath.Abs(cfg.DataDir); err == nil {
			cfg.DataDir = abs
		}
	}
	if !quiet {
		cfg.Log = os.Stderr
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	if cfg.Addr == "" && cfg.Talker != "" {
		if talkerLog == "" {
			talkerLog = filepath.Join(outDir, "talker.log")
		}
		f, err := os.Create(talkerLog)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		defer f.Close()
		cfg.TalkerLog = f
	}

	// The first Ctrl-C ends the run early and still writes the report; a
	// second one kills the load generator.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	if err := rep.WriteText(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
	}
	if err := writeFiles(rep, outDir); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	fmt.Printf("\nwrote %s, %s and %s\n", filepath.Join(outDir, "report.txt"),
		filepath.Join(outDir, "report.json"), filepath.Join(outDir, "latency.png"))
	if !rep.OK {
		return 1
	}
	return 0
}

func writeFiles(rep *load.Report, dir string) error {
	txt, err := os.Create(filepath.Join(dir, "report.txt"))
	if err != nil {
		return err
	}
	if err := rep.WriteText(txt); err != nil {
		txt.Close()
		return err
	}
	if err := txt.Close(); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	png, err := os.Create(filepath.Join(dir, "latency.png"))
	if err != nil {
		return err
	}
	if err := rep.WritePlot(png); err != nil {
		png.Close()
		return err
	}
	return png.Close()
}
