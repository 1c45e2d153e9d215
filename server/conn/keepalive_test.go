package conn

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func keepaliveOf(t *testing.T, fd int) (on bool, idle, intvl, cnt int) {
	t.Helper()
	get := func(level, opt int) int {
		v, err := unix.GetsockoptInt(fd, level, opt)
		if err != nil {
			t.Fatalf("getsockopt %d: %v", opt, err)
		}
		return v
	}
	return get(unix.SOL_SOCKET, unix.SO_KEEPALIVE) != 0, get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE),
		get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL), get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT)
}

// TestKeepaliveOnHandedOverSockets: a socket wrapped from a descriptor (a
// reboot's handover) gets this generation's TCP keepalive, whatever the
// old one set; SetLimits (a reload) changes it on an open connection.
func TestKeepaliveOnHandedOverSockets(t *testing.T) {
	old, client := tcpPair(t)
	defer client.Close()
	_ = old.SetKeepAlive(false) // as a build before the setting might leave it
	f, err := old.File()
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	limits := DefaultLimits()
	limits.KeepAlive = net.KeepAliveConfig{Enable: true, Idle: 71 * time.Second, Interval: 11 * time.Second, Count: 5}
	c, err := Wrap(fd, limits)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abandon()
	raw, _ := c.RawFD()
	if on, idle, intvl, cnt := keepaliveOf(t, raw); !on || idle != 71 || intvl != 11 || cnt != 5 {
		t.Errorf("wrapped socket: keepalive %v idle %d interval %d count %d, want on 71 11 5", on, idle, intvl, cnt)
	}
	limits.KeepAlive = net.KeepAliveConfig{Enable: true, Idle: 300 * time.Second, Interval: 20 * time.Second, Count: 3}
	c.SetLimits(limits)
	if on, idle, intvl, cnt := keepaliveOf(t, raw); !on || idle != 300 || intvl != 20 || cnt != 3 {
		t.Errorf("after SetLimits: keepalive %v idle %d interval %d count %d, want on 300 20 3", on, idle, intvl, cnt)
	}
	limits.KeepAlive = net.KeepAliveConfig{}
	c.SetLimits(limits)
	if on, _, _, _ := keepaliveOf(t, raw); on {
		t.Error("keepalive still on after SetLimits turned it off")
	}
}
