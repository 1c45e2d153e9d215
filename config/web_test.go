package config

import (
	"slices"
	"testing"
)

func TestWebListeners(t *testing.T) {
	s := Default()
	if got := s.WebListeners(); !slices.Equal(got, []string{DefaultWebListen}) {
		t.Errorf("default: %v, want the web client next to the default telnet port", got)
	}
	s.Listen = []string{"127.0.0.1:5000"}
	if got := s.WebListeners(); len(got) != 0 {
		t.Errorf("telnet moved, listen_web unset: %v, want none", got)
	}
	s.ListenWeb = []string{"0.0.0.0:8080"}
	if got := s.WebListeners(); !slices.Equal(got, s.ListenWeb) {
		t.Errorf("listen_web set: %v", got)
	}
	s = Default()
	s.ListenWeb = []string{WebListenOff}
	if got := s.WebListeners(); len(got) != 0 {
		t.Errorf("off: %v", got)
	}
	if probs := Validate(s); len(probs) != 0 {
		t.Errorf("listen_web = [\"off\"] refused: %v", probs)
	}
	s.ListenWeb = []string{"localhost"}
	if probs := Validate(s); len(probs) == 0 {
		t.Error("listen_web without a port accepted")
	}
}
