package angel

import (
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// The last good binary. A new build that passes a reboot and then crashes
// soon after, again and again, would take the talker down with it: the
// angel would restart that same build until its crash-loop limit. So the
// angel keeps a sealed in-memory copy (a memfd) of the executable of the
// last generation that served for a while (GoodAfter), taken from
// /proc/PID/exe: the very file that generation runs, even if it has since
// been deleted or overwritten on disk. When generations crash twice in a
// row before reaching GoodAfter, the next recovery starts that copy
// instead, with the same sockets and checkpoints, and says so. Its
// argv[0] stays the path on disk, so that the next reboot an admin asks
// for runs whatever build is there by then.

// badCrashesForFallback: crashes in a row of generations that never served
// GoodAfter before the last good binary takes over. One could be bad luck
// (the host, a bug that needs a rare input); two soon after a new build
// took over is the build.
const badCrashesForFallback = 2

// lastGood is the kept executable.
type lastGood struct {
	fd      int    // the sealed memfd; -1 if none yet
	version string // of the generation it came from
	pid     int
}

// path is the executable's path for starting it (the memfd through this
// process's /proc entry, which a child can open as it is being exec'd).
func (l lastGood) path() string {
	return "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(l.fd)
}

// keepExecutable copies pid's executable into a sealed memfd.
func keepExecutable(pid int) (int, error) {
	src, err := os.Open("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return -1, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("talker-last-good", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, err
	}
	dst := os.NewFile(uintptr(fd), "talker-last-good")
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return -1, err
	}
	// Sealed: nothing, this process included, can change it any more.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS,
		unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		dst.Close()
		return -1, err
	}
	// The descriptor is kept; the *os.File is dropped without closing it.
	nfd, err := unix.Dup(fd)
	dst.Close()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(nfd)
	return nfd, nil
}

// keepIfGood takes the current generation's executable once it has served
// GoodAfter since its hello, and forgives earlier bad crashes.
func (a *Angel) keepIfGood(now time.Time) {
	g := a.cur
	if g == nil || !g.hello || g.kept || a.cfg.GoodAfter <= 0 || now.Sub(g.helloAt) < a.cfg.GoodAfter {
		return
	}
	g.kept = true
	a.badCrashes = 0
	fd, err := keepExecutable(g.pid)
	if err != nil {
		a.log.Warn().Err(err).Int("talker_pid", g.pid).Msg("cannot keep a copy of the talker's executable")
		return
	}
	if a.good.fd >= 0 {
		unix.Close(a.good.fd)
	}
	a.good = lastGood{fd: fd, version: g.version, pid: g.pid}
	a.log.Info().Int("talker_pid", g.pid).Str("version", g.version).Msg("kept a copy of this generation's executable as the last good binary")
}

// executable is what the next generation the angel starts runs: the
// binary on disk, or, after badCrashesForFallback crashes in a row of
// generations that never served long, the last good one.
func (a *Angel) executable() (path string, fallback bool) {
	if a.badCrashes >= badCrashesForFallback && a.good.fd >= 0 {
		return a.good.path(), true
	}
	return a.cfg.Executable, false
}
