package reboot

import (
	"errors"
	"strings"
	"testing"
)

func recorder(name string, log *[]string) HookSet[int] {
	rec := func(hook string) func(int) error {
		return func(int) error { *log = append(*log, name+"."+hook); return nil }
	}
	return HookSet[int]{Name: name, Init: rec("init"), ColdStart: rec("cold_start"), ReloadStart: rec("reload_start"),
		Start: rec("start"), ReloadStop: rec("reload_stop"), ColdStop: rec("cold_stop"), Stop: rec("stop")}
}

func TestHookOrderPerMode(t *testing.T) {
	cases := []struct {
		mode        Mode
		start, stop string
	}{
		{ModeCold, "a.init b.init a.cold_start b.cold_start a.start b.start", "a.cold_stop b.cold_stop a.stop b.stop"},
		{ModeReboot, "a.init b.init a.reload_start b.reload_start a.start b.start", "a.reload_stop b.reload_stop a.stop b.stop"},
		{ModeReset, "a.init b.init a.cold_start b.cold_start a.start b.start", "a.cold_stop b.cold_stop a.stop b.stop"},
		{ModeRestart, "a.init b.init a.cold_start b.cold_start a.start b.start", "a.cold_stop b.cold_stop a.stop b.stop"},
		{ModeCrash, "a.init b.init a.cold_start b.cold_start a.start b.start", "a.cold_stop b.cold_stop a.stop b.stop"},
		{ModeShutdown, "a.init b.init a.cold_start b.cold_start a.start b.start", "a.cold_stop b.cold_stop a.stop b.stop"},
	}
	for _, c := range cases {
		var log []string
		var h Hooks[int]
		h.Register(recorder("a", &log))
		h.Register(recorder("b", &log))
		if err := h.RunStart(c.mode, 0); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(log, " "); got != c.start {
			t.Errorf("%s start: %s, want %s", c.mode, got, c.start)
		}
		log = nil
		if err := h.RunStop(c.mode, 0); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(log, " "); got != c.stop {
			t.Errorf("%s stop: %s, want %s", c.mode, got, c.stop)
		}
	}
}

func TestHookErrorsAndPanicsStopTheSequence(t *testing.T) {
	var log []string
	var h Hooks[int]
	h.Register(HookSet[int]{Name: "bad", Init: func(int) error { return errors.New("boom") }})
	h.Register(recorder("never", &log))
	if err := h.RunStart(ModeCold, 0); err == nil || !strings.Contains(err.Error(), `init hook of "bad": boom`) {
		t.Errorf("error: %v", err)
	}
	var p Hooks[int]
	p.Register(HookSet[int]{Name: "panicky", Stop: func(int) error { panic("oops") }})
	if err := p.RunStop(ModeReboot, 0); err == nil || !strings.Contains(err.Error(), "panic: oops") {
		t.Errorf("panic not turned into an error: %v", err)
	}
	if len(log) != 0 {
		t.Errorf("hooks ran after a failure: %v", log)
	}
}
