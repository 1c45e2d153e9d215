package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Data races in the talker processes these tests start. The children are
// this test binary re-exec'd (TestMain), so under `go test -race` they are
// race-built too; but a child's race report went to its own stderr (the
// test's buffer, or a log file under a detached angel), and a raced
// generation's exit status 66 was seen by nobody: the tests passed. So the
// children write their reports to files instead (GORACE log_path, one file
// per pid, created only by a report), and every test that starts a child
// fails, with the report, if one appeared by its end; TestMain fails the
// run for any written after that. Without -race GORACE is ignored and no
// file ever appears.

// childRaceDir is where the children's race reports go ("" if the
// developer chose their own log_path in GORACE: then they read them).
var childRaceDir string

// childRaceOptions adds log_path to the children's GORACE options (see
// raceOptionsForChildren), creating the directory for it.
func childRaceOptions(gorace string) string {
	if strings.Contains(gorace, "log_path") {
		return gorace
	}
	dir, err := os.MkdirTemp("", "talker-child-races-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot make a directory for the children's race reports: %v\n", err)
		return gorace
	}
	childRaceDir = dir
	return strings.TrimSpace(gorace + " log_path=" + filepath.Join(dir, "race"))
}

// takeChildRaces returns the race reports written so far, removing them.
func takeChildRaces() []string {
	if childRaceDir == "" {
		return nil
	}
	ents, err := os.ReadDir(childRaceDir)
	if err != nil {
		return nil
	}
	var reports []string
	for _, e := range ents {
		p := filepath.Join(childRaceDir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		os.Remove(p)
		pid := strings.TrimPrefix(filepath.Ext(e.Name()), ".")
		reports = append(reports, fmt.Sprintf("talker process %s:\n%s", pid, b))
	}
	sort.Strings(reports)
	return reports
}

// checkChildRaces makes t fail, at its end, if a child raced. Call it
// before the t.Cleanup that stops the children: cleanups run last first,
// so the check comes after they are gone.
func checkChildRaces(t *testing.T) {
	t.Cleanup(func() {
		for _, r := range takeChildRaces() {
			t.Errorf("a talker process this test (or one before it) started reported a data race:\n%s", r)
		}
	})
}

// finishChildRaces is TestMain's last word: the exit code, failed if a
// child raced after the last test's check.
func finishChildRaces(code int) int {
	if childRaceDir == "" {
		return code
	}
	for _, r := range takeChildRaces() {
		fmt.Fprintf(os.Stderr, "FAIL: a talker process reported a data race after its test ended:\n%s\n", r)
		code = 1
	}
	os.RemoveAll(childRaceDir)
	return code
}
