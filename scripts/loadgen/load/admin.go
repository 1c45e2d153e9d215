package load

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The admin connection of the fatal event: an admin logged in on its own
// connection, which types 'crash fatal' at each such event. It stays
// connected through the crash like every player (that is part of what is
// measured), so one login serves every event; it reads and discards what
// it is sent (the room's chat too), keeping a tail for its prompts.

// defaultAdmin is the admin account a managed run makes for the fatal
// event when -admin is not given.
const defaultAdmin = "Crashtester"

func (r *runner) adminName() string {
	if r.cfg.Admin != "" {
		return r.cfg.Admin
	}
	return defaultAdmin
}

// adminConn is the admin's connection.
type adminConn struct {
	nc   net.Conn
	mu   sync.Mutex
	tail []byte // the last few KiB received
	seen chan struct{}
	dead chan struct{}
}

// needsAdmin reports whether the run has a fatal event.
func (c *Config) needsAdmin() bool {
	for _, e := range c.Events {
		if e.Kind == EventFatal {
			return true
		}
	}
	return false
}

// makeAdmin creates the admin account in a managed run's data directory
// before the talker first starts (an account left by an earlier run with
// the same data directory is kept).
func (t *talkerProc) makeAdmin(name string) error {
	cmd := exec.Command(t.cfg.Talker, "account", "create", "--data", t.cfg.DataDir, "--name", name, "--rank", "admin")
	cmd.Stdin = strings.NewReader(t.cfg.Password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("already")) {
		return fmt.Errorf("making the admin account %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// admin returns the admin's connection, logging in if there is none.
func (r *runner) admin(ctx context.Context) *adminConn {
	r.mu.Lock()
	a := r.adminC
	r.mu.Unlock()
	if a != nil {
		select {
		case <-a.dead:
		default:
			return a
		}
	}
	a = &adminConn{seen: make(chan struct{}, 1), dead: make(chan struct{})}
	r.mu.Lock()
	r.adminC = a
	r.mu.Unlock()
	nc, err := net.DialTimeout("tcp", r.tp.addr, 5*time.Second)
	if err != nil {
		close(a.dead)
		return a
	}
	a.nc = nc
	go a.read()
	deadline := time.Now().Add(r.cfg.LoginTimeout)
	steps := []struct{ say, want string }{
		{"", "enter your name: "}, {r.adminName(), "Password: "}, {r.cfg.Password, "Exits:"},
	}
	for _, s := range steps {
		if s.say != "" {
			if _, err := nc.Write([]byte(s.say + "\r\n")); err != nil {
				break
			}
		}
		if !a.expect(ctx, s.want, deadline) {
			_ = nc.Close()
			break
		}
	}
	return a
}

func (a *adminConn) read() {
	defer close(a.dead)
	buf := make([]byte, 16<<10)
	for {
		n, err := a.nc.Read(buf)
		if n > 0 {
			a.mu.Lock()
			a.tail = append(a.tail, buf[:n]...)
			if len(a.tail) > 8<<10 {
				a.tail = append(a.tail[:0], a.tail[len(a.tail)-4<<10:]...)
			}
			a.mu.Unlock()
			select {
			case a.seen <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// expect waits for want in what has arrived, consuming up to it.
func (a *adminConn) expect(ctx context.Context, want string, deadline time.Time) bool {
	for {
		a.mu.Lock()
		if i := bytes.Index(a.tail, []byte(want)); i >= 0 {
			a.tail = append(a.tail[:0], a.tail[i+len(want):]...)
			a.mu.Unlock()
			return true
		}
		a.mu.Unlock()
		select {
		case <-a.seen:
		case <-a.dead:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(deadline)):
			return false
		}
	}
}

// command types line as the admin.
func (a *adminConn) command(line string) error {
	select {
	case <-a.dead:
		return fmt.Errorf("the admin connection is closed (could not log in?)")
	default:
	}
	a.mu.Lock()
	last := string(a.tail[max(0, len(a.tail)-200):])
	a.mu.Unlock()
	if a.nc == nil {
		return fmt.Errorf("no admin connection")
	}
	if _, err := a.nc.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("typing %q: %v (last received %q)", line, err, last)
	}
	return nil
}

func (a *adminConn) close() {
	if a != nil && a.nc != nil {
		_ = a.nc.Close()
	}
}
