package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"talker/reboot"
	"talker/server/store"
)

// cmdBackup implements `talker backup [--data DIR] [--out FILE] [--force]`:
// a consistent, verified copy of the database, made whether or not the
// talker is running, and how to restore it.
func cmdBackup(args []string) int {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := flags.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	out := flags.String("out", "", "where to write the copy (default DATA/backups/talker-YYYYMMDD-HHMMSS.db)")
	force := flags.Bool("force", false, "replace --out if it exists")
	if err := flags.Parse(args); err != nil || flags.NArg() > 0 {
		if err == nil {
			fmt.Fprintln(os.Stderr, "usage: talker backup [--data DIR] [--out FILE] [--force]")
		}
		return reboot.ExitUsage
	}
	dataDir, err := filepath.Abs(*data)
	if err == nil {
		var b backupResult
		if b, err = backup(dataDir, *out, *force, time.Now()); err == nil {
			b.print(dataDir)
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "talker backup:", err)
	return 1
}

type backupResult struct {
	path     string
	size     int64
	accounts int
}

// backup copies the database in dataDir (an absolute path) to out, or to
// DATA/backups/talker-<now>.db if out is "". The copy is written under a
// temporary name in out's directory, verified, then given its name, so a
// file at out is always a whole, checked backup.
func backup(dataDir, out string, force bool, now time.Time) (backupResult, error) {
	src := filepath.Join(dataDir, store.FileName)
	if err := store.CheckFile(src); errors.Is(err, fs.ErrNotExist) {
		return backupResult{}, fmt.Errorf("there is no database at %s (is --data right?)", src)
	} else if err != nil {
		return backupResult{}, err
	}
	// A read-only SQLite reader of a WAL database may create its -shm and
	// -wal files: made by another user (root's cron), they would be that
	// user's, and the talker could no longer open its database.
	if fi, err := os.Stat(src); err == nil {
		if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Geteuid() {
			return backupResult{}, fmt.Errorf("%s belongs to uid %d: run talker backup as the talker's user (it is uid %d)", src, uid, os.Geteuid())
		}
	}
	if out == "" {
		dir := filepath.Join(dataDir, "backups")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return backupResult{}, err
		}
		out = filepath.Join(dir, "talker-"+now.Format("20060102-150405")+".db")
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return backupResult{}, err
	}
	// Not the database, nor a file SQLite would take for its journal (a
	// stale -wal is replayed onto the database).
	if out == src || strings.HasPrefix(out, src+"-") {
		return backupResult{}, fmt.Errorf("%s is the database's own file: choose another --out", out)
	}
	if fi, err := os.Lstat(out); err == nil {
		if srcFi, err := os.Stat(src); err == nil && os.SameFile(fi, srcFi) {
			return backupResult{}, fmt.Errorf("%s is the database itself: choose another --out", out)
		}
		if !force {
			return backupResult{}, fmt.Errorf("%s already exists (--force replaces it)", out)
		}
	}
	// CreateTemp: O_EXCL, an unpredictable name, mode 0600, which the copy
	// keeps (SQLite writes into the empty file it is given).
	tmp, err := os.CreateTemp(filepath.Dir(out), ".talker-backup-*.tmp")
	if err != nil {
		return backupResult{}, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // gone once it has its name; else a failed copy
	if err := store.BackupTo(dataDir, tmp.Name()); err != nil {
		return backupResult{}, err
	}
	accounts, err := store.VerifyCopy(tmp.Name())
	if err != nil {
		return backupResult{}, fmt.Errorf("the copy is not sound, nothing was written to %s: %w", out, err)
	}
	if err := syncPath(tmp.Name()); err != nil {
		return backupResult{}, err
	}
	if force {
		err = os.Rename(tmp.Name(), out)
	} else {
		// A link fails if out appeared meanwhile: never write over a file
		// without --force.
		err = os.Link(tmp.Name(), out)
	}
	if err != nil {
		return backupResult{}, err
	}
	_ = syncPath(filepath.Dir(out)) // the new name, durable
	fi, err := os.Stat(out)
	if err != nil {
		return backupResult{}, err
	}
	return backupResult{out, fi.Size(), accounts}, nil
}

// syncPath flushes a file or directory to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// print says what was written and how to restore it, as commands that work
// as written (a stale -wal would be replayed onto the restored file: it
// must go).
func (b backupResult) print(dataDir string) {
	db := filepath.Join(dataDir, store.FileName)
	fmt.Printf("backup written: %s\n", b.path)
	fmt.Printf("  %d bytes, %d accounts, integrity ok, mode 0600\n", b.size, b.accounts)
	fmt.Printf("to restore it (every change made since the backup is lost):\n")
	fmt.Printf("  talker stop --data %s\n", shellQuote(dataDir))
	fmt.Printf("  install -m 600 %s %s\n", shellQuote(b.path), shellQuote(db))
	fmt.Printf("  rm -f %s %s\n", shellQuote(db+"-wal"), shellQuote(db+"-shm"))
	fmt.Printf("  talker start --data %s   # with the flags you usually start it with\n", shellQuote(dataDir))
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./,:+@%=-]+$`)

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
