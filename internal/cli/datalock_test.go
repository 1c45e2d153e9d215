package cli

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"talker/reboot"
)

// TestOneTalkerPerDataDirectory: a second talker on the same data
// directory (another port, so only the lock can stop it) is refused with
// the holder named, before and after a seamless reboot (the lock passes
// to the new generation, never dropped), and exits 78 so that an angel
// does not keep restarting it.
func TestOneTalkerPerDataDirectory(t *testing.T) {
	lt := startTalker(t)
	second := func() (string, int) {
		t.Helper()
		cmd := exec.Command(lt.good, "serve", "--data", lt.data, "--listen", freePort(t), "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			if cmd.Process != nil {
				cmd.Process.Kill()
			}
			t.Fatal("the second talker neither served nor stopped")
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		return string(out), 0
	}
	for _, when := range []string{"at first", "after a reboot"} {
		if when == "after a reboot" {
			lt.reboot()
		}
		out, code := second()
		if code != reboot.ExitConfig || !strings.Contains(out, "another talker serves this data directory") ||
			!strings.Contains(out, "talker.lock") {
			t.Fatalf("%s: a second talker on the same data directory: exit %d\n%s", when, code, out)
		}
	}
	c := lt.dial()
	c.Expect("enter your name: ")
}
