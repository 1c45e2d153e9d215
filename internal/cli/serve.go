package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"talker/angel/link"
	"talker/config"
	"talker/ipc"
	"talker/player"
	"talker/reboot"
	"talker/server"
	"talker/server/logging"
)

// cmdServe is the talker process itself: normally started (and restarted)
// by the angel, and re-executed by every seamless reboot.
func cmdServe(args []string, o Options) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	data, given := settingsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return reboot.ExitUsage
	}
	cfg := server.DefaultConfig()
	cfg.DataDir, cfg.Overrides, cfg.ConfigFile = *data, given(), configPath(*data)
	// Signals are caught first of all: a SIGHUP (reboot) that arrives while
	// this generation is still starting must wait for it, not kill it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	paths := dataPaths{cfg.DataDir}
	// TALKER_CPUPROFILE=PREFIX writes a CPU profile of this generation to
	// PREFIX.PID when it exits (however it exits but a crash): for
	// measuring reboots under load.
	if prefix := os.Getenv("TALKER_CPUPROFILE"); prefix != "" {
		if f, err := os.Create(prefix + "." + strconv.Itoa(os.Getpid())); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	// Under a detached angel, stderr is a file that only crash output
	// should go to; the log file has everything else.
	var console io.Writer = os.Stderr
	if os.Getenv(envConsole) == "0" {
		console = nil
	}
	if err := paths.checkSockets(); err != nil {
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitConfig
	}
	// The configuration file is written, with every setting commented,
	// the first time a data directory is used; it is read at every start,
	// a reboot's included.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitError
	}
	created, cerr := config.WriteNew(cfg.ConfigFile, cfg.Overrides)
	settings, serr := config.Read(cfg.ConfigFile, cfg.Overrides)
	logSettings := settings
	if serr != nil {
		logSettings = config.Default()
	}
	maxSize, keep := logSize(logSettings)
	log, closer, err := logging.Open(logging.Options{DataDir: cfg.DataDir, File: "talker.log", MaxSize: maxSize, Keep: keep,
		Console: console, NoColor: !isTerminal(os.Stderr), Level: zerolog.InfoLevel, Process: "talker"})
	if err != nil {
		// (a symbolic link at its path, permissions: starting again will
		// not help)
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitConfig
	}
	defer closer.Close()
	switch {
	case cerr != nil:
		log.Warn().Err(cerr).Str("file", cfg.ConfigFile).Msg("cannot write the commented configuration file; using the defaults")
	case created:
		log.Info().Str("file", cfg.ConfigFile).Msg("wrote the configuration file, every setting commented with its default")
	}
	if serr != nil {
		// Nothing is running on a configuration nobody checked: a cold
		// start fails here with the reason; a reboot was refused before
		// it began (the old generation checks the same file first).
		log.Error().Err(serr).Msg("the configuration file has mistakes; 'talker config check' lists them")
		fmt.Fprintln(os.Stderr, "talker serve:", serr)
		return reboot.ExitConfig
	}
	cfg.Apply(settings)
	// Fatal errors (which recover cannot catch: concurrent map writes, out
	// of memory) and unrecovered panics are also written here, where the
	// angel picks them up for its log.
	// A symbolic link planted there is refused (exit 78: starting again
	// will not help), as server/logging refuses one at the log's path.
	f, err := openAppend(paths.crashLog())
	switch {
	case errors.Is(err, errSymlink):
		log.Error().Err(err).Msg("cannot open the crash log")
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitConfig
	case err != nil:
		log.Warn().Err(err).Msg("cannot open the crash log")
	default:
		if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
			log.Warn().Err(err).Msg("cannot set the crash output")
		}
		f.Close() // SetCrashOutput keeps its own duplicate
	}
	cfg.Log = log
	cfg.Version = o.version()
	cfg.Setup = o.Setup
	// A fault is injected into one generation: the next one (a reboot
	// inherits the environment) is whatever its binary is, unless its own
	// wrapper injects one again.
	cfg.Faults = server.ParseFaults(os.Getenv("TALKER_FAULT"))
	os.Unsetenv("TALKER_FAULT")
	registerHookTrace(&cfg)
	if o.Hooks != nil {
		o.Hooks(&cfg)
	}
	if player.WeakCost(cfg.HashCost) {
		log.Warn().Int("hash_cost", cfg.HashCost).Msg("password hash cost is low: fit for tests and benchmarks only")
	}

	upg, err := reboot.New(reboot.Options{RunDir: paths.runDir(), PIDFile: paths.pidFile(), ReadyTimeout: cfg.ReadyTimeout})
	if err != nil {
		log.Error().Err(err).Msg("cannot set up reboots")
		return reboot.ExitError
	}
	cfg.Upgrader = upg
	// Whatever this process was left that it did not ask for goes now:
	// tableflip has made what a reboot handed over close-on-exec, except
	// its two pipes to the parent (descriptors 3 and 4).
	var handed []int
	if upg.HasParent() {
		handed = []int{3, 4}
	}
	if closed := ipc.CloseInherited(handed...); len(closed) > 0 {
		log.Warn().Ints("fds", closed).Msg("closed descriptors inherited from whoever started the talker")
	}
	// What the previous generation (a reboot) or the angel (after a crash)
	// hands over comes first: it may include the listeners.
	in, err := upg.Receive(cfg.ReadyTimeout)
	if err != nil {
		log.Error().Err(err).Msg("cannot receive state from the previous generation")
		return reboot.ExitError
	}
	// One talker per data directory: the lock comes with a reboot's
	// handoff; after a crash (the angel's handoff), the dead generation's
	// children may take a moment to let go of it.
	var lockWait time.Duration
	if in != nil && in.Header.Mode == reboot.ModeRecover {
		lockWait = 10 * time.Second
	}
	dataLock, err := upg.DataLock(paths.talkerLock(), lockWait)
	if err != nil {
		log.Error().Err(err).Msg("cannot serve this data directory")
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		if errors.Is(err, reboot.ErrDataLocked) {
			return reboot.ExitConfig // another start will not help while it serves
		}
		return reboot.ExitError
	}
	defer dataLock.Close()
	// Listeners kept from the previous generation are taken over, new
	// ones opened; those no longer in the file are closed when this
	// generation is ready (CloseUnused, tableflip's Ready).
	held := map[string]net.Listener{}
	var lns []net.Listener
	behindProxy := map[net.Listener]bool{}
	for i, addr := range append(append([]string(nil), settings.Listen...), settings.ListenProxy...) {
		ln, err := upg.Listen("tcp", addr)
		if err != nil {
			log.Error().Err(err).Str("addr", addr).Msg("cannot listen")
			fmt.Fprintf(os.Stderr, "talker serve: cannot listen on %s: %v\n", addr, err)
			return reboot.ExitConfig
		}
		lns = append(lns, ln)
		held["tcp:"+addr] = ln
		behindProxy[ln] = i >= len(settings.Listen)
	}
	// The browser client's listeners (server/web.go).
	web, webProxy := map[net.Listener]bool{}, map[net.Listener]bool{}
	for i, addr := range append(append([]string(nil), settings.WebListeners()...), settings.WebProxyListeners()...) {
		ln, err := upg.Listen("tcp", addr)
		if err != nil {
			log.Error().Err(err).Str("addr", addr).Msg("cannot listen (web client)")
			fmt.Fprintf(os.Stderr, "talker serve: cannot listen on %s (web client): %v\n", addr, err)
			return reboot.ExitConfig
		}
		lns = append(lns, ln)
		held["tcp:"+addr] = ln
		web[ln] = true
		webProxy[ln] = i >= len(settings.WebListeners())
	}
	// The TLS listeners and their certificate (tls.go).
	tlsLns, tlsAddrs, tlsCert, err := openTLS(upg, &settings, cfg.DataDir, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot serve TLS")
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitConfig
	}
	tlsDoor := map[net.Listener]bool{}
	for i, ln := range tlsLns {
		lns = append(lns, ln)
		held["tcp:"+tlsAddrs[i]] = ln
		tlsDoor[ln] = true
	}
	ctl, err := upg.Listen("unix", paths.talkerSock())
	if err != nil {
		log.Error().Err(err).Msg("cannot open the control socket")
		return reboot.ExitError
	}

	upg.CloseUnused()
	var addrs []string
	for _, ln := range lns {
		if web[ln] {
			addrs = append(addrs, "http://"+ln.Addr().String()+"/")
			continue
		}
		if tlsDoor[ln] {
			// A TLS port is also the web client's over https (server/webtls.go).
			addrs = append(addrs, "tls://"+ln.Addr().String(), "https://"+ln.Addr().String()+"/")
			continue
		}
		addrs = append(addrs, ln.Addr().String())
	}
	angelLink := startAngelLink(&cfg, strings.Join(addrs, ","))
	if in == nil && isTerminal(os.Stdin) {
		cfg.AskAdmin = askAdminOnTerminal
	}
	srv, err := server.Start(cfg, upg, in)
	if err != nil {
		angelLink.Close()
		return reboot.ExitError
	}
	angelLink.Start(srv.Status().Generation)
	held["unix:"+paths.talkerSock()] = ctl
	angelLink.Hold(srv, held, in != nil && in.Staged)
	served := make(chan error, len(lns))
	for _, ln := range lns {
		if tlsDoor[ln] {
			go func() { served <- srv.ServeTLS(ln, tlsCert) }()
		} else if webProxy[ln] {
			go func() { served <- srv.ServeWebBehindProxy(ln) }()
		} else if web[ln] {
			go func() { served <- srv.ServeWeb(ln) }()
		} else if behindProxy[ln] {
			go func() { served <- srv.ServeBehindProxy(ln) }()
		} else {
			go func() { served <- srv.Serve(ln) }()
		}
	}
	go srv.ServeControl(ctl)
	if cfg.Faults.CrashSoon {
		go func() {
			time.Sleep(500 * time.Millisecond)
			panic("injected fault: crash soon after starting")
		}()
	}
	log.Info().Str("version", cfg.Version).Strs("listen", addrs).Str("data", cfg.DataDir).Msg("talker running")

	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGUSR1 {
				if err := closer.Reopen(); err != nil {
					log.Error().Err(err).Msg("cannot reopen the log file")
				}
				continue
			}
			if sig == syscall.SIGHUP {
				log.Info().Msg("SIGHUP: seamless reboot")
				go srv.Reboot(server.RebootRequest{Mode: reboot.ModeReboot, By: "signal", Reason: "SIGHUP"})
				continue
			}
			log.Info().Str("signal", sig.String()).Msg("stopping")
			return shutdown(srv, upg, angelLink, log)
		case <-srv.ShutdownRequested():
			log.Info().Msg("stop requested")
			return shutdown(srv, upg, angelLink, log)
		case <-srv.HandedOver():
			// Every connection now belongs to the new generation: exit
			// without touching any of them, once `talker reboot` has its
			// answer.
			angelLink.Bye(link.ByeHandedOver, srv.Status().LastRebootPID())
			// Connections closed just before the pause (a quit) are not
			// carried: let them finish their last output meanwhile.
			flushed := make(chan struct{})
			go func() { srv.WaitClosing(2 * time.Second); close(flushed) }()
			srv.WaitControl(2 * time.Second)
			<-flushed
			return reboot.ExitHandedOver
		case err := <-served:
			log.Error().Err(err).Msg("listener failed; stopping")
			shutdown(srv, upg, angelLink, log)
			return reboot.ExitError
		}
	}
}

func shutdown(srv *server.Server, upg *reboot.Upgrader, angelLink *angelClient, log zerolog.Logger) int {
	upg.Stop()
	defer angelLink.Bye(link.ByeShutdown, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, ""); err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		return reboot.ExitError
	}
	return reboot.ExitShutdown
}
