package talkertest

import (
	"compress/zlib"
	"fmt"
	"sync"
	"time"
)

// MCCP3 (telnet option 87), the client's side: with Options.MCCP3 the
// client answers the talker's IAC WILL 87 with IAC DO 87 IAC SB 87 IAC SE,
// as TinTin++ does, and from the next byte sends everything (lines, telnet
// answers) as one zlib stream, flushed (Z_SYNC_FLUSH) after each write.
// StopMCCP3 ends the stream properly (Z_FINISH, the Adler-32), and so does
// the talker's IAC WONT 87.

const optMCCP3 = 87

// deflater is the client's MCCP3 output stream.
type deflater struct {
	mu     sync.Mutex // serialises writes to the socket
	zw     *zlib.Writer
	starts int // streams started
	ends   int // streams ended (Z_FINISH)
}

// writeOut writes b to the socket, through the stream while one is open.
func (c *Client) writeOut(b []byte) error {
	c.zout.mu.Lock()
	defer c.zout.mu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	if c.zout.zw == nil {
		_, err := c.conn.Write(b)
		return err
	}
	if _, err := c.zout.zw.Write(b); err != nil {
		return err
	}
	return c.zout.zw.Flush()
}

// mccp3Offer handles IAC <verb> 87 from the talker when the client does
// MCCP3, writing pending (the answers before it, still plain) first; it
// reports whether it did. Called with c.mu held.
func (c *Client) mccp3Offer(verb, opt byte, pending []byte) bool {
	if opt != optMCCP3 || !c.opts.MCCP3 || c.opts.RefuseAll {
		return false
	}
	c.negs = append(c.negs, fmt.Sprintf("%s %d", verbName[verb], opt))
	switch verb {
	case will:
		c.zout.mu.Lock()
		defer c.zout.mu.Unlock()
		if c.zout.zw != nil {
			return true // already compressing: nothing to answer
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
		_, _ = c.conn.Write(append(pending, iac, do, optMCCP3, iac, sb, optMCCP3, iac, se))
		c.zout.zw = zlib.NewWriter(c.conn)
		c.zout.starts++
		return true
	case wont:
		_ = c.writeOut(pending)
		c.StopMCCP3()
		return true
	}
	return false
}

// StopMCCP3 ends the client's compressed stream (Z_FINISH): what it sends
// after is plain.
func (c *Client) StopMCCP3() {
	c.zout.mu.Lock()
	defer c.zout.mu.Unlock()
	if c.zout.zw == nil {
		return
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	_ = c.zout.zw.Close()
	c.zout.zw = nil
	c.zout.ends++
}

// MCCP3Streams reports how many compressed streams the client started and
// ended.
func (c *Client) MCCP3Streams() (started, ended int) {
	c.zout.mu.Lock()
	defer c.zout.mu.Unlock()
	return c.zout.starts, c.zout.ends
}

// SendCompressedRaw writes b into the open compressed stream without the
// flush a client makes after each write (for tests of a stream cut
// mid-block); it reports false if no stream is open.
func (c *Client) SendCompressedRaw(b []byte) bool {
	c.zout.mu.Lock()
	defer c.zout.mu.Unlock()
	if c.zout.zw == nil {
		return false
	}
	_, _ = c.zout.zw.Write(b)
	return true
}

// TrySend types a line like Send, but reports a failed write instead of
// failing the test: for a goroutine that types while the talker may
// close the connection.
func (c *Client) TrySend(line string) error { return c.writeOut([]byte(line + "\r\n")) }
