package link

import (
	"net"
	"sync"
	"time"

	"talker/ipc"
)

// Client is a talker generation's side of the link: it keeps a connection
// to the angel (reconnecting if the angel is restarted, so that a new
// angel adopts a running talker), says hello, forwards heartbeats and says
// bye.
type Client struct {
	sock  string
	hello Hello
	beats chan uint64

	mu   sync.Mutex
	conn net.Conn
	done chan struct{}
}

// NewClient prepares a link to the angel listening at sock.
func NewClient(sock string, hello Hello) *Client {
	return &Client{sock: sock, hello: hello, beats: make(chan uint64, 1), done: make(chan struct{})}
}

// Run connects and forwards heartbeats until Close.
func (c *Client) Run() {
	for {
		select {
		case <-c.done:
			return
		default:
		}
		conn, err := net.DialTimeout("unix", c.sock, time.Second)
		if err != nil {
			c.pause(500 * time.Millisecond)
			continue
		}
		if ipc.WriteJSON(conn, Message{Hello: &c.hello}) != nil {
			conn.Close()
			c.pause(500 * time.Millisecond)
			continue
		}
		c.mu.Lock()
		c.conn = conn
		c.mu.Unlock()
		c.forward(conn)
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
		conn.Close()
	}
}

func (c *Client) pause(d time.Duration) {
	select {
	case <-c.done:
	case <-time.After(d):
	}
}

// forward sends heartbeats until the connection breaks or Close.
func (c *Client) forward(conn net.Conn) {
	broken := make(chan struct{})
	go func() {
		// The angel never writes to a talker; a read returns only when the
		// connection is gone.
		var b [1]byte
		_, _ = conn.Read(b[:])
		close(broken)
	}()
	for {
		select {
		case <-c.done:
			return
		case <-broken:
			return
		case tick := <-c.beats:
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if ipc.WriteJSON(conn, Message{Beat: &Beat{Tick: tick}}) != nil {
				return
			}
		}
	}
}

// Beat queues a heartbeat; it never blocks the caller (the world's loop).
func (c *Client) Beat(tick uint64) {
	select {
	case c.beats <- tick:
	default:
	}
}

// Bye tells the angel why this generation is about to exit, and stops the
// link.
func (c *Client) Bye(reason ByeReason, next int) {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = ipc.WriteJSON(conn, Message{Bye: &Bye{Reason: reason, Next: next}})
	}
	c.Close()
}

// Close stops the link.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	if c.conn != nil {
		c.conn.Close()
	}
}
