package reboot

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Files a handoff left behind when its process died are removed once they
// are old; a handoff in progress (young files) and anything else are not.
func TestSweepStaleHandoffFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-staleAfter - time.Minute)
	files := map[string]time.Time{
		"state-123.bin":     old,
		"handoff-ab12.sock": old,
		"state-456.bin":     now, // a handoff in progress
		"talker.pid":        old, // not ours to sweep
	}
	for name, mtime := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if n := sweepStale(dir, staleAfter, now); n != 2 {
		t.Errorf("removed %d, want 2", n)
	}
	for name, keep := range map[string]bool{"state-123.bin": false, "handoff-ab12.sock": false, "state-456.bin": true, "talker.pid": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != keep {
			t.Errorf("%s: kept=%v, want %v", name, err == nil, keep)
		}
	}
}

// A state file holds every player's session: only the talker's user may
// read it, and its name is not guessable.
func TestStateFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	a, err := writeStateFile(dir, []byte("state"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := writeStateFile(dir, []byte("state"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	if a == b {
		t.Error("two state files got the same name")
	}
}
