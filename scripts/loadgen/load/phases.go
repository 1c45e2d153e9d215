package load

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// PausePhases is where a reboot's time went, as the talker reported it to
// `talker reboot` (the "phases:" line of its answer), in milliseconds.
// Exec and Staged happen before the pause, while players carry on; the
// rest add up to (most of) Paused.
type PausePhases struct {
	Prepare  float64 `json:"prepare_ms"`
	Exec     float64 `json:"exec_ms"`
	Staged   float64 `json:"staged_ms"`
	Quiesce  float64 `json:"quiesce_ms"`
	Snapshot float64 `json:"snapshot_ms"`
	Handoff  float64 `json:"handoff_ms"`
	Restore  float64 `json:"restore_ms"`
	Paused   float64 `json:"paused_ms"`
	// From the talker's log, not its answer (addThaw): Thaw is how long
	// after Paused the last connection was thawed, AllResumed when, since
	// the pause began. Zero when the log was not found.
	Thaw       float64 `json:"thaw_ms,omitempty"`
	AllResumed float64 `json:"all_resumed_ms,omitempty"`
}

// phaseRE matches "name 12.3ms" pairs on the phases line.
var phaseRE = regexp.MustCompile(`(prepare|exec of the new binary|sockets staged|quiesce|snapshot|handoff|restore|players paused) ([0-9.]+)ms`)

// parsePausePhases reads the phases line of a reboot command's output; ok
// is false when there is none (a failed reboot, another build's wording).
func parsePausePhases(output string) (PausePhases, bool) {
	var ph PausePhases
	for _, line := range strings.Split(output, "\n") {
		if !strings.HasPrefix(line, "phases:") {
			continue
		}
		fields := map[string]*float64{"prepare": &ph.Prepare, "exec of the new binary": &ph.Exec,
			"sockets staged": &ph.Staged, "quiesce": &ph.Quiesce, "snapshot": &ph.Snapshot,
			"handoff": &ph.Handoff, "restore": &ph.Restore, "players paused": &ph.Paused}
		found := false
		for _, m := range phaseRE.FindAllStringSubmatch(line, -1) {
			if v, err := strconv.ParseFloat(m[2], 64); err == nil {
				*fields[m[1]] = v
				found = true
			}
		}
		return ph, found && ph.Paused > 0
	}
	return ph, false
}

// thawLine is what the new generation logs once every connection is
// thawed (server/reboot_child.go, "reboot complete; serving"): durations
// in ms since the pause began, as zerolog writes them to DATA/log/talker.log.
type thawLine struct {
	PID        int     `json:"pid"`
	Message    string  `json:"message"`
	Pause      float64 `json:"pause"`
	AllResumed float64 `json:"all_resumed"`
}

// addThaw completes ph from the talker's log (DATA/log/talker.log, JSON
// lines): the new generation pid's "reboot complete; serving" line gives
// when the last connection was thawed (AllResumed) and so how long the
// thaw took after the pause players were told of (Thaw). The talker's
// answer to `talker reboot` is sent before that, so it cannot say. ok is
// false when the log has no such line for pid.
func addThaw(ph *PausePhases, log []byte, pid int) bool {
	const msg = "reboot complete; serving"
	for _, line := range bytes.Split(log, []byte("\n")) {
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		var tl thawLine
		if json.Unmarshal(line, &tl) != nil || tl.Message != msg || tl.PID != pid || tl.AllResumed <= 0 {
			continue
		}
		ph.AllResumed = tl.AllResumed
		ph.Thaw = max(0, tl.AllResumed-tl.Pause)
		return true
	}
	return false
}
