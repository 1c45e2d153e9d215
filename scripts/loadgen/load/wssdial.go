package load

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
)

// dialWSS connects to a TLS door as a browser does for the web client over
// https: TLS 1.3 offering ALPN http/1.1 (which is what makes the talker
// answer HTTP there rather than telnet, server/webtls.go), then the
// WebSocket upgrade with an https Origin. The certificate is not checked
// (a test talker's is self-signed; the address is loopback only).
func dialWSS(d *net.Dialer, ctx context.Context, addr string) (net.Conn, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, NextProtos: []string{"http/1.1"}})
	if err := c.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		c.Close()
		return nil, fmt.Errorf("%s agreed ALPN %q, not http/1.1: not a talker that serves https", addr, p)
	}
	return upgradeWS(c, addr, "https")
}
