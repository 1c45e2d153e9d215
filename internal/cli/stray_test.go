package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestStrayDescriptorsAreClosed: descriptors that whoever started the
// angel left open (cron, a shell, systemd) reach no process of the
// talker's: not the angel, not the talker, not a reboot's generation, not
// the one a crash recovery starts.
func TestStrayDescriptorsAreClosed(t *testing.T) {
	la := newAngelDir(t)
	stray := filepath.Join(la.dir, "stray-file")
	f, err := os.Create(stray)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	la.cmd = la.command("angel")
	la.cmd.ExtraFiles = []*os.File{f, w} // descriptors 3 and 4, without close-on-exec, as a parent leaves them
	if err := la.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pipe := pipeName(t, w)
	check := func(when string, pids ...int) {
		t.Helper()
		for _, pid := range pids {
			ents, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
			for _, e := range ents {
				target, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + e.Name())
				if target == stray || target == pipe {
					t.Errorf("%s: process %d still has the stray %s as descriptor %s", when, pid, target, e.Name())
				}
			}
		}
	}
	talker := la.waitServing(20 * time.Second)
	check("at start", la.cmd.Process.Pid, talker)

	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("reboot: %s", out)
	}
	talker, _ = la.waitNewTalker(talker, 10*time.Second)
	check("after a reboot", la.cmd.Process.Pid, talker)

	signalPID(talker, syscall.SIGKILL)
	talker, _ = la.waitNewTalker(talker, 10*time.Second)
	check("after a crash recovery", la.cmd.Process.Pid, talker)
}

// pipeName is how /proc shows a pipe's end, e.g. "pipe:[1234]".
func pipeName(t *testing.T, f *os.File) string {
	t.Helper()
	name, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	return name
}
