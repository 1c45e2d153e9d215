package ipc

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInherited closes every descriptor from 3 up that this process was
// left by whoever started it (cron, a shell, systemd) and did not ask for:
// those without close-on-exec, which everything Go opens has. They would
// otherwise pass on to the angel and to every generation after it. keep
// lists descriptors handed over on purpose (tableflip's, in a reboot's new
// generation). It returns what it closed, for the log.
func CloseInherited(keep ...int) []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var closed []int
next:
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		for _, k := range keep {
			if fd == k {
				continue next
			}
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue // gone (ReadDir's own descriptor), or ours
		}
		if unix.Close(fd) == nil {
			closed = append(closed, fd)
		}
	}
	return closed
}
