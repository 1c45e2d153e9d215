package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"talker/server/conn"
	"talker/server/tlsrecord"
)

// TLS ports (issue 12). A connection to a TLS listener does its handshake
// with crypto/tls on a goroutine of its own (never the World's), within
// tlsHandshakeWait; from then on it is an ordinary connection whose
// record layer is its own (package conn's tls.go, package tlsrecord), so a
// reboot carries the TLS session like the telnet state, and the angel's
// crash recovery continues it where its checkpoint is as recent as the
// connection's last record.
//
// A connection still in its handshake when a reboot pauses is not carried:
// the handshake finishes, waits at the accept gate, and closes with the old
// process if the reboot is committed (the client sees a connection closed
// right after connecting, and connects again). Handshakes take about a
// millisecond, so this needs a connection within a millisecond of a pause.

// tlsHandshakeWait bounds a handshake: a client that has not finished in
// 10 s is not a player (Mudlet and openssl take a few milliseconds).
const tlsHandshakeWait = 10 * time.Second

// maxTLSHandshakes bounds the handshakes under way at once per listener, so
// that a flood of connections that never finish costs at most this many
// goroutines waiting out tlsHandshakeWait; more are closed at once.
const maxTLSHandshakes = 256

// tlsListener marks a TLS listener among the server's (see listenerName).
type tlsListener struct{ net.Listener }

// SetDeadline lets a reboot park the accept loop (pauseAccept).
func (l tlsListener) SetDeadline(t time.Time) error {
	if d, ok := l.Listener.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return nil
}

// listenerName is how status shows a listener: a TLS one as tls://ADDR.
func listenerName(ln net.Listener) string {
	if _, ok := ln.(tlsListener); ok {
		return "tls://" + ln.Addr().String()
	}
	return ln.Addr().String()
}

// ServeTLS accepts TLS connections on ln, with cert, until Shutdown.
func (s *Server) ServeTLS(ln net.Listener, cert tls.Certificate) error {
	cfg := tlsrecord.ServerConfig(cert)
	tln := tlsListener{ln}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, tln)
	s.mu.Unlock()
	s.gate.add()
	defer s.gate.remove()
	s.cfg.Log.Info().Str("addr", ln.Addr().String()).Str("web", "https://"+ln.Addr().String()+"/").Msg("listening (TLS; the web client over https)")
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.world.do(func(w *World) { w.tlsPorts = append(w.tlsPorts, a.Port) })
	}
	slots := make(chan struct{}, maxTLSHandshakes)
	var backoff time.Duration
	for {
		s.gate.wait()
		nc, err := ln.Accept()
		if err != nil {
			if err = s.acceptFailed(err, &backoff, "accept failed (TLS)"); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			nc.Close()
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			s.cfg.Log.Warn().Str("addr", tc.RemoteAddr().String()).Int("limit", maxTLSHandshakes).Msg("connection refused: too many TLS handshakes under way")
			tc.Close()
			continue
		}
		go func() {
			defer func() { <-slots }()
			s.handshakeTLS(tc, cfg)
		}()
	}
}

// handshakeTLS does a TLS connection's handshake and hands the connection
// to the world.
func (s *Server) handshakeTLS(tc *net.TCPConn, cfg *tls.Config) {
	st, proto, err := tlsrecord.HandshakeALPN(tc, cfg, tlsHandshakeWait, func() (uint64, uint64, error) { return socketOffsets(tc) }, []string{webALPN})
	if err != nil {
		s.cfg.Log.Debug().Err(err).Str("addr", tc.RemoteAddr().String()).Msg("TLS handshake failed")
		tc.Close()
		return
	}
	if proto == webALPN {
		s.serveWebTLS(tc, st) // a browser: https and wss (webtls.go)
		return
	}
	// Through the accept gate, like an accept loop: during a reboot's pause
	// the connection waits here (see above).
	s.gate.add()
	defer s.gate.remove()
	s.gate.wait()
	id := s.nextConn.Add(1)
	c := conn.NewWithPanics(id, tc, *s.connLimits.Load(), s.deliver, s.world.reportPanic)
	if err := c.SetTLS(st); err != nil {
		s.cfg.Log.Error().Err(err).Msg("TLS session refused")
		tc.Close()
		return
	}
	select {
	case s.world.events <- accepted{c: c}:
	case <-s.worldDone:
		tc.Close()
	}
}

// socketOffsets is tlsrecord.Offsets for a connection.
func socketOffsets(tc *net.TCPConn) (read, written uint64, err error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	if cerr := raw.Control(func(fd uintptr) { read, written, err = tlsrecord.Offsets(int(fd)) }); cerr != nil {
		return 0, 0, cerr
	}
	return read, written, err
}

// tlsPort is the port MSSP announces as TLS and SSL: the configured
// mssp.tls_port (a TLS proxy in front), else the first TLS listener's
// this process serves.
func (w *World) tlsPort() int {
	if w.cfg.MSSP.TLSPort > 0 {
		return w.cfg.MSSP.TLSPort
	}
	if len(w.tlsPorts) > 0 {
		return w.tlsPorts[0]
	}
	return 0
}

// LoadTLSCertificate reads a certificate chain and its key (PEM), as named
// in the configuration: each generation reads them when it starts, so a
// renewed certificate (Let's Encrypt's every 60-90 days) is taken by the
// next reboot.
func LoadTLSCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s / key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// Self-signed pair's file names in the data directory.
const (
	SelfSignedCert = "tls-selfsigned-cert.pem"
	SelfSignedKey  = "tls-selfsigned-key.pem"
)

// EnsureSelfSigned returns the self-signed certificate and key in dir,
// making them first if they are not there (created says so). Neither file
// is followed if it is a symbolic link, and the key is made 0600.
func EnsureSelfSigned(dir string, hosts []string) (certFile, keyFile string, created bool, err error) {
	certFile, keyFile = filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	ci, cerr := os.Lstat(certFile)
	ki, kerr := os.Lstat(keyFile)
	switch {
	case cerr == nil && kerr == nil:
		if !ci.Mode().IsRegular() || !ki.Mode().IsRegular() {
			return "", "", false, fmt.Errorf("%s or %s is not a regular file (a link?): refusing to use it", certFile, keyFile)
		}
		return certFile, keyFile, false, nil
	case cerr == nil || kerr == nil:
		return "", "", false, fmt.Errorf("only one of %s and %s exists: remove it, or name a pair in tls_cert and tls_key", certFile, keyFile)
	}
	if err := WriteSelfSigned(certFile, keyFile, hosts); err != nil {
		return "", "", false, err
	}
	return certFile, keyFile, true, nil
}

// WriteSelfSigned makes a self-signed certificate (ECDSA P-256, 5 years)
// for hosts (names or addresses; localhost and the loopback addresses are
// always included) and writes it and its key to new files: the key 0600,
// and neither file is written through a symbolic link or over an existing
// file.
func WriteSelfSigned(certFile, keyFile string, hosts []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "talker (self-signed)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	seen := map[string]bool{}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeNew(keyFile, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	if err := writeNew(certFile, 0o644, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		os.Remove(keyFile)
		return err
	}
	return nil
}

// writeNew creates path (which must not exist, nor be a link) with mode
// and data.
func writeNew(path string, mode os.FileMode, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
