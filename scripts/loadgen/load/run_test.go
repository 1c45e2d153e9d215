package load

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"talker/server"
)

// startTalker runs an in-process talker on loopback, as the server's own
// tests do.
func startTalker(t *testing.T, dir string) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	cfg.HashCost = 4
	cfg.MaxPerAddress = 0
	cfg.NewAccountsPerHour = 0
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx, ""); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ln.Addr().String()
}

// checkClean fails the test on anything but a perfect run, and checks
// that the report's numbers add up.
func checkClean(t *testing.T, rep *Report, clients int) {
	t.Helper()
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	if !rep.OK || len(rep.Failures) > 0 {
		t.Fatalf("run failed: %v\n%s", rep.Failures, text.String())
	}
	t.Logf("\n%s", text.String())
	if rep.Logins.LoggedIn != clients || rep.Logins.Failed != 0 || len(rep.Disconnects) != 0 {
		t.Errorf("logins %+v, disconnects %d", rep.Logins, len(rep.Disconnects))
	}
	d, l := rep.Deliveries, rep.Lines
	if d.Lost != 0 || d.Duplicated != 0 || d.Unexpected != 0 || d.BadTokens != 0 {
		t.Errorf("deliveries %+v", d)
	}
	if l.Sent == 0 || l.Aborted != 0 || l.Echoes != l.Sent || l.EchoExpected != l.Sent || l.EchoLost != 0 || l.EchoDuplicates != 0 {
		t.Errorf("lines %+v", l)
	}
	// Expected deliveries: every line, to every other client of its room.
	roomSize := map[string]int64{}
	for _, r := range rep.Recipients {
		roomSize[r.Room]++
	}
	var want, sent, exp, got int64
	for _, r := range rep.Recipients {
		want += r.Sent * (roomSize[r.Room] - 1)
		sent += r.Sent
		exp += r.Expected
		got += r.Received
		if r.Expected != r.Received || r.Lost != 0 || r.Duplicated != 0 || r.Echoes != r.Sent {
			t.Errorf("recipient %+v", r)
		}
	}
	if d.Expected != want || d.Received != want || exp != want || got != want || sent != l.Sent {
		t.Errorf("expected %d, received %d, want %d (per recipient: %d, %d); sent %d vs %d", d.Expected, d.Received, want, exp, got, sent, l.Sent)
	}
	if rep.EchoLatency.Count != l.Sent || rep.EchoLatency.P50 <= 0 || rep.EchoLatency.Max < rep.EchoLatency.P99 {
		t.Errorf("echo latency %+v", rep.EchoLatency)
	}
	if rep.DeliveryLatency.Count != d.Received {
		t.Errorf("delivery latency count %d, want %d", rep.DeliveryLatency.Count, d.Received)
	}
	var series int64
	for _, s := range rep.Series {
		series += s.Deliveries
	}
	if series != d.Received || rep.Throughput.DeliveriesPerSec <= 0 {
		t.Errorf("series deliveries %d, throughput %+v", series, rep.Throughput)
	}
	if len(rep.Samples) < 2 || rep.Resources.FDLoaded < clients {
		t.Errorf("samples %d, resources %+v", len(rep.Samples), rep.Resources)
	}
	// JSON and the plot are written without error.
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("json: %v", err)
	}
	var png bytes.Buffer
	if err := rep.WritePlot(&png); err != nil || !bytes.HasPrefix(png.Bytes(), []byte("\x89PNG")) {
		t.Errorf("plot: %v (%d bytes)", err, png.Len())
	}
}

// The short run of the test suite: 50 clients against an in-process
// talker, with an event in the middle (a no-op hook: the in-process talker
// cannot reboot), then the same accounts again in three rooms, typing byte
// by byte. Any disconnect, loss or duplicate fails it.
func TestRunInProcess(t *testing.T) {
	addr := startTalker(t, t.TempDir())
	var hookRan atomic.Bool
	cfg := Config{
		Addr: addr, PID: os.Getpid, Clients: 50, Rate: 2, Duration: 3 * time.Second, Ramp: 200,
		Drain: time.Second, Window: time.Second, Settle: 500 * time.Millisecond,
		Events: []EventSpec{{Kind: "pause", At: 1500 * time.Millisecond}},
		Hooks: map[string]func(context.Context) (string, error){
			"pause": func(context.Context) (string, error) {
				hookRan.Store(true)
				time.Sleep(100 * time.Millisecond)
				return "paused", nil
			},
		},
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, rep, 50)
	if rep.Logins.Registered != 50 {
		t.Errorf("registered %d, want 50", rep.Logins.Registered)
	}
	if !hookRan.Load() || len(rep.Events) != 1 {
		t.Fatalf("events %+v", rep.Events)
	}
	e := rep.Events[0]
	if !e.OK || e.Output != "paused" || e.ConnectedBefore != 50 || e.ConnectedAfter != 50 || e.DisconnectsDuring != 0 ||
		e.Duration < 0.1 || e.Before.Lines == 0 || e.During.Lines == 0 || e.After.Lines == 0 {
		t.Errorf("event %+v", e)
	}

	// Again: the accounts exist now, so every client logs in.
	cfg.Clients, cfg.Rooms, cfg.Typing, cfg.ByteGap, cfg.Events = 30, 3, TypeBytewise, 5*time.Millisecond, nil
	cfg.Duration = 2 * time.Second
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, rep, 30)
	if rep.Logins.Registered != 0 {
		t.Errorf("registered %d accounts again", rep.Logins.Registered)
	}
	rooms := map[string]int{}
	for _, r := range rep.Recipients {
		rooms[r.Room]++
	}
	if rooms["main"] != 10 || rooms["lounge"] != 10 || rooms["garden"] != 10 {
		t.Errorf("rooms %v", rooms)
	}
}

// The load generator never talks to anything but loopback.
func TestRunRefusesRemoteAddresses(t *testing.T) {
	for _, addr := range []string{"10.1.2.3:4000", "93.184.216.34:23", "example.com:4000"} {
		if _, err := Run(context.Background(), Config{Addr: addr, Clients: 1, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "loopback") && !strings.Contains(err.Error(), "localhost") {
			t.Errorf("%s: err %v", addr, err)
		}
	}
}

// Ctrl-C (a cancelled context) ends the run early and still reports.
func TestRunInterrupted(t *testing.T) {
	addr := startTalker(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, Config{Addr: addr, PID: os.Getpid, Clients: 5, Rate: 2, Duration: time.Minute, Drain: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || time.Since(start) > 10*time.Second || rep.Lines.Sent == 0 || rep.Deliveries.Lost != 0 {
		t.Errorf("interrupted %v after %v, lines %+v, deliveries %+v", rep.Interrupted, time.Since(start), rep.Lines, rep.Deliveries)
	}
}

// buildTalker builds the talker binary once for the tests that need a real
// process (a seamless reboot replaces the process). Under -race the talker
// is race-built too (its packages are in the build cache already, so that
// costs a link), with its race reports on the output the test checks
// (checkNoRace).
func buildTalker(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the talker; skipped with -short")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool to build the talker: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "talker")
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
		// Each process exits without the race runtime's 1 s wait for
		// reports still being written (as internal/cli's children do).
		if gorace := os.Getenv("GORACE"); !strings.Contains(gorace, "atexit_sleep_ms") {
			t.Setenv("GORACE", strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
		}
	}
	cmd := exec.Command(goTool, append(args, "talker")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build talker: %v\n%s", err, out)
	}
	return bin
}

// The check: a short run of 50 clients with one seamless reboot,
// typing byte by byte so that lines are in flight across it, fails on any
// disconnect, loss or duplicate.
func TestRunManagedReboot(t *testing.T) {
	bin := buildTalker(t)
	var log bytes.Buffer
	cfg := Config{
		Talker: bin, DataDir: filepath.Join(t.TempDir(), "data"), TalkerLog: &log,
		Clients: 50, Rate: 1, Duration: 5 * time.Second, Ramp: 200,
		Typing: TypeBytewise, ByteGap: 10 * time.Millisecond,
		Window: 2 * time.Second, Settle: time.Second,
		Events: []EventSpec{{Kind: EventReboot, At: 2 * time.Second}},
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\ntalker output:\n%s", err, log.String())
	}
	if !rep.OK {
		t.Logf("talker output:\n%s", log.String())
	}
	checkNoRace(t, log.String())
	checkClean(t, rep, 50)
	if len(rep.Events) != 1 {
		t.Fatalf("events %+v", rep.Events)
	}
	e := rep.Events[0]
	if !e.OK || e.ExitStatus != 0 || e.ConnectedBefore != 50 || e.ConnectedAfter != 50 || e.DisconnectsDuring != 0 || e.During.Lines == 0 {
		t.Errorf("reboot event %+v", e)
	}
	if e.PIDBefore == 0 || e.PIDAfter == e.PIDBefore {
		t.Errorf("the reboot did not replace the process: pid %d -> %d", e.PIDBefore, e.PIDAfter)
	}
	// Where the pause went, read from the talker's own answer.
	if ph := e.Phases; ph == nil || ph.Paused <= 0 || ph.Exec <= 0 {
		t.Errorf("the reboot's phases were not read from %q: %+v", e.Output, ph)
	} else if ph.AllResumed <= 0 || ph.Thaw < 0 {
		// (All resumed is timed from the pause's start in the new
		// generation's log, the pause by the old one's answer: the two
		// clocks start apart, so neither bounds the other.)
		// ... and the thaw from its log (DATA/log/talker.log).
		t.Errorf("the thaw was not read from the talker's log: %+v", ph)
	}
}

// checkNoRace fails the test if a race-built talker (buildTalker under
// -race) reported a data race on its output.
func checkNoRace(t *testing.T, talkerOutput string) {
	t.Helper()
	if i := strings.Index(talkerOutput, "WARNING: DATA RACE"); i >= 0 {
		t.Errorf("the talker reported a data race:\n%s", talkerOutput[max(0, i-20):])
	}
}
