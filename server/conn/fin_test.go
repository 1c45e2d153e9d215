package conn

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSocketCountsLeaveThePeersFINOut: the peer's FIN is in the kernel's
// tcpi_bytes_received, so socketConsumed read one byte more than the
// reader took once the client had closed its half (the "+1" every TLS
// reader saw as the load generator's clients left: the reader stopped
// peeking, and a crash recovery then would have refused the TLS session,
// or dropped a plain one's half line). SocketWrittenFD is unchanged by it.
func TestSocketCountsLeaveThePeersFINOut(t *testing.T) {
	server, client := tcpPair(t)
	defer server.Close()
	defer client.Close()
	raw, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	counts := func() (consumed, written uint64, state uint8) {
		t.Helper()
		var ok1, ok2 bool
		_ = raw.Control(func(fd uintptr) {
			consumed, ok1 = socketConsumed(int(fd))
			written, ok2 = SocketWrittenFD(int(fd))
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				state = info.State
			}
		})
		if !ok1 || !ok2 {
			t.Fatal("counts unknown")
		}
		return consumed, written, state
	}
	if _, err := client.Write([]byte("say hi\r")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := server.Read(buf); err != nil { // 4 read, 3 queued
		t.Fatal(err)
	}
	if _, err := server.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	k0, w0, _ := counts()
	if err := client.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, _, st := counts(); st == 8 { // TCP_CLOSE_WAIT: the FIN is in
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the peer's FIN never arrived")
		}
	}
	if k, w, _ := counts(); k != k0 || w != w0 {
		t.Errorf("after the peer's FIN: consumed %+d, written %+d; want both unchanged", int64(k-k0), int64(w-w0))
	}
	rest := make([]byte, 16)
	if n, _ := server.Read(rest); n != 3 {
		t.Fatalf("read %d, want the 3 queued bytes", n)
	}
	if _, err := server.Read(rest); err == nil {
		t.Fatal("no EOF")
	}
	if k, _, _ := counts(); k != k0+3 {
		t.Errorf("after reading to EOF: consumed %+d, want +3", int64(k-k0))
	}
}
