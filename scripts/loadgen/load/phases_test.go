package load

import "testing"

// The talker's answer to `talker reboot`, as internal/cli/control.go writes it
// at bd61d63: every phase is read, and output without a phases line (a
// failed reboot) gives none.
func TestParsePausePhases(t *testing.T) {
	out := "reboot done in 318ms: every connection is now served by pid 11145 (version dev, was pid 11120 version dev).\n" +
		"phases: prepare 267.2ms (exec of the new binary 44.8ms, sockets staged 203.7ms; players not paused), then quiesce 4.1ms, snapshot 4.5ms, handoff 1.6ms, restore 9.9ms; players paused 21.4ms; 1000 sessions carried.\n"
	got, ok := parsePausePhases(out)
	want := PausePhases{Prepare: 267.2, Exec: 44.8, Staged: 203.7, Quiesce: 4.1, Snapshot: 4.5, Handoff: 1.6, Restore: 9.9, Paused: 21.4}
	if !ok || got != want {
		t.Errorf("parsePausePhases = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := parsePausePhases("reboot failed: the new binary refused: injected fault\n"); ok {
		t.Error("a failed reboot's output gave phases")
	}
}

// The thaw is read from the new generation's line in the talker's log,
// the one with its pid; other lines and other pids are passed over.
func TestAddThaw(t *testing.T) {
	log := []byte(`{"level":"info","proc":"talker","pid":28780,"message":"restore phases","sessions":99.0}
{"level":"info","proc":"talker","pid":111,"generation":2,"pause":9.5,"all_resumed":12.5,"message":"reboot complete; serving"}
not json, reboot complete; serving
{"level":"info","proc":"talker","pid":28780,"generation":2,"sessions":10000,"dropped":0,"pause":202.151649,"queued":221.429319,"all_resumed":232.919556,"restore":79.844183,"from_version":"dev","time":"2026-12-05T12:35:24.969935Z","message":"reboot complete; serving"}
`)
	var ph PausePhases
	if !addThaw(&ph, log, 28780) {
		t.Fatal("no thaw found for pid 28780")
	}
	if ph.AllResumed != 232.919556 || ph.Thaw < 30.76 || ph.Thaw > 30.77 {
		t.Errorf("thaw %.3f, all resumed %.3f; want 30.768, 232.920", ph.Thaw, ph.AllResumed)
	}
	if addThaw(&ph, log, 4242) || addThaw(&ph, nil, 28780) {
		t.Error("a thaw found for a pid the log does not have, or in no log")
	}
}
