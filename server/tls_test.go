package server

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTLSListenerInMSSPAndSelfSigned: a self-signed pair is made once (key
// 0600, never through a link), a TLS listener serves it, and MSSP then
// announces its port as TLS and SSL.
func TestTLSListenerInMSSPAndSelfSigned(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, created, err := EnsureSelfSigned(dir, []string{"talker.example.org"})
	if err != nil || !created {
		t.Fatalf("EnsureSelfSigned: %v (created %v)", err, created)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if _, _, again, err := EnsureSelfSigned(dir, nil); err != nil || again {
		t.Fatalf("a second EnsureSelfSigned made a new pair (%v) or failed: %v", again, err)
	}
	linked := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(linked, SelfSignedKey)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := EnsureSelfSigned(linked, nil); err == nil {
		t.Fatal("a symbolic link at the key's path was accepted")
	}
	cert, err := LoadTLSCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}

	ts := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.ServeTLS(ln, cert)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, ServerName: "talker.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %#x", v)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 1024)
	for !strings.Contains(string(got), "name") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading the greeting over TLS: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var vars string
	ts.srv.world.do(func(w *World) { vars = string(msspText(w.mssp())) })
	for _, want := range []string{"\r\nTLS\t" + port + "\r\n", "\r\nSSL\t" + port + "\r\n"} {
		if !strings.Contains(vars, want) {
			t.Errorf("MSSP lacks %q:\n%s", want, vars)
		}
	}
}
