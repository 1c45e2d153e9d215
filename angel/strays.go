package angel

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"talker/reboot"
)

// Stray descendants. A failed reboot's new binary is killed with every
// process it started (reboot/children.go walks its tree), but a process
// that left that tree before (a double fork, a daemon) is reparented to
// the angel, the subreaper, and could go on holding a listening or player
// socket it inherited: the port would keep accepting connections nobody
// answers. cgroups would contain it, but are rarely delegated to an
// ordinary user; instead the angel looks, every strayEvery, at its own
// children that are not a talker generation, and kills any that holds one
// of the sockets it holds itself (the same socket, by inode), once it has
// been such a child at two sweeps in a row: a reboot's new generation is
// reparented to the angel when its parent exits, a moment before the
// angel reads the parent's bye that names it. A child holding none of
// them is left alone: it is not the talker's to end.

// strayEvery: a scan reads /proc once (a few hundred entries) plus the
// descriptors of the angel's non-generation children, usually none.
const strayEvery = 2 * time.Second

// sweepStrays kills the angel's children that are not generations and
// hold a socket the angel holds. It returns the pids killed.
func (a *Angel) sweepStrays(now time.Time) []int {
	if now.Before(a.nextStraySweep) {
		return nil
	}
	a.nextStraySweep = now.Add(strayEvery)
	seenBefore := a.strays
	a.strays = map[int]bool{}
	var candidates []int
	for _, pid := range childrenOf(os.Getpid()) {
		if a.cur != nil && (pid == a.cur.pid || a.cur.bye != nil && pid == a.cur.bye.Next) {
			continue
		}
		if _, ok := a.retiring[pid]; ok {
			continue
		}
		a.strays[pid] = true
		if seenBefore[pid] {
			candidates = append(candidates, pid)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	held := a.held.inodes()
	var killed []int
	for _, pid := range candidates {
		if holdsAny(pid, held) {
			if unix.Kill(pid, unix.SIGKILL) == nil {
				killed = append(killed, pid)
				a.log.Warn().Int("pid", pid).Str("command", commandOf(pid)).
					Msg("a process left behind by a talker generation held the talker's sockets; killed")
			}
		}
	}
	return killed
}

// inodes are the socket inodes of every descriptor held.
func (h *holdings) inodes() map[uint64]bool {
	set := make(map[uint64]bool, len(h.conns)+len(h.listeners))
	add := func(fd int) {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			set[st.Ino] = true
		}
	}
	for _, c := range h.conns {
		add(c.fd)
	}
	for _, l := range h.listeners {
		add(l.fd)
	}
	return set
}

// childrenOf lists the pids whose parent is ppid (from /proc).
func childrenOf(ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if reboot.ParentPID(pid) == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// holdsAny says whether pid has a descriptor on one of the socket inodes.
func holdsAny(pid int, inodes map[uint64]bool) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		var st syscall.Stat_t
		if syscall.Stat(dir+"/"+e.Name(), &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFSOCK && inodes[st.Ino] {
			return true
		}
	}
	return false
}

// commandOf is pid's command line, for the log.
func commandOf(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
