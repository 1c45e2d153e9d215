package reboot

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// killStartedChild kills the new binary an attempt started when it never
// connected, so that it told nothing about itself: it is this process's
// child whose environment names the attempt's handoff socket (a path with
// 16 random hex digits, so nothing else has it). tableflip, which started
// it, keeps its pid to itself, and its own timeout is the Backstop,
// minutes away. It reports whether one was killed.
func killStartedChild(sockPath string) bool {
	want := []byte(envHandoff + "=" + sockPath + "\x00")
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	killed := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || ParentPID(pid) != self {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		// The pidfd pins the process: if it is still our child with that
		// environment, the signal reaches it and nothing else (a pid
		// reused meanwhile fails both checks or the signal, ESRCH).
		if ParentPID(pid) == self && environHas(pid, want) {
			killTree(pid, fd)
			killed = true
		}
		unix.Close(fd)
	}
	return killed
}

// killTree kills a failed new binary (pid, pinned by pidfd) with every
// process it started, so that none of them lives on holding a listening
// or player socket: a broken binary that forked before it hung left its
// child behind, adopted by the angel, accepting connections nobody
// answered. The tree is stopped first, so that nothing in it forks while
// it is walked, then killed. (A process that escaped the tree before, by
// having its parent exit, is out of reach here; a cgroup would hold it.)
func killTree(pid, pidfd int) {
	_ = unix.PidfdSendSignal(pidfd, unix.SIGSTOP, nil, 0)
	var tree []int // pidfds of the descendants, stopped
	seen := map[int]bool{pid: true}
	for grew := true; grew; {
		grew = false
		for _, d := range descendants(pid) {
			if seen[d] {
				continue
			}
			seen[d] = true
			fd, err := unix.PidfdOpen(d, 0)
			if err != nil {
				continue // gone already
			}
			// Pinned: if it is still in the tree, the signals reach it and
			// nothing else.
			if seen[ParentPID(d)] {
				_ = unix.PidfdSendSignal(fd, unix.SIGSTOP, nil, 0)
				tree = append(tree, fd)
				grew = true
			} else {
				unix.Close(fd)
			}
		}
	}
	_ = unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	for _, fd := range tree {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	}
}

// descendants lists the processes below pid, read from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ParentPID(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// ParentPID reads a process's parent from /proc (-1 if it cannot).
func ParentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so the fields are counted after its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return -1
	}
	return ppid
}

// environHas reports whether a process's initial environment holds the
// entry want ("NAME=value\x00"). Only the talker's own user can read it.
func environHas(pid int, want []byte) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	return bytes.HasPrefix(b, want) || bytes.Contains(b, append([]byte{0}, want...))
}
