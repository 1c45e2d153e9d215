package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ttypes is the TTYPE cycle the clients answer with (MTTS 5: ANSI, UTF-8).
var ttypes = []string{"LOADGEN", "XTERM", "MTTS 5"}

// client is one simulated player. Its own goroutine (run) connects, logs
// in and types; a reader goroutine per connection decodes what arrives,
// answers telnet negotiation and records every token heard.
type client struct {
	r    *runner
	idx  int
	name string
	room int
	kick chan struct{} // the scheduler's "say a line now"

	ready atomic.Bool // logged in and in its room: may be kicked

	// Login phase: text received, for the login exchange to match.
	mu       sync.Mutex
	loginOn  bool
	loginBuf []byte
	loginPos int
	loginSig chan struct{}

	// Owned by the connection's reader while it runs; by the client
	// goroutine once the reader has closed its dead channel.
	tel      telnetClient
	scan     tokenScanner
	lastRecv int64
	gaps     []gap
	readErr  error
	deadAt   int64
	bytesIn  atomic.Int64

	// Owned by the client goroutine.
	seq        int
	line       []byte
	timer      *time.Timer
	registered bool
	logins     int
	loginErr   string
	full       int // lines not sent because the ledger was full
}

// gap is a stretch with no input at all on a client's connection.
type gap struct{ from, to int64 }

var errClosed = errors.New("connection closed")

func newClient(r *runner, idx int) *client {
	return &client{r: r, idx: idx, name: clientName(r.cfg.NamePrefix, idx),
		room: idx % r.cfg.Rooms, kick: make(chan struct{}, 1), loginSig: make(chan struct{}, 1)}
}

// run is the client's life: connect and log in (retrying a few times),
// chat until the end, reconnect after a disconnect if configured. firstDone
// is called once the first login has succeeded or failed for good.
func (c *client) run(sendCtx, endCtx context.Context, firstDone func()) {
	done := false
	finishFirst := func() {
		if !done {
			done = true
			firstDone()
		}
	}
	defer finishFirst()
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	backoff := 200 * time.Millisecond
	failures := 0
	for endCtx.Err() == nil && !(done && sendCtx.Err() != nil) {
		nc, dead, err := c.connect(endCtx)
		if err == nil {
			err = c.login(endCtx, nc, dead)
			if err != nil {
				c.hangup(nc, dead)
			}
		}
		if err != nil {
			failures++
			c.loginErr = err.Error()
			if endCtx.Err() != nil || (!done && failures >= 3) || (done && !c.r.cfg.Reconnect) {
				c.r.loginFailed(c, err)
				return
			}
			if !c.sleep(endCtx, nil, backoff) {
				return
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		failures, backoff, c.loginErr = 0, 200*time.Millisecond, ""
		c.logins++
		c.r.acct.arrive(c.idx, c.r.now())
		c.ready.Store(true)
		c.r.connected.Add(1)
		finishFirst()

		dropped := c.chat(sendCtx, endCtx, nc, dead)
		c.ready.Store(false)
		c.r.connected.Add(-1)
		if !dropped {
			at := c.r.now()
			c.hangup(nc, dead)
			c.r.acct.leave(c.idx, at, false)
			c.closeGap(at)
			return
		}
		c.r.acct.leave(c.idx, c.deadAt, true)
		c.r.disconnected(c, c.deadAt, c.readErr)
		nc.Close()
		if !c.r.cfg.Reconnect || sendCtx.Err() != nil || !c.sleep(endCtx, nil, backoff) {
			c.closeGap(c.r.now())
			return
		}
	}
}

// connect dials the talker and starts the reader.
func (c *client) connect(ctx context.Context) (net.Conn, chan struct{}, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	var nc net.Conn
	var err error
	if c.r.cfg.TLSAddr != "" {
		nc, err = dialTLS(&d, ctx, c.r.cfg.TLSAddr) // tlsdial.go
	} else if c.r.cfg.WebAddr != "" {
		nc, err = dialWS(&d, ctx, c.r.cfg.WebAddr) // ws.go
	} else if c.r.cfg.WSSAddr != "" {
		nc, err = dialWSS(&d, ctx, c.r.cfg.WSSAddr) // wssdial.go
	} else {
		nc, err = d.DialContext(ctx, "tcp", c.r.addr())
	}
	if err != nil {
		return nil, nil, err
	}
	c.tel = newTelnetClient(c.r.cfg.Width, c.r.cfg.Height, ttypes)
	c.scan = tokenScanner{}
	c.readErr = nil
	if c.logins == 0 && c.lastRecv == 0 {
		c.lastRecv = c.r.now()
	}
	c.mu.Lock()
	c.loginOn, c.loginBuf, c.loginPos = true, c.loginBuf[:0], 0
	c.mu.Unlock()
	dead := make(chan struct{})
	go c.readLoop(nc, dead)
	return nc, dead, nil
}

// hangup closes a connection deliberately and waits for its reader.
func (c *client) hangup(nc net.Conn, dead chan struct{}) {
	nc.Close()
	<-dead
}

func (c *client) readLoop(nc net.Conn, dead chan struct{}) {
	defer close(dead)
	buf := make([]byte, 4096)
	text := make([]byte, 0, 4096)
	var reply []byte
	toks := make([]token, 0, 16)
	pauseMin, pauseFine := int64(c.r.cfg.PauseMin), int64(c.r.cfg.PauseFine)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			now := c.r.now()
			if g := now - c.lastRecv; g >= pauseMin || g >= pauseFine && c.r.nearEvent(c.lastRecv, now) {
				c.gaps = append(c.gaps, gap{c.lastRecv, now})
			}
			c.lastRecv = now
			c.bytesIn.Add(int64(n))
			text, reply = c.tel.feed(buf[:n], text[:0], reply[:0])
			if len(reply) > 0 {
				_, _ = nc.Write(reply)
			}
			if len(text) > 0 {
				toks = c.scan.scan(text, toks[:0])
				for _, t := range toks {
					c.r.acct.receive(c.idx, t.sender, t.seq, now)
				}
				c.mu.Lock()
				if c.loginOn {
					c.loginBuf = append(c.loginBuf, text...)
					select {
					case c.loginSig <- struct{}{}:
					default:
					}
				}
				c.mu.Unlock()
			}
		}
		if err != nil {
			c.readErr, c.deadAt = err, c.r.now()
			return
		}
	}
}

// closeGap records the gap from the last input to the end of the client.
func (c *client) closeGap(at int64) {
	if at-c.lastRecv >= int64(c.r.cfg.PauseMin) {
		c.gaps = append(c.gaps, gap{c.lastRecv, at})
	}
	c.lastRecv = at
}

// send writes a line (CR LF appended) during login.
func (c *client) send(nc net.Conn, s string) error {
	c.line = append(append(c.line[:0], s...), '\r', '\n')
	_, err := nc.Write(c.line)
	return err
}

// expect waits for the first of wants in the text received since the last
// match, and returns its index.
func (c *client) expect(ctx context.Context, dead chan struct{}, deadline time.Time, wants ...string) (int, error) {
	longest := 0
	for _, w := range wants {
		longest = max(longest, len(w))
	}
	c.mu.Lock()
	from := c.loginPos
	c.mu.Unlock()
	for {
		c.mu.Lock()
		buf := c.loginBuf
		best, bestAt := -1, 0
		for i, w := range wants {
			if j := bytes.Index(buf[from:], []byte(w)); j >= 0 && (best < 0 || j < bestAt) {
				best, bestAt = i, j
			}
		}
		if best >= 0 {
			c.loginPos = from + bestAt + len(wants[best])
			c.mu.Unlock()
			return best, nil
		}
		from = max(from, len(buf)-longest+1)
		tail := buf[max(c.loginPos, len(buf)-200):]
		c.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return -1, fmt.Errorf("timed out waiting for %q; last received: %q", wants, tail)
		}
		c.timer.Reset(wait)
		select {
		case <-c.loginSig:
			c.timer.Stop()
		case <-dead:
			c.timer.Stop()
			// Whatever arrived before the close is in the buffer by now:
			// look once more, then give up.
			c.mu.Lock()
			n := len(c.loginBuf)
			c.mu.Unlock()
			if n > len(buf) {
				continue
			}
			return -1, fmt.Errorf("%w while waiting for %q; last received: %q", errClosed, wants, tail)
		case <-ctx.Done():
			c.timer.Stop()
			return -1, ctx.Err()
		case <-c.timer.C:
		}
	}
}

// login runs the login exchange (registering the account the first time)
// and puts the player in its room.
func (c *client) login(ctx context.Context, nc net.Conn, dead chan struct{}) error {
	deadline := time.Now().Add(c.r.cfg.LoginTimeout)
	pw := c.r.cfg.Password
	step := func(say string, wants ...string) (int, error) {
		if say != "" {
			if err := c.send(nc, say); err != nil {
				return -1, err
			}
		}
		return c.expect(ctx, dead, deadline, wants...)
	}
	if _, err := step("", "enter your name: "); err != nil {
		return err
	}
	i, err := step(c.name, "Password: ", "(yes/no): ", "Sorry, ")
	if err != nil {
		return err
	}
	switch i {
	case 0:
		j, err := step(pw, "Welcome", "Wrong password.", "Sorry, ", "Too many")
		if err != nil {
			return err
		}
		if j != 0 {
			return fmt.Errorf("login as %s refused (%s): was the account made with another -password?", c.name, []string{"", "wrong password", "account not available", "throttled"}[j])
		}
	case 1:
		if _, err := step("yes", "Choose a password: "); err != nil {
			return err
		}
		if _, err := step(pw, "Type the password again: "); err != nil {
			return err
		}
		j, err := step(pw, "Your account has been created.", "Sorry, ")
		if err != nil {
			return err
		}
		if j != 0 {
			return fmt.Errorf("registering %s failed", c.name)
		}
		c.registered = true
	default:
		return fmt.Errorf("name %s refused", c.name)
	}
	if _, err := step("", "Exits:"); err != nil {
		return err
	}
	// The account may have been left in another room by an earlier run:
	// go home (the start room), then to this client's room.
	if _, err := step("home", "You are already home.", "Exits:"); err != nil {
		return err
	}
	if c.room != 0 {
		if _, err := step("go "+roomNames[c.room], "("+roomNames[c.room]+")"); err != nil {
			return err
		}
		if _, err := step("", "Exits:"); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.loginOn, c.loginBuf, c.loginPos = false, nil, 0
	c.mu.Unlock()
	return nil
}

// chat waits for kicks and says a line for each, until the run ends
// (false) or the connection drops (true).
func (c *client) chat(sendCtx, endCtx context.Context, nc net.Conn, dead chan struct{}) (dropped bool) {
	for {
		select {
		case <-dead:
			return true
		case <-endCtx.Done():
			return false
		case <-c.kick:
			if sendCtx.Err() != nil {
				continue
			}
			c.say(endCtx, nc, dead)
		}
	}
}

// say types one traced line.
func (c *client) say(ctx context.Context, nc net.Conn, dead chan struct{}) {
	seq := c.seq
	if !c.r.acct.begin(c.idx, seq, c.r.now()) {
		c.full++
		return
	}
	c.seq++
	b := append(c.line[:0], "say "...)
	b = appendToken(b, c.idx, seq)
	for i := 0; i < c.r.cfg.Pad; i++ {
		b = append(b, padText[i%len(padText)])
	}
	c.line = b
	if c.r.cfg.Typing == TypeBytewise {
		for i := range b {
			if _, err := nc.Write(b[i : i+1]); err != nil {
				return
			}
			if !c.sleep(ctx, dead, c.r.cfg.ByteGap) {
				return
			}
		}
		b = b[:0]
	}
	b = append(b, '\r', '\n')
	c.r.acct.complete(c.idx, seq, c.r.now())
	_, _ = nc.Write(b)
}

const padText = " the quick brown fox jumps over the lazy dog"

// sleep waits d; false if ctx ended or the connection died meanwhile.
func (c *client) sleep(ctx context.Context, dead chan struct{}, d time.Duration) bool {
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
		return true
	case <-dead:
	case <-ctx.Done():
	}
	c.timer.Stop()
	return false
}
