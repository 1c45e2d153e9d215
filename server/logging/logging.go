// Package logging sets up the talker's and the angel's zerolog loggers:
// structured JSON to a file in the data directory, and, when running in the
// foreground, the same events readable on the terminal.
//
// # Rotation
//
// The log file rotates by size: once it has passed Options.MaxSize (20 MiB by
// default) it is renamed talker.log → talker.log.1, the older ones shift up
// (.1 → .2 …), the one past Options.Keep (5 by default) is replaced, and a
// new file is opened. A connect loop writes gigabytes an hour into a log that
// never rotates; this bounds the directory at (Keep+1) × MaxSize, about
// 120 MiB per log by default.
//
// Several processes append to one file: during a reboot the old and the new
// generation both write talker.log. So:
//   - every line is one write(2) on an O_APPEND descriptor, which a local file
//     system never interleaves with another process's: a line is never split,
//     and goes whole to whichever file the descriptor names;
//   - the renames happen under an flock on .<file>.lock in the log directory,
//     and the size is looked at again under it, so two processes that both
//     see a full file rotate it once, not twice;
//   - every writer notices that the path now names another file (a rotation
//     by someone else, or an external rename) and reopens it. It looks (an
//     fstat and an lstat, ~5 µs) at most once a second or once it has written
//     MaxSize/8 (at most 64 KiB, ~330 lines) since it last looked, never per
//     line: per line the cost is a mutex and a clock read, ~40 ns beside the
//     ~2 µs write(2). So a file passes MaxSize by at most about MaxSize/8 per
//     writer. Until a writer looks, its lines go to the renamed file, where
//     they are kept: a line is lost only if Keep rotations happen before it
//     looks again, i.e. Keep × MaxSize (100 MiB by default) written by others
//     in under a second.
//
// Files are created 0600 in a 0700 directory, and a symbolic link at the log
// path (or the lock path) is refused, never followed.
//
// # Reopening for an external logrotate
//
// (*File).Reopen opens the path again; the program should call it on SIGUSR1,
// so that logrotate can rename the file and signal (its "postrotate" with kill
// -USR1). Wiring the signal is the caller's job. Without the signal the writer
// still follows the rename within a second, on its own.
//
// # Floods
//
// Summary (summary.go) turns a flood of like lines (refused connections) into
// the first one and a count per window.
package logging

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Dir is the log directory inside the data directory.
const Dir = "log"

const (
	DefaultMaxSize = 20 << 20 // bytes: ~70,000 connections, at ~300 bytes for a connect and its close
	DefaultKeep    = 5

	// How often a writer looks whether the path still names its file and
	// whether it is full: at most this long, or maxCheckBytes written,
	// since it last looked.
	checkInterval = time.Second
	maxCheckBytes = 64 << 10
)

// Options say where a logger writes.
type Options struct {
	DataDir string
	File    string    // file name inside DataDir/log, e.g. "talker.log"
	Console io.Writer // if not nil, also write human-readable lines here
	NoColor bool      // plain console lines, for when Console is not a terminal
	Level   zerolog.Level
	Process string // "talker" or "angel": a field on every line, so merged logs stay readable

	MaxSize int64 // rotate once the file has passed this many bytes: 0 = DefaultMaxSize, < 0 = never
	Keep    int   // old files kept (File.1 … File.Keep): 0 = DefaultKeep, at least 1
}

// Init sets zerolog's process-wide time format (sub-second, so that the
// angel's and the talker's logs merge in the right order). The program calls
// it once at start.
func Init() { zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00" }

// Open creates the log directory (0700) and file (0600) and returns a
// logger and the file, to close at exit and to Reopen on SIGUSR1.
func Open(o Options) (zerolog.Logger, *File, error) {
	dir := filepath.Join(o.DataDir, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return zerolog.Nop(), nil, err
	}
	f, err := openFile(dir, o.File, o.MaxSize, o.Keep)
	if err != nil {
		return zerolog.Nop(), nil, err
	}
	var w io.Writer = f
	if o.Console != nil {
		w = zerolog.MultiLevelWriter(f, zerolog.ConsoleWriter{Out: o.Console, TimeFormat: "15:04:05.000", NoColor: o.NoColor})
	}
	log := zerolog.New(w).Level(o.Level).With().Timestamp().Str("proc", o.Process).Int("pid", os.Getpid()).Logger()
	return log, f, nil
}

// File is a log file that rotates by size and follows renames (see the
// package comment). It is safe for concurrent use; each Write should be one
// whole line, as zerolog's are.
type File struct {
	dir, name string
	max       int64 // < 0: never rotate
	keep      int
	every     int64 // look after this many bytes written

	mu        sync.Mutex
	f         *os.File // nil once closed
	unchecked int64    // bytes written since the last look
	checked   time.Time
	lastErr   string // the last rotation failure reported, so a lasting one is reported once
}

func openFile(dir, name string, maxSize int64, keep int) (*File, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	if keep == 0 {
		keep = DefaultKeep
	}
	l := &File{dir: dir, name: name, max: maxSize, keep: max(keep, 1), every: maxCheckBytes}
	if maxSize > 0 {
		// An eighth of the limit: a file overshoots it by at most about
		// that much per writer (or a second's worth of lines).
		l.every = min(maxCheckBytes, max(maxSize/8, 1))
	}
	f, err := openLog(l.path(0))
	if err != nil {
		return nil, err
	}
	l.f, l.checked = f, time.Now()
	return l, nil
}

// path is the file's path, or its n-th old file's.
func (l *File) path(n int) string {
	p := filepath.Join(l.dir, l.name)
	if n > 0 {
		p += "." + strconv.Itoa(n)
	}
	return p
}

// openLog opens (creating, 0600) a log file for appending, refusing a
// symbolic link, which someone able to write the directory could plant to
// have the talker append to a file of their choosing.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("log file %s is a symbolic link: refusing to follow it", path)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("log file %s is not a regular file", path)
	}
	return f, nil
}

// Write appends p (one line) to the file, first rotating or reopening it if
// it is time to look (see the package comment).
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.unchecked >= l.every || time.Since(l.checked) >= checkInterval {
		l.check()
	}
	n, err := l.f.Write(p)
	l.unchecked += int64(n)
	return n, err
}

// Reopen opens the path again, for after an external rename (logrotate,
// on SIGUSR1). The old descriptor is closed only once the new one is open.
func (l *File) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	l.unchecked, l.checked = 0, time.Now()
	return l.reopen()
}

// Close closes the file; later writes fail with os.ErrClosed.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func (l *File) reopen() error {
	f, err := openLog(l.path(0))
	if err != nil {
		return err
	}
	l.f.Close()
	l.f = f
	return nil
}

// check follows a rename of the file and rotates it if it is full. A
// failure leaves the current descriptor in use (nothing is lost) and is
// tried again at the next look.
func (l *File) check() {
	l.unchecked, l.checked = 0, time.Now()
	var err error
	if same, size := l.onDisk(); !same {
		err = l.reopen() // someone else rotated it, or logrotate renamed it
	} else if l.max > 0 && size >= l.max {
		err = l.rotate()
	}
	l.report(err)
}

// onDisk says whether the path still names the open file, and its size.
func (l *File) onDisk() (same bool, size int64) {
	open, err := l.f.Stat()
	if err != nil {
		return true, 0 // cannot tell: keep writing where we are
	}
	disk, err := os.Lstat(l.path(0))
	if err != nil {
		return false, 0 // gone (mid-rotation elsewhere): reopen creates it
	}
	return os.SameFile(open, disk), disk.Size()
}

// rotate shifts the old files up and renames the file to .1, under the
// lock, then opens a new one.
func (l *File) rotate() error {
	lock, err := os.OpenFile(filepath.Join(l.dir, "."+l.name+".lock"), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close() // releases the flock
	for {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return err
	}
	// Look again under the lock: another process may have rotated while we
	// waited for it, and the file there now is new and small.
	if same, size := l.onDisk(); same && size >= l.max {
		for n := l.keep - 1; n >= 1; n-- {
			// Renaming over .n+1 removes the oldest.
			if err := os.Rename(l.path(n), l.path(n+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err // do not rename over .1 what was not moved out of the way
			}
		}
		if err := os.Rename(l.path(0), l.path(1)); err != nil {
			return err
		}
	}
	return l.reopen()
}

// report writes a rotation failure into the file itself, once until it
// changes or clears, as a line like zerolog's: there is nowhere else to
// say it (stderr may be closed), and at one look a second a lasting
// failure would otherwise add 86,400 lines a day.
func (l *File) report(err error) {
	if err == nil {
		l.lastErr = ""
		return
	}
	if err.Error() == l.lastErr {
		return
	}
	l.lastErr = err.Error()
	line, _ := json.Marshal(map[string]any{"level": "error", "time": time.Now().Format(zerolog.TimeFieldFormat),
		"pid": os.Getpid(), "error": err.Error(), "message": "log rotation failed"})
	l.f.Write(append(line, '\n'))
}
