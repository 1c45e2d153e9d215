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
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"talker/ipc"
	"talker/player"
	"talker/reboot"
	"talker/server"
	"talker/server/logging"
	"talker/server/store"
)

// cmdServe is the talker process itself: normally started (and restarted)
// by the angel, and re-executed by every seamless reboot.
func cmdServe(args []string, o Options) int {
	cfg := server.DefaultConfig()
	var listen string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serverFlags(fs, &cfg, &listen)
	if err := fs.Parse(args); err != nil {
		return reboot.ExitUsage
	}
	// Signals are caught first of all: a SIGHUP (reboot) that arrives while
	// this generation is still starting must wait for it, not kill it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
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
	log, closer, err := logging.Open(logging.Options{DataDir: cfg.DataDir, File: "talker.log",
		Console: console, NoColor: !isTerminal(os.Stderr), Level: zerolog.InfoLevel, Process: "talker"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker serve:", err)
		return reboot.ExitError
	}
	defer closer.Close()
	// Fatal errors (which recover cannot catch: concurrent map writes, out
	// of memory) and unrecovered panics are also written here, where the
	// angel picks them up for its log.
	if f, err := os.OpenFile(paths.crashLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
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
	cfg.Faults.Injected = os.Getenv("TALKER_FAULT")
	os.Unsetenv("TALKER_FAULT")
	if kind, ok := strings.CutPrefix(cfg.Faults.Injected, "future-schema:"); ok {
		cfg.Faults.FutureMigrations = futureMigrations(kind)
	}
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
	// What the previous generation (a reboot) or the angel (after a crash)
	// hands over comes first: it may include the listeners.
	in, err := upg.Receive(cfg.ReadyTimeout)
	if err != nil {
		log.Error().Err(err).Msg("cannot receive state from the previous generation")
		return reboot.ExitError
	}
	ln, err := upg.Listen("tcp", listen)
	if err != nil {
		log.Error().Err(err).Msg("cannot listen")
		return reboot.ExitConfig
	}
	ctl, err := upg.Listen("unix", paths.talkerSock())
	if err != nil {
		log.Error().Err(err).Msg("cannot open the control socket")
		return reboot.ExitError
	}

	upg.CloseUnused()
	angelLink := startAngelLink(&cfg, ln.Addr().String())
	srv, code := startGeneration(upg, in, &cfg, log)
	if srv == nil {
		angelLink.Close()
		return code
	}
	angelLink.Start(srv.Status().Generation)
	angelLink.Hold(srv, map[string]net.Listener{"tcp:" + listen: ln, "unix:" + paths.talkerSock(): ctl},
		in != nil && in.Staged)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go srv.ServeControl(ctl)
	log.Info().Str("version", cfg.Version).Str("listen", ln.Addr().String()).Str("data", cfg.DataDir).Msg("talker running")

	for {
		select {
		case sig := <-sigs:
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
			angelLink.Bye("handed-over", srv.Status().LastRebootPID())
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

// startGeneration starts this process's talker: cold, or restored from the
// previous generation. It returns nil and an exit code if it cannot.
func startGeneration(upg *reboot.Upgrader, in *reboot.Incoming, cfg *server.Config, log zerolog.Logger) (*server.Server, int) {
	if in == nil {
		if isTerminal(os.Stdin) {
			cfg.AskAdmin = askAdminOnTerminal
		}
		srv, err := server.New(*cfg)
		if err != nil {
			log.Error().Err(err).Msg("cannot start")
			return nil, reboot.ExitError
		}
		if err := upg.Ready(); err != nil {
			log.Error().Err(err).Msg("cannot mark ready")
		}
		return srv, 0
	}
	// Everything a takeover allocates stays live (the sessions, their
	// connections), so collecting garbage meanwhile would only take CPU
	// from the restore that players are waiting for.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// A staged handoff sends the players' sockets while the old generation
	// still serves them: wrapping them all now keeps that work out of the
	// pause that starts when the state arrives.
	if name, ok := strings.CutPrefix(cfg.Faults.Injected, "corrupt-session:"); ok {
		cfg.Faults.CorruptSession = name
	}
	// A previous generation that started this one (tableflip) carries on
	// if this one fails before Ready: leave it a database it can use. The
	// angel's recovery has no one to protect (the previous one died).
	if upg.HasParent() {
		cfg.Migrations = store.ReadableMigrations
	}
	var prep *server.Prepared
	if in.Staged {
		var err error
		if prep, err = takeStaged(in, cfg, log); err != nil {
			log.Error().Err(err).Msg("cannot take the staged sockets; the previous generation carries on")
			return nil, reboot.ExitError
		}
	}
	if in.Header.Mode == reboot.ModeRestart {
		// A restart hands over only the listeners: start cold.
		prep.Abandon()
		srv, err := server.New(*cfg)
		if err != nil {
			log.Error().Err(err).Msg("cannot start; the previous generation carries on")
			in.Reject(err)
			return nil, reboot.ExitError
		}
		if err := in.Ready(reboot.Report{Version: cfg.Version}, cfg.ReadyTimeout); err != nil {
			log.Error().Err(err).Msg("not committed")
			return nil, reboot.ExitError
		}
		return srv, 0
	}
	received := time.Now()
	log.Info().Str("mode", string(in.Header.Mode)).Int("from_pid", in.Header.FromPID).
		Int("staged", prep.Len()).Int("sockets", len(in.FDs)).Int("state_bytes", len(in.State)).
		Msg("taking over from the previous generation")
	if err := injectedFault(cfg.Faults.Injected); err != nil {
		in.Reject(err)
		return nil, reboot.ExitError
	}
	r, err := server.Restore(*cfg, in.Header, in.State, prep, in.FDs, received)
	if err != nil {
		log.Error().Err(err).Msg("cannot restore; the previous generation carries on")
		in.Reject(err)
		return nil, reboot.ExitError
	}
	if err := in.Ready(r.Report(), cfg.ReadyTimeout); err != nil {
		log.Error().Err(err).Msg("not committed; the previous generation carries on")
		r.Abandon()
		return nil, reboot.ExitError
	}
	r.Start()
	return r.Server, 0
}

// takeStaged receives and wraps every staged socket, tells the old
// generation they are ready, and waits for it to pause and send the state
// (in.Header, State and FDs are then complete).
func takeStaged(in *reboot.Incoming, cfg *server.Config, log zerolog.Logger) (*server.Prepared, error) {
	prep := server.NewPrepared(cfg.Limits, cfg.Faults)
	var addErr error
	for {
		data, fds, done, err := in.NextStage()
		if err != nil {
			prep.Abandon()
			return nil, err
		}
		if done {
			break
		}
		// A build that breaks while the old generation still serves.
		switch cfg.Faults.Injected {
		case "crash-stage":
			panic("injected fault: crash while taking in the staged sockets")
		case "hang-stage":
			select {}
		}
		if addErr == nil {
			addErr = prep.Add(data, fds)
		} else {
			ipc.CloseAll(fds)
		}
	}
	rep := reboot.StageReport{OK: addErr == nil}
	if addErr != nil {
		rep.Error = addErr.Error()
	} else {
		rep.Sockets = prep.Wrap()
		// The garbage of taking them in is collected before the pause, so
		// that the restore reuses that memory rather than faulting in more.
		runtime.GC()
	}
	if err := in.AwaitState(&rep); err != nil {
		prep.Abandon()
		return nil, err
	}
	log.Info().Int("staged", prep.Len()).Int("wrapped", rep.Sockets).Dur("took", rep.Took).
		Msg("staged sockets taken in before the pause")
	return prep, nil
}

// futureMigrations is the schema change TALKER_FAULT=future-schema:KIND
// plays, as if this binary were a later build: "additive" (older builds can
// still use the database) or "breaking" (they cannot).
func futureMigrations(kind string) []store.Migration {
	switch kind {
	case "additive":
		return []store.Migration{{OlderCanUse: true, SQL: `CREATE TABLE future_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL DEFAULT '');
			ALTER TABLE players ADD COLUMN future_flag INTEGER NOT NULL DEFAULT 0`}}
	case "breaking":
		return []store.Migration{{OlderCanUse: false, SQL: `ALTER TABLE players RENAME COLUMN title TO motto`}}
	}
	return nil
}

// injectedFault lets the rollback tests make a new generation fail in each
// way a broken build can: TALKER_FAULT=reject-state|crash-restore|hang-restore
// (and corrupt-session:NAME, which makes one player's record unreadable;
// crash-stage and hang-stage, see takeStaged, fail before the pause).
// It is only consulted by a generation that is taking over.
func injectedFault(fault string) error {
	switch fault {
	case "reject-state":
		return errors.New("injected fault: state rejected")
	case "crash-restore":
		panic("injected fault: crash while restoring")
	case "hang-restore":
		select {}
	}
	return nil
}

func shutdown(srv *server.Server, upg *reboot.Upgrader, angelLink *angelClient, log zerolog.Logger) int {
	upg.Stop()
	defer angelLink.Bye("shutdown", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, ""); err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		return reboot.ExitError
	}
	return reboot.ExitShutdown
}
