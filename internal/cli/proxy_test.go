package cli

import (
	"fmt"
	"testing"
	"time"

	"talker/server/talkertest"
)

// TestProxyAddressCarriedAcrossReboot: a player who came through a proxy
// is still counted at the address in their PROXY header after a reboot,
// so the per-address limit holds across it.
func TestProxyAddressCarriedAcrossReboot(t *testing.T) {
	direct, proxied := freePort(t), freePort(t)
	lt := startTalkerWith(t, fmt.Sprintf("listen = [%q]\nlisten_proxy = [%q]\n", direct, proxied), "--max-per-address", "1")
	waitListening(t, proxied, 5*time.Second)
	via := func(src string) *talkertest.Client {
		return talkertest.Dial(t, proxied, talkertest.Options{Width: 80, Height: 24,
			Preamble: []byte("PROXY TCP4 " + src + " 127.0.0.1 40000 4000\r\n")})
	}
	ann := via("203.0.113.7")
	ann.Register("Ann", "ann-password")
	lt.reboot()
	ann.Send("say still here")
	ann.Expect("You say 'still here'")
	again := via("203.0.113.7")
	again.Expect("Too many connections from your address")
	other := via("198.51.100.9")
	other.Expect("enter your name: ")
}
