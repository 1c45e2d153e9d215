package load

import (
	"context"
	"crypto/tls"
	"net"
)

// dialTLS connects to the talker's TLS door (listen_tls) and completes the
// handshake: the clients then speak telnet inside TLS, as Mudlet's Secure
// option does. The talker's certificate is not checked (a test talker's is
// self-signed; the address is loopback only).
func dialTLS(d *net.Dialer, ctx context.Context, addr string) (net.Conn, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err := c.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}
