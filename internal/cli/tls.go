package cli

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"talker/config"
	"talker/reboot"
	"talker/server"
)

// openTLS opens the TLS listeners (listen_tls) and loads the certificate
// they serve: tls_cert and tls_key if named, else the self-signed pair in
// the data directory, made now if it is not there. Each generation does
// this when it starts, so a renewed certificate is served from the next
// reboot on; connections already open keep the session they have.
// The listeners come in the order of their addresses (as configured, the
// name a reboot or the angel hands them over by).
func openTLS(upg *reboot.Upgrader, settings *config.Settings, dataDir string, log zerolog.Logger) ([]net.Listener, []string, tls.Certificate, error) {
	addrs := settings.TLSListeners()
	if len(addrs) == 0 {
		return nil, nil, tls.Certificate{}, nil
	}
	cert, err := tlsCertificate(settings, dataDir, log)
	if err != nil {
		return nil, nil, tls.Certificate{}, err
	}
	var lns []net.Listener
	for _, addr := range addrs {
		ln, err := upg.Listen("tcp", addr)
		if err != nil {
			return nil, nil, tls.Certificate{}, fmt.Errorf("cannot listen on %s (TLS): %w", addr, err)
		}
		lns = append(lns, ln)
	}
	return lns, addrs, cert, nil
}

func tlsCertificate(settings *config.Settings, dataDir string, log zerolog.Logger) (tls.Certificate, error) {
	certFile, keyFile := settings.TLSFiles(dataDir)
	switch {
	case certFile != "" && keyFile != "":
	case certFile != "" || keyFile != "":
		return tls.Certificate{}, fmt.Errorf("tls_cert and tls_key name a pair: set both, or neither for a self-signed one")
	default:
		host, _ := os.Hostname()
		var created bool
		var err error
		if certFile, keyFile, created, err = server.EnsureSelfSigned(dataDir, []string{host, settings.MSSP.Hostname}); err != nil {
			return tls.Certificate{}, err
		}
		if created {
			log.Info().Str("cert", certFile).Str("key", keyFile).Msg("made a self-signed TLS certificate; name a real one in tls_cert and tls_key")
		}
	}
	return server.LoadTLSCertificate(certFile, keyFile)
}

// cmdTLS is `talker tls selfsigned`: a self-signed certificate and key, for
// testing or until a real certificate is named.
func cmdTLS(args []string) int {
	usage := "usage: talker tls selfsigned [--data DIR] [--cert FILE --key FILE] [--host NAME]..."
	if len(args) == 0 || args[0] != "selfsigned" {
		fmt.Fprintln(os.Stderr, usage)
		return reboot.ExitUsage
	}
	flags := flag.NewFlagSet("tls selfsigned", flag.ContinueOnError)
	data := flags.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	certFile := flags.String("cert", "", "where to write the certificate (default DATA/"+server.SelfSignedCert+")")
	keyFile := flags.String("key", "", "where to write the key, 0600 (default DATA/"+server.SelfSignedKey+")")
	var hosts hostList
	flags.Var(&hosts, "host", "a name or address the certificate is for (repeatable; localhost, 127.0.0.1 and ::1 are always in it)")
	if err := flags.Parse(args[1:]); err != nil || flags.NArg() > 0 || (*certFile == "") != (*keyFile == "") {
		if err == nil {
			fmt.Fprintln(os.Stderr, usage)
		}
		return reboot.ExitUsage
	}
	if *certFile == "" {
		dir, err := filepath.Abs(*data)
		if err == nil {
			err = os.MkdirAll(dir, 0o700)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "talker tls:", err)
			return 1
		}
		*certFile, *keyFile = filepath.Join(dir, server.SelfSignedCert), filepath.Join(dir, server.SelfSignedKey)
	}
	if err := server.WriteSelfSigned(*certFile, *keyFile, hosts); err != nil {
		fmt.Fprintln(os.Stderr, "talker tls:", err, "(an existing file is never replaced: remove it first)")
		return 1
	}
	fmt.Printf("wrote %s and %s (0600), self-signed for localhost, 127.0.0.1, ::1", *certFile, *keyFile)
	for _, h := range hosts {
		fmt.Printf(", %s", h)
	}
	fmt.Println("; the next start or reboot serves it where tls_cert and tls_key are unset (the default pair) or name it")
	return 0
}

type hostList []string

func (h *hostList) String() string     { return strings.Join(*h, ",") }
func (h *hostList) Set(v string) error { *h = append(*h, v); return nil }
