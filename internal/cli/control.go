package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"talker/angel"
	"talker/angel/link"
	"talker/ipc"
	"talker/reboot"
	"talker/server"
)

// controlCall sends one request to the running talker and waits (at most
// timeout) for its reply.
// errTalkerNotRunning: nothing listens on the control socket (as opposed to
// a talker that is there but slow to answer).
var errTalkerNotRunning = errors.New("the talker is not running")

func controlCall(paths dataPaths, req server.ControlRequest, timeout time.Duration) (*server.ControlReply, error) {
	return controlCallUpTo(paths, req, timeout, 0)
}

// controlCallUpTo is controlCall for a reply that may be longer than the
// protocol's lines usually are (up to max bytes): account-list's, with a
// line's worth per account.
func controlCallUpTo(paths dataPaths, req server.ControlRequest, timeout time.Duration, max int) (*server.ControlReply, error) {
	c, err := net.DialTimeout("unix", paths.talkerSock(), 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (nothing answers at %s)", errTalkerNotRunning, paths.talkerSock())
		}
		return nil, fmt.Errorf("cannot reach the talker: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if err := ipc.WriteJSON(c, req); err != nil {
		return nil, fmt.Errorf("cannot reach the talker: %w", err)
	}
	var reply server.ControlReply
	if err := ipc.NewLineReader(c, max).ReadJSON(&reply); err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return nil, fmt.Errorf("no answer from the talker within %v", timeout)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, unix.ECONNRESET):
			return nil, fmt.Errorf("the talker closed the connection without answering: %w", err)
		}
		return nil, fmt.Errorf("bad answer from the talker: %w", err)
	}
	return &reply, nil
}

// controlFlags parses a launcher command's flags. A zero timeout means
// "as long as the talker says it needs" (see rebootWait).
func controlFlags(name string, args []string, timeoutDefault time.Duration) (*flag.FlagSet, *string, *time.Duration, *string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	data := fs.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	help := "give up after this long"
	if timeoutDefault == 0 {
		help += " (default: as long as the talker says a reboot can take, at least 30s)"
	}
	timeout := fs.Duration("timeout", timeoutDefault, help)
	reason := fs.String("reason", "", "reason shown to players")
	err := fs.Parse(args)
	return fs, data, timeout, reason, err
}

// rebootWait is how long `talker reboot` waits for its answer: what the
// running talker says a reboot can take (its ready timeouts), plus slack,
// and never less than 30 s.
func rebootWait(p dataPaths) time.Duration {
	wait := 30 * time.Second
	if reply, err := controlCall(p, server.ControlRequest{Cmd: "status"}, 5*time.Second); err == nil && reply.Status != nil {
		wait = max(wait, reply.Status.RebootWithin+5*time.Second)
	}
	return wait
}

// cmdReboot implements `talker reboot` and `talker reset`.
func cmdReboot(mode reboot.Mode) func([]string) int {
	return func(args []string) int {
		fs, data, timeout, reason, err := controlFlags(string(mode), args, 0)
		if err != nil {
			return reboot.ExitUsage
		}
		if *reason == "" && fs.NArg() > 0 {
			*reason = strings.Join(fs.Args(), " ")
		}
		user := os.Getenv("USER")
		if user == "" {
			user = "console"
		}
		if *timeout <= 0 {
			*timeout = rebootWait(dataPaths{*data})
		}
		start := time.Now()
		reply, err := controlCall(dataPaths{*data}, server.ControlRequest{Cmd: string(mode), Reason: *reason, By: user + " (shell)"}, *timeout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "talker %s: %v\n", mode, err)
			if time.Since(start) >= *timeout {
				fmt.Fprintf(os.Stderr, "talker %s: the %s may still finish or roll back: 'talker status' shows which\n", mode, mode)
			}
			return 1
		}
		if !reply.OK {
			fmt.Fprintf(os.Stderr, "talker %s failed: %s\n", mode, reply.Error)
			return 1
		}
		t := reply.Timings
		if mode == reboot.ModeRestart {
			fmt.Printf("restart done in %s: the talker is now pid %d (version %s), was pid %d.\n",
				time.Since(start).Round(time.Millisecond), t.ToPID, t.ToVersion, t.FromPID)
			return 0
		}
		fmt.Printf("%s done in %s: every connection is now served by pid %d (version %s, was pid %d version %s).\n",
			mode, time.Since(start).Round(time.Millisecond), t.ToPID, t.ToVersion, t.FromPID, t.FromVersion)
		fmt.Printf("phases: prepare %s (exec of the new binary %s, sockets staged %s; players not paused), then quiesce %s, snapshot %s, handoff %s, restore %s; players paused %s; %d sessions carried",
			dur(t.Prepare), dur(t.Exec), dur(t.Stage), dur(t.Quiesce), dur(t.Snapshot), dur(t.Handoff), dur(t.Restore), dur(t.Pause), t.Sessions)
		if t.Dropped > 0 {
			fmt.Printf(", %d could not be restored", t.Dropped)
		}
		fmt.Println(".")
		return 0
	}
}

func dur(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }

// statusJSON is what `talker status --json` prints: one object, for
// monitoring. Its field names are a promise to scripts: fields may be
// added, never renamed. The exit code is 0 when the talker answers, 1 when
// it does not (2: bad flags).
//
//	angel.running                 an angel holds the data directory's lock
//	angel.pid                     its pid (0: none)
//	angel.state                   what it says the talker is doing: starting, running,
//	                              restarting, crash-loop, stopping, stopped ("": no answer)
//	angel.detail                  why, when there is more to say
//	angel.restarts                talkers it started again after a crash
//	angel.last_exit               how the last talker it watched ended
//	angel.version                 the angel's build (compare with `talker version`
//	                              to know whether `talker angel upgrade` is due)
//	angel.upgrades                times it has re-executed in place
//	angel.error                   why the angel did not answer, if it did not
//	talker.running                a talker answers on its control socket
//	talker.pid, talker.version, talker.generation
//	talker.players                players logged in
//	talker.connections            connections open, logged in or not
//	talker.listening              the addresses it listens on
//	talker.uptime_seconds         since the last cold start (seamless reboots do not reset it)
//	talker.reboots                seamless reboots since then
//	talker.last_reboot_pause_ms   how long the last one paused players (null: none yet)
//	talker.countdown              a reboot or shutdown counting down ("": none)
//	talker.error                  why it did not answer, if it did not
type statusJSON struct {
	Angel struct {
		Running  bool   `json:"running"`
		PID      int    `json:"pid"`
		State    string `json:"state"`
		Detail   string `json:"detail"`
		Restarts int    `json:"restarts"`
		LastExit string `json:"last_exit"`
		Version  string `json:"version"`
		Upgrades int    `json:"upgrades"`
		Error    string `json:"error"`
	} `json:"angel"`
	Talker struct {
		Running       bool     `json:"running"`
		PID           int      `json:"pid"`
		Version       string   `json:"version"`
		Generation    int      `json:"generation"`
		Players       int      `json:"players"`
		Connections   int      `json:"connections"`
		Listening     []string `json:"listening"`
		UptimeSeconds int64    `json:"uptime_seconds"`
		Reboots       int      `json:"reboots"`
		LastPauseMS   *float64 `json:"last_reboot_pause_ms"`
		Countdown     string   `json:"countdown"`
		Error         string   `json:"error"`
		// By kind of door: telnet, tls, web, web_tls (statusdoors.go).
		ConnectionsByKind map[string]int      `json:"connections_by_kind"`
		ListeningByKind   map[string][]string `json:"listening_by_kind"`
	} `json:"talker"`
}

// talkerStatus asks the talker how it is.
func talkerStatus(paths dataPaths, timeout time.Duration) (*server.Status, error) {
	reply, err := controlCall(paths, server.ControlRequest{Cmd: "status"}, min(timeout, 10*time.Second))
	if err != nil {
		return nil, err
	}
	if reply.Status == nil {
		return nil, fmt.Errorf("no status in its answer (%s)", reply.Error)
	}
	return reply.Status, nil
}

func cmdStatus(args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	data := fs.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	asJSON := fs.Bool("json", false, "print one JSON object, for monitoring; exit 0 if the talker serves, 1 if not")
	if err := fs.Parse(args); err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{*data}
	now := time.Now()
	var ar *link.Reply
	var aerr error
	locked := angel.Locked(paths.angelLock())
	if locked {
		ar, aerr = link.Call(paths.angelSock(), "status", min(*timeout, 5*time.Second))
		if aerr == nil && ar.Status == nil {
			aerr = errors.New("no status in its answer")
		}
	}
	if *asJSON {
		st, err := talkerStatus(paths, *timeout)
		var j statusJSON
		if j.Angel.Running = locked; locked {
			j.Angel.PID = angel.Holder(paths.angelLock())
			if aerr != nil {
				j.Angel.Error = aerr.Error()
			} else {
				a := ar.Status
				j.Angel.PID, j.Angel.State, j.Angel.Detail = a.AngelPID, string(a.State), a.Detail
				j.Angel.Restarts, j.Angel.LastExit = a.Restarts, a.LastExit
				j.Angel.Version, j.Angel.Upgrades = a.AngelVersion, a.AngelUpgrades
			}
		}
		t := &j.Talker
		if err != nil {
			t.Error = err.Error()
		} else {
			t.Running, t.PID, t.Version, t.Generation = true, st.PID, st.Version, st.Generation
			t.Players, t.Connections, t.Listening = st.Players, st.Connections, st.Listening
			t.ConnectionsByKind, t.ListeningByKind = doorsJSON(st) // statusdoors.go
			t.UptimeSeconds, t.Reboots, t.Countdown = int64(now.Sub(st.ColdStartedAt).Seconds()), st.Reboots, st.Countdown
			if st.LastReboot != nil {
				ms := float64(st.LastReboot.Pause) / 1e6
				t.LastPauseMS = &ms
			}
		}
		if t.Listening == nil {
			t.Listening = []string{}
		}
		b, _ := json.Marshal(j)
		fmt.Println(string(b))
		if !t.Running {
			return 1
		}
		return 0
	}
	switch {
	case !locked:
		fmt.Println("angel: not running")
	case aerr != nil:
		fmt.Printf("angel: running (pid %d) but not answering: %v\n", angel.Holder(paths.angelLock()), aerr)
	default:
		a := ar.Status
		line := fmt.Sprintf("angel: running, pid %d, up %s; talker %s", a.AngelPID, now.Sub(a.AngelSince).Round(time.Second), a.State)
		if a.State == link.StateRestarting {
			line += fmt.Sprintf(" in %s", a.RestartIn.Round(100*time.Millisecond))
		}
		if a.Detail != "" {
			line += " (" + a.Detail + ")"
		}
		fmt.Println(line)
		fmt.Printf("angel: %d restarts", a.Restarts)
		if a.LastExit != "" {
			fmt.Printf("; last exit: %s", a.LastExit)
		}
		if a.Adopted {
			fmt.Print("; talker adopted from a previous angel")
		}
		if a.AngelUpgrades > 0 {
			fmt.Printf("; upgraded in place %d times, last %s ago, now version %s", a.AngelUpgrades,
				now.Sub(a.AngelUpgradedAt).Round(time.Second), a.AngelVersion)
		}
		fmt.Println()
		if !a.HeldUpdated.IsZero() && a.State != link.StateStopped {
			fmt.Printf("angel: holding %d connections for crash recovery, updated %s ago\n",
				a.Held, now.Sub(a.HeldUpdated).Round(100*time.Millisecond))
		}
	}
	st, err := talkerStatus(paths, *timeout)
	// The talker's own line comes whatever the angel said: the talker can
	// run without one, and an angel can run without a talker.
	switch {
	case errors.Is(err, errTalkerNotRunning):
		fmt.Printf("talker: not running (nothing answers at %s)\n", paths.talkerSock())
		return 3
	case err != nil:
		fmt.Printf("talker: not answering (%v); it may be starting, stopping or hung\n", err)
		return 3
	}
	fmt.Printf("talker: running, pid %d, version %s, listening on %s\n", st.PID, st.Version, strings.Join(st.Listening, ", "))
	fmt.Printf("generation %d; up %s since a cold start at %s; %d seamless reboots\n",
		st.Generation, now.Sub(st.ColdStartedAt).Round(time.Second), st.ColdStartedAt.Format(time.RFC3339), st.Reboots)
	if line := doorsLine(st); line != "" { // statusdoors.go
		fmt.Println(line)
	}
	fmt.Printf("%d players logged in, %d connections%s\n", st.Players, st.Connections, connectionsByKind(st))
	if t := st.LastReboot; t != nil {
		fmt.Printf("last %s %s ago by %s: prepare %s (exec %s, staging %s), then quiesce %s, snapshot %s, handoff %s, restore %s, players paused %s, %d sessions\n",
			t.Mode, now.Sub(t.At).Round(time.Second), t.By, dur(t.Prepare), dur(t.Exec), dur(t.Stage), dur(t.Quiesce), dur(t.Snapshot), dur(t.Handoff), dur(t.Restore), dur(t.Pause), t.Sessions)
	}
	if st.Countdown != "" {
		fmt.Println("countdown:", st.Countdown)
	}
	return 0
}

// cmdStop stops the talker and its angel, and waits until both have gone.
func cmdStop(args []string) int {
	_, data, timeout, _, err := controlFlags("stop", args, 30*time.Second)
	if err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{*data}
	pid := readPID(paths.pidFile())
	deadline := time.Now().Add(*timeout)
	switch {
	case angel.Locked(paths.angelLock()):
		r, err := link.Call(paths.angelSock(), "stop", *timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "talker stop: the angel does not answer:", err)
			return 1
		}
		if !r.OK {
			fmt.Fprintln(os.Stderr, "talker stop:", r.Error)
			return 1
		}
		for angel.Locked(paths.angelLock()) {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "talker stop: the angel (pid %d) is still running after %v\n", angel.Holder(paths.angelLock()), *timeout)
				return 1
			}
			time.Sleep(50 * time.Millisecond)
		}
	default:
		reply, err := controlCall(paths, server.ControlRequest{Cmd: "shutdown"}, *timeout)
		if err != nil {
			fmt.Println("talker is not running")
			return 0
		}
		if !reply.OK {
			fmt.Fprintln(os.Stderr, "talker stop:", reply.Error)
			return 1
		}
	}
	for pid > 0 && processAlive(pid) {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "talker stop: pid %d still running after %v\n", pid, *timeout)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("talker stopped")
	return 0
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}
