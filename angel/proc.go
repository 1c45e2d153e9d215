package angel

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// exitInfo is how a child ended.
type exitInfo struct {
	pid    int
	status syscall.WaitStatus
}

// describe says how a process ended, for logs and status.
func (e exitInfo) describe() string {
	switch {
	case e.status.Exited():
		return "exit status " + strconv.Itoa(e.status.ExitStatus())
	case e.status.Signaled():
		return "killed by " + unix.SignalName(e.status.Signal())
	}
	return "ended"
}

// reapAll collects every child that has exited, without blocking. The
// angel reaps with this one loop only (never exec.Cmd.Wait), because as a
// subreaper it also inherits generations it did not start.
func reapAll() []exitInfo {
	var out []exitInfo
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return out
		}
		out = append(out, exitInfo{pid: pid, status: ws})
	}
}

// reapOne collects one child if it has exited, without blocking. child
// is false if pid is not the angel's child (ECHILD); a child that is still
// running, or still exiting (a multi-threaded process's leader shows as a
// zombie in /proc before its other threads are gone and it can be waited
// for), gives ok false and child true.
func reapOne(pid int) (e exitInfo, ok, child bool) {
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	if err == syscall.ECHILD {
		return exitInfo{}, false, false
	}
	if got != pid || err != nil {
		return exitInfo{}, false, true
	}
	return exitInfo{pid: pid, status: ws}, true, true
}

// becomeSubreaper makes orphaned descendants (a talker generation whose
// parent generation has exited) children of the angel.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// startTalker starts a talker process in its own process group (so that a
// Ctrl-C meant for the angel reaches the talker only as the angel's
// orderly stop).
func startTalker(exe, argv0 string, args, env []string, stdout, stderr *os.File) (int, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	p, err := os.StartProcess(exe, append([]string{argv0}, args...), &os.ProcAttr{
		Env:   env,
		Files: []*os.File{devnull, stdout, stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return 0, err
	}
	pid := p.Pid
	// The reaper loop waits for it; release Go's handle (and its pidfd).
	_ = p.Release()
	return pid, nil
}
