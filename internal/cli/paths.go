package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Where things live inside the data directory. Everything is private to the
// talker's user: the directory is 0700 and files are 0600.
type dataPaths struct{ dir string }

func (p dataPaths) runDir() string     { return filepath.Join(p.dir, "run") }
func (p dataPaths) talkerSock() string { return filepath.Join(p.dir, "run", "talker.sock") }
func (p dataPaths) pidFile() string    { return filepath.Join(p.dir, "talker.pid") }

// talkerLock is held by the generation serving the directory (reboot.DataLock).
func (p dataPaths) talkerLock() string { return filepath.Join(p.dir, "run", "talker.lock") }
func (p dataPaths) angelSock() string  { return filepath.Join(p.dir, "run", "angel.sock") }
func (p dataPaths) angelLock() string  { return filepath.Join(p.dir, "angel.lock") }
func (p dataPaths) stopMarker() string { return filepath.Join(p.dir, "stopped") }
func (p dataPaths) logDir() string     { return filepath.Join(p.dir, "log") }
func (p dataPaths) crashLog() string   { return filepath.Join(p.dir, "log", "talker-crash.log") }
func (p dataPaths) stderrLog() string  { return filepath.Join(p.dir, "log", "talker-stderr.log") }

// maxSocketPath is the longest path a Unix socket can be bound at: the
// kernel's sun_path has 108 bytes, the last for the terminating NUL.
const maxSocketPath = 107

// checkSockets says, naming the path and the limit, when the data
// directory's path is too long for the sockets bound in it; the kernel
// would only say "invalid argument". The longest is a reboot's handoff
// socket (reboot/parent.go: handoff-<16 hex digits>.sock), so a directory
// that passes can also reboot.
func (p dataPaths) checkSockets() error {
	for _, s := range []string{p.angelSock(), filepath.Join(p.runDir(), "handoff-0123456789abcdef.sock")} {
		if len(s) > maxSocketPath {
			return fmt.Errorf("the data directory's path is too long: the Unix socket %s would be %d bytes, over the limit of %d bytes (108 with the terminating NUL); use a shorter --data path",
				s, len(s), maxSocketPath)
		}
	}
	return nil
}

// openAppend opens (creating, 0600) a file the angel or the talker appends
// to, refusing a symbolic link at its path: someone able to plant one in
// the data directory would have us append to a file of their choosing.
// (The logs proper are opened the same way, by server/logging.)
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s %w: refusing to follow it (remove it)", path, errSymlink)
	}
	return f, err
}

var errSymlink = errors.New("is a symbolic link")
