package ipc

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// A descriptor without close-on-exec (as a parent leaves it) is closed;
// one with it (everything Go opens), and one kept, stay.
func TestCloseInherited(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stray")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stray, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD, 3) // no close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	kept, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(kept)
	closed := CloseInherited(kept)
	if !slices.Contains(closed, stray) {
		t.Fatalf("closed %v, want %d among them", closed, stray)
	}
	if slices.Contains(closed, kept) || slices.Contains(closed, int(f.Fd())) {
		t.Fatalf("closed %v: a kept or close-on-exec descriptor went", closed)
	}
	if _, err := unix.FcntlInt(uintptr(stray), unix.F_GETFD, 0); err == nil {
		t.Fatal("the stray descriptor is still open")
	}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatalf("Go's own descriptor was closed: %v", err)
	}
}
