package ipc

import (
	"bytes"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return mk(fds[0]), mk(fds[1])
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestSendRecvManyInChunks(t *testing.T) {
	for _, n := range []int{0, 1, 253, 254, 1000} {
		a, b := socketPair(t)
		before := openFDs(t)
		var files []*os.File
		var fds []int
		for i := 0; i < n; i++ {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			files = append(files, r)
			fds = append(fds, int(r.Fd()))
		}
		data := bytes.Repeat([]byte("state!"), 50000) // bigger than a socket buffer
		done := make(chan error, 1)
		go func() { done <- SendFrame(a, data, fds) }()
		got, gotFDs, err := RecvFrame(b, 1<<20)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if err := <-done; err != nil {
			t.Fatalf("n=%d send: %v", n, err)
		}
		if !bytes.Equal(got, data) || len(gotFDs) != n {
			t.Fatalf("n=%d: got %d bytes, %d fds", n, len(got), len(gotFDs))
		}
		// Order is kept: each received fd refers to the same pipe as the
		// one sent at its position.
		for i, fd := range gotFDs {
			var a, b unix.Stat_t
			unix.Fstat(fd, &a)
			unix.Fstat(fds[i], &b)
			if a.Ino != b.Ino {
				t.Fatalf("n=%d: fd %d is not the one sent", n, i)
			}
			flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if flags&unix.FD_CLOEXEC == 0 {
				t.Fatalf("received fd %d is not close-on-exec", fd)
			}
			unix.Close(fd)
		}
		for _, f := range files {
			f.Close()
		}
		if after := openFDs(t); after != before {
			t.Errorf("n=%d: %d fds open before, %d after", n, before, after)
		}
	}
}

func TestRecvRejectsOversizedPayload(t *testing.T) {
	a, b := socketPair(t)
	go SendFrame(a, make([]byte, 100), nil)
	if _, _, err := RecvFrame(b, 10); err == nil {
		t.Fatal("oversized payload accepted")
	}
}

func TestRecvPeerClosedMidTransfer(t *testing.T) {
	a, b := socketPair(t)
	a.Close()
	if _, _, err := RecvFrame(b, 10); err == nil {
		t.Fatal("no error from a closed peer")
	}
}

func TestCloseAllClosesEvery(t *testing.T) {
	var fds []int
	for range 3 {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	CloseAll(fds)
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			t.Errorf("descriptor %d still open", fd)
		}
	}
}
