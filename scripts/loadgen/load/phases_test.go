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
