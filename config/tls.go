package config

import (
	"path/filepath"
	"slices"
)

// DefaultTLSListen is where TLS is served when listen_tls is not set and
// listen is the default: next to the default telnet port, on loopback, so
// that a fresh `talker run` serves every door (with a self-signed
// certificate until tls_cert and tls_key name a real one).
const DefaultTLSListen = "127.0.0.1:4443"

// TLSListenOff, as listen_tls's only entry, turns TLS off.
const TLSListenOff = "off"

// TLSListeners returns the TLS addresses: listen_tls; if it is empty,
// DefaultTLSListen when listen is the default (a talker told to listen
// elsewhere, a test among them, gets no TLS listener it did not ask for);
// none for ["off"].
func (s *Settings) TLSListeners() []string {
	switch {
	case len(s.ListenTLS) == 1 && s.ListenTLS[0] == TLSListenOff:
		return nil
	case len(s.ListenTLS) > 0:
		return s.ListenTLS
	case slices.Equal(s.Listen, Default().Listen):
		return []string{DefaultTLSListen}
	}
	return nil
}

// TLSFiles returns the certificate and key files named in the settings,
// relative ones taken from dataDir; both empty when none are named (a
// self-signed pair is then used).
func (s *Settings) TLSFiles(dataDir string) (cert, key string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dataDir, p)
	}
	return abs(s.TLSCert), abs(s.TLSKey)
}
