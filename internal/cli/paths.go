package cli

import "path/filepath"

// Where things live inside the data directory. Everything is private to the
// talker's user: the directory is 0700 and files are 0600.
type dataPaths struct{ dir string }

func (p dataPaths) runDir() string     { return filepath.Join(p.dir, "run") }
func (p dataPaths) talkerSock() string { return filepath.Join(p.dir, "run", "talker.sock") }
func (p dataPaths) pidFile() string    { return filepath.Join(p.dir, "talker.pid") }
func (p dataPaths) angelSock() string  { return filepath.Join(p.dir, "run", "angel.sock") }
func (p dataPaths) angelLock() string  { return filepath.Join(p.dir, "angel.lock") }
func (p dataPaths) stopMarker() string { return filepath.Join(p.dir, "stopped") }
func (p dataPaths) logDir() string     { return filepath.Join(p.dir, "log") }
func (p dataPaths) crashLog() string   { return filepath.Join(p.dir, "log", "talker-crash.log") }
