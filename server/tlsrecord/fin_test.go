package tlsrecord

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOffsetsLeaveTheFINsOut: a FIN takes a sequence number, so the kernel
// counts the peer's in tcpi_bytes_received (SIOCINQ leaves it out) and its
// own in tcpi_bytes_acked or SIOCOUTQ: read naively, a socket whose peer
// has closed its half shows one byte more read than was (seen as "+1" on
// the TLS sockets of every load run's end, and it would end a TLS session
// recovered after the peer's FIN: "1 bytes read since this TLS state"),
// and one that has sent its own FIN one byte more written. Offsets counts
// application bytes only.
func TestOffsetsLeaveTheFINsOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server := nc.(*net.TCPConn)
	defer server.Close()
	raw, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	offsets := func() (r, w uint64, state uint8) {
		t.Helper()
		var err error
		_ = raw.Control(func(fd uintptr) {
			r, w, err = Offsets(int(fd))
			info, ierr := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if ierr == nil {
				state = info.State
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return r, w, state
	}
	waitState := func(want uint8) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, _, st := offsets(); st == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("socket never reached TCP state %d", want)
			}
			time.Sleep(time.Millisecond)
		}
	}

	if _, err := client.Write([]byte("hello, ")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := server.Read(buf); err != nil { // 4 of the 7 read, 3 queued
		t.Fatal(err)
	}
	if _, err := server.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	r0, w0, _ := offsets()

	// The peer's FIN, with 3 bytes still queued.
	if err := client.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitState(8) // TCP_CLOSE_WAIT
	if r, w, _ := offsets(); r != r0 || w != w0 {
		t.Errorf("after the peer's FIN (3 bytes queued): read %d written %d, want %d %d", r, w, r0, w0)
	}
	// The queued bytes and the FIN read: the 3 bytes count, the FIN not.
	rest := make([]byte, 16)
	n, _ := server.Read(rest)
	if n != 3 {
		t.Fatalf("read %d bytes, want 3", n)
	}
	if _, err := server.Read(rest); err == nil {
		t.Fatal("no EOF after the FIN")
	}
	if r, w, _ := offsets(); r != r0+3 || w != w0 {
		t.Errorf("after reading to EOF: read %d written %d, want %d %d", r, w, r0+3, w0)
	}

}

// TestOffsetsLeaveOurFINOut: after this end's FIN (FIN_WAIT1/2), written
// counts the application's bytes only.
func TestOffsetsLeaveOurFINOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server := nc.(*net.TCPConn)
	defer server.Close()
	raw, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	offsets := func() (r, w uint64, state uint8) {
		t.Helper()
		var err error
		_ = raw.Control(func(fd uintptr) {
			r, w, err = Offsets(int(fd))
			info, ierr := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if ierr == nil {
				state = info.State
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return r, w, state
	}
	if _, err := server.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	r0, w0, _ := offsets()
	if err := server.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		r, w, st := offsets()
		if st == 5 { // TCP_FIN_WAIT2: our FIN acknowledged
			if r != r0 || w != w0 {
				t.Errorf("after our FIN: read %d written %d, want %d %d", r, w, r0, w0)
			}
			return
		}
		if st != 4 || time.Now().After(deadline) {
			t.Fatalf("socket in TCP state %d, want FIN_WAIT1 then FIN_WAIT2", st)
		}
		if r != r0 || w != w0 {
			t.Errorf("after our FIN, not yet acknowledged: read %d written %d, want %d %d", r, w, r0, w0)
		}
		time.Sleep(time.Millisecond)
	}
}
