package load

import (
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
