package server

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"talker/config"
)

// msspConfig sets every [mssp] setting, two listeners and a fixed clock
// (UPTIME is the cold start's time).
func msspConfig(c *Config) {
	start := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return start }
	c.Name = "Golden"
	c.Settings.Listen = []string{"0.0.0.0:4000", "[::]:4000", "0.0.0.0:2323"}
	c.MSSP = config.MSSP{Hostname: "talker.example.org", Contact: "admin@example.org", Website: "https://talker.example.org/",
		Icon: "https://talker.example.org/icon.png", Discord: "https://discord.gg/x", Location: "United Kingdom",
		Language: "English", Created: "2026", Status: "Live", MinimumAge: 13, CrawlDelay: 24, TLSPort: 4443}
}

// msspGolden is the MSSP a crawler gets with msspConfig, as NAME TAB VALUE
// lines (the plain-text form's body); the telnet form is built from it.
const msspGolden = "NAME\tGolden\n" +
	"PLAYERS\t0\n" +
	"UPTIME\t1796457600\n" +
	"CODEBASE\ttalker (Go)\n" +
	"CONTACT\tadmin@example.org\n" +
	"CRAWL DELAY\t24\n" +
	"CREATED\t2026\n" +
	"DISCORD\thttps://discord.gg/x\n" +
	"HOSTNAME\ttalker.example.org\n" +
	"ICON\thttps://talker.example.org/icon.png\n" +
	"LANGUAGE\tEnglish\n" +
	"LOCATION\tUnited Kingdom\n" +
	"MINIMUM AGE\t13\n" +
	"PORT\t2323\n" +
	"PORT\t4000\n" +
	"SSL\t4443\n" +
	"TLS\t4443\n" +
	"WEBSITE\thttps://talker.example.org/\n" +
	"FAMILY\tCustom\n" +
	"GENRE\tNone\n" +
	"SUBGENRE\tTalker\n" +
	"GAMEPLAY\tSocial\n" +
	"GAMESYSTEM\tNone\n" +
	"STATUS\tLive\n" +
	"AREAS\t0\n" +
	"MOBILES\t0\n" +
	"OBJECTS\t0\n" +
	"ROOMS\t3\n" +
	"CLASSES\t0\n" +
	"LEVELS\t0\n" +
	"RACES\t0\n" +
	"SKILLS\t0\n" +
	"ANSI\t1\n" +
	"GMCP\t1\n" +
	"MCCP\t1\n" +
	"MCP\t0\n" +
	"MSDP\t0\n" +
	"MSP\t0\n" +
	"MXP\t0\n" +
	"PUEBLO\t0\n" +
	"UTF-8\t1\n" +
	"VT100\t0\n" +
	"XTERM 256 COLORS\t0\n" +
	"XTERM TRUE COLORS\t0\n" +
	"PAY TO PLAY\t0\n" +
	"PAY FOR PERKS\t0\n" +
	"HIRING BUILDERS\t0\n" +
	"HIRING CODERS\t0\n"

// readUntil reads from c until want has arrived, returning everything.
func readUntil(t *testing.T, c net.Conn, want []byte) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.Contains(got, want) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", want, err, got)
		}
	}
	return got
}

// TestMSSPOverTelnet: a client that agrees to MSSP gets every variable in
// one subnegotiation, a variable with several values (PORT) as one
// MSSP_VAR and several MSSP_VALs.
func TestMSSPOverTelnet(t *testing.T) {
	ts := startServer(t, msspConfig)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readUntil(t, c, []byte("name: "))
	if _, err := c.Write([]byte{255, 253, 70}); err != nil { // IAC DO MSSP
		t.Fatal(err)
	}
	got := readUntil(t, c, []byte{255, 240})
	i := bytes.Index(got, []byte{255, 250, 70})
	if i < 0 {
		t.Fatalf("no MSSP subnegotiation: %q", got)
	}
	got = got[i:]
	want := []byte{255, 250, 70}
	prev := ""
	for _, line := range strings.Split(strings.TrimSuffix(msspGolden, "\n"), "\n") {
		name, value, _ := strings.Cut(line, "\t")
		if name != prev {
			want = append(append(want, 1), name...)
		}
		prev = name
		want = append(append(want, 2), value...)
	}
	want = append(want, 255, 240)
	if !bytes.Equal(got, want) {
		t.Errorf("MSSP over telnet:\n got %q\nwant %q", got, want)
	}
}

// TestMSSPRequestAsText: MSSP-REQUEST at the name prompt gets the plain-
// text form, and the connection is closed.
func TestMSSPRequestAsText(t *testing.T) {
	ts := startServer(t, msspConfig)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := readUntil(t, c, []byte("name: "))
	_ = before
	if _, err := c.Write([]byte("MSSP-REQUEST\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("the connection was not closed after the reply: %v (got %q)", err, got)
	}
	want := "MSSP-REPLY-START\r\n" + strings.ReplaceAll(msspGolden, "\n", "\r\n") + "MSSP-REPLY-END\r\n"
	if string(got) != want {
		t.Errorf("plain-text MSSP:\n got %q\nwant %q", got, want)
	}
}

// TestMSSPLeavesOutWhatIsNotSet: no TLS port, no hostname: no TLS, SSL or
// HOSTNAME variable at all.
func TestMSSPLeavesOutWhatIsNotSet(t *testing.T) {
	ts := startServer(t)
	var vars string
	ts.srv.world.do(func(w *World) { vars = string(msspText(w.mssp())) })
	for _, name := range []string{"\r\nTLS\t", "\r\nSSL\t", "\r\nHOSTNAME\t", "\r\nCONTACT\t", "\r\nMINIMUM AGE\t"} {
		if strings.Contains(vars, name) {
			t.Errorf("%q sent although not configured:\n%s", name, vars)
		}
	}
	for _, name := range []string{"\r\nNAME\tTalker\r\n", "\r\nCRAWL DELAY\t-1\r\n", "\r\nLANGUAGE\tEnglish\r\n", "\r\nPORT\t4000\r\n"} {
		if !strings.Contains("\r\n"+vars, name) {
			t.Errorf("%q missing:\n%s", name, vars)
		}
	}
}
