package server

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/talkertest"
)

var nop = []byte{255, 241}

// TestNOPToIdleConnections: a connection nothing is sent to for the NOP
// interval gets IAC NOP; one that keeps getting output does not, nor does
// one that answered no telnet negotiation.
func TestNOPToIdleConnections(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.NOPInterval = 2 * time.Second })
	idle := ts.dial()
	busy := ts.dial()
	idle.Expect("name")
	busy.Expect("name")
	silent, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var silentGot []byte
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := silent.Read(buf)
			silentGot = append(silentGot, buf[:n]...)
			if err != nil {
				return
			}
		}
	}()
	stop := time.Now().Add(5 * time.Second)
	for time.Now().Before(stop) {
		busy.Send("") // an empty line at the name prompt: the prompt again
		time.Sleep(300 * time.Millisecond)
	}
	if !bytes.Contains(idle.Raw(), nop) {
		t.Errorf("no IAC NOP to a connection idle for 5 s with a 2 s interval: %q", idle.Raw())
	}
	if n := bytes.Count(idle.Raw(), nop); n > 2 {
		t.Errorf("%d NOPs in 5 s with a 2 s interval", n)
	}
	if bytes.Contains(busy.Raw(), nop) {
		t.Errorf("IAC NOP sent to a connection that was getting output")
	}
	silent.Close()
	wg.Wait()
	if bytes.Contains(silentGot, nop) {
		t.Errorf("IAC NOP sent to a client that answered no telnet negotiation: %q", silentGot)
	}
}

// TestNOPOffAtZero: nop_interval 0s sends none.
func TestNOPOffAtZero(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.NOPInterval = 0 })
	c := ts.dial()
	c.Expect("name")
	c.Quiet(3 * time.Second)
	if bytes.Contains(c.Raw(), nop) {
		t.Error("IAC NOP sent with the interval at 0")
	}
}

// TestAYTIsAnswered: IAC AYT gets a visible reply.
func TestAYTIsAnswered(t *testing.T) {
	ts := startServer(t)
	c := ts.newPlayer("Ayt")
	c.SendRaw([]byte{255, 246})
	c.Expect("[Yes]")
}

// keepaliveOf reads a socket's TCP keepalive settings.
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

// TestTCPKeepaliveOnAcceptedConnections: an accepted socket has the
// configured keepalive, and a reload changes it on open connections.
func TestTCPKeepaliveOnAcceptedConnections(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Limits.KeepAlive = net.KeepAliveConfig{Enable: true, Idle: 97 * time.Second, Interval: 13 * time.Second, Count: 6}
	})
	c := ts.dial(talkertest.Options{})
	c.Expect("name")
	var fd int
	ts.srv.world.do(func(w *World) {
		for _, s := range w.sessions {
			fd, _ = s.conn.RawFD()
		}
	})
	if on, idle, intvl, cnt := keepaliveOf(t, fd); !on || idle != 97 || intvl != 13 || cnt != 6 {
		t.Errorf("accepted socket: keepalive %v idle %d interval %d count %d, want on 97 13 6", on, idle, intvl, cnt)
	}
}

// TestKeepaliveSettingsApplied: [keepalive] reaches the connections'
// limits and the NOP interval; tcp_idle 0s turns TCP keepalive off.
func TestKeepaliveSettingsApplied(t *testing.T) {
	c := DefaultConfig()
	if ka := c.Limits.KeepAlive; !ka.Enable || ka.Idle != 2*time.Minute || ka.Interval != 30*time.Second || ka.Count != 4 || c.NOPInterval != 2*time.Minute {
		t.Errorf("defaults: %+v, NOP every %s", ka, c.NOPInterval)
	}
	s := c.Settings
	s.Keepalive.TCPIdle = 0
	s.Keepalive.NOPInterval = 0
	c.Apply(s)
	if c.Limits.KeepAlive.Enable || c.NOPInterval != 0 {
		t.Errorf("tcp_idle and nop_interval 0s: %+v, NOP every %s", c.Limits.KeepAlive, c.NOPInterval)
	}
}
