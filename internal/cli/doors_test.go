package cli

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"talker/server/talkertest"
)

// freePort6 is a free port on the IPv6 loopback, as "[::1]:PORT"; the
// test is skipped on a machine without one.
func freePort6(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here (%v): skipping the IPv6 listeners", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSeveralDoorsOfEachKindAndIPv6: from the configuration file, two
// listeners of each kind (telnet, TLS, web), one on 127.0.0.1 and one on
// [::1]; a player comes in by each kind over IPv6 (the web client over
// TLS on the TLS port), they all talk through a seamless reboot (which
// hands over all six listeners), and `talker status` lists every address
// by kind and counts one connection of each kind.
func TestSeveralDoorsOfEachKindAndIPv6(t *testing.T) {
	tel6, tls6, web6 := freePort6(t), freePort6(t), freePort6(t)
	tel4, tls4, web4 := freePort(t), freePort(t), freePort(t)
	lt := startTalkerWith(t, fmt.Sprintf("listen = [%q, %q]\nlisten_tls = [%q, %q]\nlisten_web = [%q, %q]\n",
		tel4, tel6, tls4, tls6, web4, web6))
	for _, a := range []string{tel6, tls4, tls6, web4, web6} {
		waitListening(t, a, 10*time.Second)
	}

	out, _ := lt.cli("status")
	for _, want := range []string{
		"telnet: " + tel4 + ", " + tel6,
		"TLS: tls://" + tls4 + ", tls://" + tls6,
		"web: http://" + web4 + "/, http://" + web6 + "/",
		"web over TLS: https://" + tls4 + "/, https://" + tls6 + "/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}

	tel := talkertest.Dial(t, tel6, talkertest.Options{Width: 200, Height: 50})
	tel.Register("Tel", "tel-pw-1")
	gopher := dialGoTLS(t, tls6, "Gopher")
	gopher.register("Gopher", "gopher-pw")
	webby := dialWeb(t, web6)
	webby.Register("Webby", "webby-pw")
	secure, _ := dialWebTLS(t, tls6)
	secure.Register("Secure", "secure-pw")
	if out, _ := lt.cli("status"); !strings.Contains(out, "4 connections (1 telnet, 1 TLS, 1 web, 1 web over TLS)") {
		t.Errorf("status does not count one connection of each kind:\n%s", out)
	}

	round := func(i int) {
		t.Helper()
		tel.Send(fmt.Sprintf("say round %d", i))
		gopher.expect(fmt.Sprintf("Tel says 'round %d'", i))
		webby.Expect(fmt.Sprintf("Tel says 'round %d'", i))
		secure.Expect(fmt.Sprintf("Tel says 'round %d'", i))
		secure.Send(fmt.Sprintf("say secure %d", i))
		tel.Expect(fmt.Sprintf("Secure says 'secure %d'", i))
	}
	round(0)
	lt.reboot()
	tel.Expect("Reboot complete")
	round(1)
	// The IPv4 doors were handed over too.
	tel4c := talkertest.Dial(t, tel4, talkertest.Options{Width: 200, Height: 50})
	tel4c.Expect("enter your name: ")
	web4c := dialWeb(t, web4)
	web4c.Expect("enter your name: ")
	secure4, _ := dialWebTLS(t, tls4)
	secure4.Expect("enter your name: ")
	if out, _ := lt.cli("status"); !strings.Contains(out, "7 connections (2 telnet, 1 TLS, 2 web, 2 web over TLS)") {
		t.Errorf("after the reboot, status does not count the connections by kind:\n%s", out)
	}
}
