package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"talker/angel"
	"talker/angel/link"
	"talker/config"
	"talker/player"
	"talker/reboot"
	"talker/server"
	"talker/server/logging"
	"talker/server/store"
)

// angelOptions are the flags of `talker angel`, `run` and `start`: the
// angel's own, plus every `serve` flag, passed on to the talker.
type angelOptions struct {
	data      string
	detach    bool
	timeout   time.Duration
	serveArgs []string
	overrides config.Overrides
	version   string
	resume    *angel.Resume // this process is an upgraded angel's new image
}

func parseAngelFlags(name string, args []string, withDetach bool, opts Options) (*angelOptions, error) {
	o := &angelOptions{version: opts.version(), resume: opts.resume}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	data, given := settingsFlags(fs)
	if withDetach {
		fs.BoolVar(&o.detach, "detach", false, "run in the background (as cron would start it)")
	}
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for the talker to be ready")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// The talker reads its settings from the data directory's file at
	// every start and reboot; only flags typed here are passed on, and
	// they win over the file for as long as this angel runs.
	o.data, o.overrides = *data, given()
	o.serveArgs = append([]string{"serve", "--data=" + o.data}, o.overrides.Args()...)
	return o, nil
}

// cmdAngel runs the watchdog: `talker angel [--detach] [flags]`.
func cmdAngel(args []string, opts Options) int {
	for i, a := range args {
		if a == "upgrade" { // `talker angel upgrade [--data DIR]`, the word before or after the flags
			return cmdAngelUpgrade(append(args[:i:i], args[i+1:]...))
		}
	}
	switch {
	case len(args) == 1 && args[0] == "--resume-format":
		// An upgrade's preflight: which resume state this build reads.
		fmt.Println(angel.ResumeFormat)
		return 0
	}
	o, err := parseAngelFlags("angel", args, true, opts)
	if err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{o.data}
	if o.resume != nil {
		return runAngel(o, os.Getenv("JOURNAL_STREAM") != "")
	}
	if angel.Locked(paths.angelLock()) {
		fmt.Printf("angel already running (pid %d)\n", angel.Holder(paths.angelLock()))
		if o.detach {
			// Cron finding a new binary: the running angel takes it over
			// in place (it keeps everything; see angel/upgrade.go).
			if r, err := link.Call(paths.angelSock(), "status", 5*time.Second); err == nil && r.Status != nil &&
				r.Status.AngelVersion != "" && r.Status.AngelVersion != o.version {
				fmt.Printf("it runs version %s and this binary is %s: upgrading it in place\n", r.Status.AngelVersion, o.version)
				return cmdAngelUpgrade([]string{"--data", o.data})
			}
		}
		return 0
	}
	if o.detach {
		// --detach is how cron starts the angel: it must not undo a stop an
		// admin asked for. A foreground angel (a shell, systemd) is an
		// explicit start.
		if b, err := os.ReadFile(paths.stopMarker()); err == nil {
			fmt.Printf("the talker was stopped deliberately at %s; 'talker start' starts it again\n", strings.TrimSpace(string(b)))
			return 0
		}
		cmd, err := detachAngel(args, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "talker angel:", err)
			return 1
		}
		fmt.Printf("angel started in the background (pid %d)\n", cmd.Process.Pid)
		_ = cmd.Process.Release()
		return 0
	}
	os.Remove(paths.stopMarker())
	// Under systemd, stderr goes to the journal: log there too.
	return runAngel(o, os.Getenv("JOURNAL_STREAM") != "")
}

// cmdRun runs angel and talker in the foreground, logs on the terminal;
// Ctrl-C stops both.
func cmdRun(args []string, opts Options) int {
	o, err := parseAngelFlags("run", args, false, opts)
	if err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{o.data}
	if o.resume != nil {
		return runAngel(o, true)
	}
	os.Remove(paths.stopMarker())
	if angel.Locked(paths.angelLock()) {
		fmt.Fprintf(os.Stderr, "talker run: an angel is already running for %s (pid %d); use 'talker status' or 'talker stop'\n",
			o.data, angel.Holder(paths.angelLock()))
		return 1
	}
	if isTerminal(os.Stdin) {
		if err := ensureAdmin(o); err != nil {
			fmt.Fprintln(os.Stderr, "talker run:", err)
		}
	}
	return runAngel(o, true)
}

// ensureAdmin asks for the first admin account on the terminal that
// started `talker run`, if the database has none. (The talker itself runs
// without a terminal, under the angel; it never makes an admin of whoever
// connects first.)
func ensureAdmin(o *angelOptions) error {
	// A talker this angel will adopt may be using the database: leave its
	// schema one it can read. With none running, a cold start follows:
	// migrate.
	st, err := store.OpenWith(o.data, store.ReadableMigrations)
	if errors.Is(err, store.ErrMigrationNeedsColdStart) {
		// Only when certainly no talker is there (not merely one slow to
		// answer, mid-reboot, say): otherwise it keeps its schema, and
		// there is no prompt now.
		if _, cerr := controlCall(dataPaths{o.data}, server.ControlRequest{Cmd: "status"}, 2*time.Second); !errors.Is(cerr, errTalkerNotRunning) {
			return nil
		}
		st, err = store.Open(o.data)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if n, err := st.CountPlayersWithRank(player.Admin); err != nil || n > 0 {
		return err
	}
	name, pw, err := askAdminOnTerminal()
	if err != nil {
		fmt.Fprintln(os.Stderr, "no admin created; 'talker account create --rank admin' makes one later")
		return nil
	}
	cfg := configFor(o.data, o.overrides)
	p, err := server.CreateAccount(&cfg, st, name, pw, player.Admin)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "admin account %s created\n", p.Name)
	return nil
}

// runAngel runs the angel in this process until it stops.
func runAngel(o *angelOptions, foreground bool) int {
	paths := dataPaths{o.data}
	if err := paths.checkSockets(); err != nil {
		fmt.Fprintln(os.Stderr, "talker angel:", err)
		return 1
	}
	if err := os.MkdirAll(paths.runDir(), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "talker angel:", err)
		return 1
	}
	var lock *os.File
	var err error
	if o.resume != nil {
		// Still held: the lock belongs to the open file the exec kept.
		lock = os.NewFile(uintptr(o.resume.LockFD()), paths.angelLock())
	} else {
		lock, err = angel.Lock(paths.angelLock())
	}
	if errors.Is(err, angel.ErrLocked) {
		fmt.Printf("angel already running (pid %d)\n", angel.Holder(paths.angelLock()))
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker angel:", err)
		return 1
	}
	defer lock.Close()
	var console *os.File
	if foreground {
		console = os.Stderr
	}
	opts := logging.Options{DataDir: o.data, File: "angel.log", Level: zerolog.InfoLevel, Process: "angel",
		NoColor: !isTerminal(os.Stderr)}
	if console != nil {
		opts.Console = console
	}
	// The angel's log rotates as the file says; a broken file leaves
	// the defaults (the talker reports what is wrong with it).
	settings, serr := readSettings(o.data, o.overrides)
	if serr != nil {
		settings = config.Default()
	}
	opts.MaxSize, opts.Keep = logSize(settings)
	watch := watchFrom(settings)
	log, closer, err := logging.Open(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker angel:", err)
		return 1
	}
	defer closer.Close()
	exe, err := reboot.Executable()
	if err != nil {
		log.Error().Err(err).Msg("cannot find the talker binary")
		return 1
	}
	env := os.Environ()
	stdout, stderr := os.Stdout, os.Stderr
	stderrLog := ""
	if !foreground {
		stderrLog = paths.stderrLog()
		// Detached: keep whatever the talker writes to stderr (its log goes
		// to its log file; crash traces also go to the crash log).
		f, err := openAppend(paths.stderrLog())
		if err != nil {
			log.Error().Err(err).Msg("cannot open the talker's stderr log")
			fmt.Fprintln(os.Stderr, "talker angel:", err)
			return 1
		}
		defer f.Close()
		stdout, stderr = f, f
		env = append(env, envConsole+"=0")
	}
	a := angel.New(angel.Config{
		Socket: paths.angelSock(), StopMarker: paths.stopMarker(), RunDir: paths.runDir(),
		CrashLog: paths.crashLog(), StderrLog: stderrLog,
		ReopenLog: func() {
			if err := closer.Reopen(); err != nil {
				log.Error().Err(err).Msg("cannot reopen the log file")
			}
		},
		Executable: exe, Args: o.serveArgs, Env: env, Stdout: stdout, Stderr: stderr,
		Policy: watch.Policy, BootTimeout: watch.BootTimeout, HangTimeout: watch.HangTimeout, GoodAfter: watch.GoodAfter,
		Reread: func() (angel.Watch, error) {
			s, err := readSettings(o.data, o.overrides)
			return watchFrom(s), err
		},
		Shutdown: func() error {
			r, err := controlCall(paths, server.ControlRequest{Cmd: "shutdown"}, 5*time.Second)
			if err == nil && !r.OK {
				err = errors.New(r.Error)
			}
			return err
		},
		TalkerRunning: func() int {
			r, err := controlCall(paths, server.ControlRequest{Cmd: "status"}, 2*time.Second)
			if err != nil || r.Status == nil {
				return 0
			}
			return r.Status.PID
		},
		Version: o.version, LockFD: int(lock.Fd()), Resume: o.resume,
		Log: log,
	})
	log.Info().Str("version", o.version).Str("data", o.data).Strs("talker", o.serveArgs).Msg("angel running")
	return a.Run()
}

// watchFrom gives the angel's settings in its own terms.
func watchFrom(s config.Settings) angel.Watch {
	a := s.Angel
	p := angel.DefaultPolicy()
	p.Initial, p.Max = a.Backoff.D(), a.BackoffMax.D()
	p.CrashLimit, p.CrashWindow = a.CrashLimit, a.CrashWindow.D()
	return angel.Watch{Policy: p, BootTimeout: a.BootTimeout.D(), HangTimeout: a.HangTimeout.D(), GoodAfter: a.GoodAfter.D()}
}

// detachAngel starts `talker angel` (without --detach) in a new session,
// with no terminal, its output going to out (nil: nowhere).
func detachAngel(args []string, out *os.File) (*exec.Cmd, error) {
	exe, err := reboot.Executable()
	if err != nil {
		return nil, err
	}
	var rest []string
	for _, a := range args {
		if a != "--detach" && a != "-detach" && a != "--detach=true" && a != "-detach=true" {
			rest = append(rest, a)
		}
	}
	cmd := exec.Command(exe, append([]string{"angel"}, rest...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Its stderr is not the journal's even if ours is: it must not log
	// there (runAngel).
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "JOURNAL_STREAM=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// cmdStart starts the angel in the background if it is not running, and
// waits until the talker serves. It says why as soon as it knows the
// talker will not: the angel it started exited (it could not run, or the
// talker's configuration is broken), or the angel gave up.
func cmdStart(args []string) int {
	o, err := parseAngelFlags("start", args, false, Options{})
	if err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{o.data}
	os.Remove(paths.stopMarker())
	// What the talker writes to its stderr from now on says why it did
	// not start (a port taken, say); the angel's own output says why it
	// could not run. That goes to a file nobody else can open (removed at
	// once), not a pipe, which would kill the angel with SIGPIPE once we
	// are gone.
	stderrAt := fileSize(paths.stderrLog())
	var angelExit chan error // nil: the angel was running already
	angelOut, err := os.CreateTemp("", "talker-start-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker start:", err)
		return 1
	}
	os.Remove(angelOut.Name())
	defer angelOut.Close()
	if angel.Locked(paths.angelLock()) {
		if _, err := link.Call(paths.angelSock(), "resume", 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "talker start: the angel does not answer:", err)
			return 1
		}
	} else {
		cmd, err := detachAngel(args, angelOut)
		if err != nil {
			fmt.Fprintln(os.Stderr, "talker start:", err)
			return 1
		}
		angelExit = make(chan error, 1)
		go func() { angelExit <- cmd.Wait() }()
	}
	deadline := time.Now().Add(o.timeout)
	for time.Now().Before(deadline) {
		r, err := controlCall(paths, server.ControlRequest{Cmd: "status"}, time.Second)
		if err == nil && r.OK && r.Status != nil {
			st := r.Status
			fmt.Printf("talker started: pid %d, listening on %s, version %s, generation %d\n",
				st.PID, strings.Join(st.Listening, ", "), st.Version, st.Generation)
			return 0
		}
		if ar, err := link.Call(paths.angelSock(), "status", time.Second); err == nil && ar.Status != nil {
			if s := ar.Status.State; s == link.StateCrashLoop || s == link.StateStopped {
				fmt.Fprintf(os.Stderr, "talker start: the talker does not start: %s (%s)\n", s, ar.Status.Detail)
				printFileTail(paths.stderrLog(), stderrAt, "the talker's stderr")
				printLogTail(paths, 15)
				return 1
			}
		}
		select {
		case err := <-angelExit:
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code == 0 {
				// Another angel won the race to start: it runs the talker.
				angelExit = nil
				continue
			}
			if code == reboot.ExitConfig {
				fmt.Fprintln(os.Stderr, "talker start: the talker cannot start, and starting it again will not help; the angel has stopped")
			} else {
				fmt.Fprintf(os.Stderr, "talker start: the angel exited at once (%v)\n", err)
			}
			printTail(angelOut, 0, "the angel's output")
			printFileTail(paths.stderrLog(), stderrAt, "the talker's stderr")
			printLogTail(paths, 15)
			return 1
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Fprintf(os.Stderr, "talker start: the talker did not become ready within %v\n", o.timeout)
	printLogTail(paths, 15)
	return 1
}

// fileSize is the size of the file at path (not through a symbolic link),
// 0 if there is none.
func fileSize(path string) int64 {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// printFileTail shows on stderr what the file at path has from offset from
// on (see printTail); a symbolic link there is not followed.
func printFileTail(path string, from int64, what string) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	printTail(f, from, what)
}

// printTail shows on stderr, under a heading, what f has from offset from
// on, at most its last 4 KiB.
func printTail(f *os.File, from int64, what string) {
	fi, err := f.Stat()
	if err != nil {
		return
	}
	if from > fi.Size() { // truncated meanwhile
		from = 0
	}
	from = max(from, fi.Size()-4<<10)
	buf := make([]byte, fi.Size()-from)
	n, _ := f.ReadAt(buf, from)
	if text := strings.TrimSpace(string(buf[:n])); text != "" {
		fmt.Fprintf(os.Stderr, "%s:\n  %s\n", what, strings.ReplaceAll(text, "\n", "\n  "))
	}
}
