package load

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// procSample is the talker as /proc shows it at one moment.
type procSample struct {
	at        int64 // ns since the start of the run
	pid       int
	rssKB     int64
	fds       int
	threads   int
	cpuTicks  int64 // utime + stime, in clock ticks
	connected int64 // load clients logged in at that moment
}

// clockTick is USER_HZ, which Linux fixes at 100 for /proc.
const clockTick = 100

// sampleProc reads /proc/<pid>. A zero pid gives an empty sample.
func sampleProc(pid int) (s procSample, ok bool) {
	s.pid = pid
	if pid <= 0 {
		return s, false
	}
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, false
	}
	s.rssKB = statusField(status, "VmRSS:")
	s.threads = int(statusField(status, "Threads:"))
	if stat, err := os.ReadFile(dir + "/stat"); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			// Fields after the name: state(3) ... utime(14) stime(15).
			f := bytes.Fields(stat[i+1:])
			if len(f) > 12 {
				u, _ := strconv.ParseInt(string(f[11]), 10, 64)
				st, _ := strconv.ParseInt(string(f[12]), 10, 64)
				s.cpuTicks = u + st
			}
		}
	}
	if d, err := os.Open(dir + "/fd"); err == nil {
		names, _ := d.Readdirnames(-1)
		s.fds = len(names)
		d.Close()
	}
	return s, true
}

func statusField(b []byte, name string) int64 {
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+len(name):])
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return v
}

// selfCPU is the load generator's own CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFDLimit raises the soft descriptor limit to the hard one.
func raiseFDLimit() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, rl.Max, err
		}
	}
	return rl.Cur, rl.Max, nil
}
