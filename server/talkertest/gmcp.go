package talkertest

import (
	"strings"
	"time"
)

// GMCP (telnet option 201) as a MUD client speaks it, for tests: with
// Options.GMCP set, the client agrees to the server's WILL GMCP and at
// once says Core.Hello and Core.Supports.Set with those modules (as
// Mudlet does), then keeps every GMCP message the server sends, in order,
// as "Package.Message body" (GMCPMessages, ExpectGMCP).

const optGMCP = 201

// gmcpHello is the answer to WILL GMCP: DO, Core.Hello and the modules.
func (c *Client) gmcpHello() []byte {
	out := []byte{iac, do, optGMCP}
	out = append(out, gmcpBytes(`Core.Hello {"client":"talkertest","version":"1"}`)...)
	mods := make([]string, len(c.opts.GMCP))
	for i, m := range c.opts.GMCP {
		mods[i] = `"` + m + ` 1"`
	}
	return append(out, gmcpBytes("Core.Supports.Set ["+strings.Join(mods, ",")+"]")...)
}

// gmcpBytes frames one GMCP message (IAC doubled).
func gmcpBytes(msg string) []byte {
	out := []byte{iac, sb, optGMCP}
	for i := 0; i < len(msg); i++ {
		if msg[i] == iac {
			out = append(out, iac)
		}
		out = append(out, msg[i])
	}
	return append(out, iac, se)
}

// SendGMCP sends the server one GMCP message ("Package.Message body").
func (c *Client) SendGMCP(msg string) { c.SendRaw(gmcpBytes(msg)) }

// GMCPMessages returns every GMCP message received so far, in order.
func (c *Client) GMCPMessages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.gmcp...)
}

// GMCPSince returns the GMCP messages received after the first n.
func (c *Client) GMCPSince(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > len(c.gmcp) {
		return nil
	}
	return append([]string(nil), c.gmcp[n:]...)
}

// ExpectGMCP waits until a GMCP message starting with prefix arrives
// (after those an earlier ExpectGMCP matched) and returns it.
func (c *Client) ExpectGMCP(prefix string) string {
	c.t.Helper()
	deadline := time.Now().Add(c.opts.Timeout)
	timer := time.AfterFunc(c.opts.Timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for ; c.gmcpPos < len(c.gmcp); c.gmcpPos++ {
			if strings.HasPrefix(c.gmcp[c.gmcpPos], prefix) {
				c.gmcpPos++
				return c.gmcp[c.gmcpPos-1]
			}
		}
		if c.closed || !time.Now().Before(deadline) {
			c.t.Fatalf("timed out waiting for GMCP %q; got %q", prefix, c.gmcp)
		}
		c.cond.Wait()
	}
}
