package reboot

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// One talker serves a data directory at a time. The serving generation
// holds an exclusive lock on DATA/run/talker.lock and passes the very same
// lock (the open file, not a new one) to the generation a reboot starts,
// so a seamless reboot never drops it, while a second talker started on
// the same directory by hand, by a second angel or by a confused script
// cannot take it and stops before it touches the database or a socket.
// After a crash the kernel releases the dead generation's lock; the
// angel's new generation takes it afresh.

// lockFileName is the lock's name among the files a reboot hands over.
const lockFileName = "talker-data-lock"

// ErrDataLocked: another talker serves the data directory.
var ErrDataLocked = errors.New("another talker serves this data directory")

// DataLock holds the data directory's lock for this generation: the one
// the previous generation handed over, or a new one, waiting up to wait
// for a previous generation that is still exiting (after a crash its
// children may take a moment to go). The returned file must stay open for
// the life of the process.
func (u *Upgrader) DataLock(path string, wait time.Duration) (*os.File, error) {
	if f, err := u.tf.Fds.File(lockFileName); err != nil {
		return nil, err
	} else if f != nil {
		// Handed over by the parent: the same open file, still locked.
		return f, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("the lock file %s is a symbolic link: refusing to follow it (remove it)", path)
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			holder := lockHolder(path)
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w (pid %d holds %s)", ErrDataLocked, holder, path)
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	if err := u.tf.Fds.AddFile(lockFileName, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lockHolder is the pid the lock file names (0 if none): for messages only.
func lockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
