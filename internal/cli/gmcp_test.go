package cli

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mudletClient is a scripted client that speaks GMCP as Mudlet does: it
// agrees to GMCP when the server offers it and then sends Core.Hello and
// Core.Supports.Set; it agrees to EOR and refuses every other option. It
// records every GMCP message it receives, in order, and the text.
type mudletClient struct {
	t    *testing.T
	conn net.Conn

	mu       sync.Mutex
	cond     *sync.Cond
	text     []byte
	pos      int      // Expect consumed text up to here
	gmcp     []string // "Package.Message body", in order of arrival
	seen     int      // expectGMCP checked messages up to here
	offers   int      // IAC WILL GMCP received
	closed   bool
	supports string // the Core.Supports.Set list sent on WILL GMCP
}

const (
	tIAC, tSB, tSE, tWILL, tWONT, tDO, tDONT = 255, 250, 240, 251, 252, 253, 254
	tGMCP, tEOR                              = 201, 25
)

func dialMudlet(t *testing.T, addr, supports string) *mudletClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &mudletClient{t: t, conn: nc, supports: supports}
	c.cond = sync.NewCond(&c.mu)
	t.Cleanup(func() { nc.Close() })
	go c.read()
	return c
}

func gmcpBytes(msg string) []byte {
	b := []byte{tIAC, tSB, tGMCP}
	b = append(b, bytes.ReplaceAll([]byte(msg), []byte{tIAC}, []byte{tIAC, tIAC})...)
	return append(b, tIAC, tSE)
}

func (c *mudletClient) read() {
	buf := make([]byte, 4096)
	state, verb := 0, byte(0) // 0 data, 1 IAC, 2 verb, 3 SB, 4 SB IAC
	var sb []byte
	for {
		n, err := c.conn.Read(buf)
		c.mu.Lock()
		var reply []byte
		for _, x := range buf[:n] {
			switch state {
			case 0:
				if x == tIAC {
					state = 1
				} else if x != '\r' && x != 0 {
					c.text = append(c.text, x)
				}
			case 1:
				switch x {
				case tIAC:
					c.text, state = append(c.text, x), 0
				case tWILL, tWONT, tDO, tDONT:
					verb, state = x, 2
				case tSB:
					sb, state = sb[:0], 3
				default:
					state = 0
				}
			case 2:
				switch {
				case verb == tWILL && x == tGMCP:
					c.offers++
					reply = append(reply, tIAC, tDO, tGMCP)
					reply = append(reply, gmcpBytes(`Core.Hello {"client":"Mudlet","version":"4.17.2"}`)...)
					reply = append(reply, gmcpBytes("Core.Supports.Set "+c.supports)...)
				case verb == tWILL && x == tEOR:
					reply = append(reply, tIAC, tDO, x)
				case verb == tWILL:
					reply = append(reply, tIAC, tDONT, x)
				case verb == tDO:
					reply = append(reply, tIAC, tWONT, x)
				}
				state = 0
			case 3:
				if x == tIAC {
					state = 4
				} else {
					sb = append(sb, x)
				}
			case 4:
				if x == tSE {
					if len(sb) > 0 && sb[0] == tGMCP {
						c.gmcp = append(c.gmcp, string(sb[1:]))
					}
					state = 0
				} else {
					sb, state = append(sb, x), 3
				}
			}
		}
		if len(reply) > 0 {
			_, _ = c.conn.Write(reply) // answered before the test sees the text, as a client does
		}
		if err != nil {
			c.closed = true
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *mudletClient) send(line string) {
	c.t.Helper()
	c.sendRaw([]byte(line + "\r\n"))
}

func (c *mudletClient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor waits (up to 10 s) until ok holds, with c.mu held.
func (c *mudletClient) waitFor(ok func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	for !ok() {
		if c.closed || time.Now().After(deadline) {
			return false
		}
		c.cond.Wait()
	}
	return true
}

func (c *mudletClient) expect(want string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var i int
	if !c.waitFor(func() bool { i = bytes.Index(c.text[c.pos:], []byte(want)); return i >= 0 }) {
		c.t.Fatalf("did not see %q in:\n%s", want, c.text[c.pos:])
	}
	c.pos += i + len(want)
}

// expectGMCP waits for the next len(want) GMCP messages and checks that
// they are exactly want, in order.
func (c *mudletClient) expectGMCP(want ...string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := c.waitFor(func() bool { return len(c.gmcp) >= c.seen+len(want) })
	got := c.gmcp[c.seen:min(len(c.gmcp), c.seen+len(want))]
	if !ok || strings.Join(got, "\n") != strings.Join(want, "\n") {
		c.t.Fatalf("GMCP messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c.seen += len(want)
}

// noMoreGMCP checks that no GMCP message arrived beyond those expected.
func (c *mudletClient) noMoreGMCP() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gmcp) > c.seen {
		c.t.Fatalf("unexpected GMCP messages:\n%s", strings.Join(c.gmcp[c.seen:], "\n"))
	}
}

func roomNumOf(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32() & 0x7fffffff
}

// roomInfo is the Room.Info the talker sends for the default rooms.
func roomInfo(id string, players ...string) string {
	names := map[string]string{"main": "The Main Room", "lounge": "The Lounge", "garden": "The Garden"}
	exits := map[string]string{"main": fmt.Sprintf(`{"garden":%d,"lounge":%d}`, roomNumOf("garden"), roomNumOf("lounge")),
		"lounge": fmt.Sprintf(`{"main":%d}`, roomNumOf("main"))}
	return fmt.Sprintf(`Room.Info {"num":%d,"id":"%s","name":"%s","exits":%s,"players":["%s"]}`,
		roomNumOf(id), id, names[id], exits[id], strings.Join(players, `","`))
}

func roomPlayers(players ...string) string {
	var parts []string
	for _, p := range players {
		parts = append(parts, fmt.Sprintf(`{"name":"%s","fullname":"%s"}`, p, p))
	}
	return "Room.Players [" + strings.Join(parts, ",") + "]"
}

func channelText(channel, talker, text string) string {
	return fmt.Sprintf(`Comm.Channel.Text {"channel":"%s","talker":"%s","text":"%s"}`, channel, talker, text)
}

// TestGMCPMudletThroughRebootAndKill9 follows a Mudlet-like client (GMCP
// with Char, Comm and Room) through login, says, a tell, a shout, room
// changes, a seamless reboot and the angel's recovery from a kill -9,
// checking every GMCP message it receives, in order. The client never
// negotiates again: after the reboot and after the recovery it still gets
// exactly the messages of the modules it listed before.
func TestGMCPMudletThroughRebootAndKill9(t *testing.T) {
	la := startAngel(t)
	for _, name := range []string{"Mudder", "Plain"} {
		cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", name, "--rank", "resident", "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		cmd.Stdin = strings.NewReader(strings.ToLower(name) + "-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	plain := la.dialClient()
	plain.Login("Plain", "plain-password")

	m := dialMudlet(t, la.addr, `["Char 1","Comm 1","Room 1"]`)
	m.expect("enter your name: ")
	// Core.Ping is answered at once, even before login; a malformed
	// message and one of an unknown package are ignored.
	m.sendRaw(gmcpBytes("Core.Ping 25"))
	m.sendRaw(gmcpBytes(`Core.Supports.Add ["Char 1"`))
	m.sendRaw(gmcpBytes("Nonsense.Package {}"))
	m.sendRaw(gmcpBytes("Bad name!"))
	m.expectGMCP("Core.Ping")
	m.send("Mudder")
	m.expect("Password: ")
	m.send("mudder-password")
	m.expect("Exits:")
	m.expectGMCP(
		`Char.Name {"name":"Mudder","fullname":"Mudder"}`,
		`Char.Status {"name":"Mudder","rank":"resident","idle":0,"afk":false}`,
		roomInfo("main", "Plain", "Mudder"),
		roomPlayers("Plain", "Mudder"),
	)
	// Who is online, on which channels: on request.
	m.sendRaw(gmcpBytes("Comm.Channel.Players"))
	m.expectGMCP(`Comm.Channel.Players [{"name":"Mudder","channels":["shout"]},{"name":"Plain","channels":["shout"]}]`)

	// The two malformed messages sent at the start were logged, and only
	// they (a message of an unknown package is simply not answered).
	if logs := la.logs(); strings.Count(logs, "malformed GMCP message ignored") != 2 {
		t.Errorf("want 2 malformed GMCP messages logged:\n%s", logs)
	}

	// Says, a tell, a shout, an emote, a whisper: the line each one sees.
	m.send("say hello <there> ^Rred^N")
	m.expect("You say 'hello <there> red'")
	plain.Expect("Mudder says 'hello <there> red'")
	plain.Send("say hi\x1b[2J back")
	m.expect("Plain says 'hi[2J back'")
	plain.Send("tell mudder psst")
	m.expect("Plain tells you 'psst'")
	plain.Send("shout everyone!")
	m.expect("Plain shouts 'everyone!'")
	plain.Send(":waves")
	m.expect("Plain waves")
	plain.Send("whisper mudder secret")
	m.expect("Plain whispers 'secret' to you.")
	m.expectGMCP(
		channelText("say", "Mudder", "You say 'hello <there> red'"),
		channelText("say", "Plain", "Plain says 'hi[2J back'"),
		channelText("tell", "Plain", "Plain tells you 'psst'"),
		channelText("shout", "Plain", "Plain shouts 'everyone!'"),
		channelText("emote", "Plain", "Plain waves"),
		channelText("whisper", "Plain", "Plain whispers 'secret' to you."),
	)
	// AFK: Char.Status changes, and again when they are back.
	m.send("afk tea")
	m.expect("You are now AFK")
	m.send("look")
	m.expect("no longer AFK")
	m.expect("Exits:")
	m.expectGMCP(
		`Char.Status {"name":"Mudder","rank":"resident","idle":0,"afk":true,"afkMessage":"tea"}`,
		`Char.Status {"name":"Mudder","rank":"resident","idle":0,"afk":false}`,
	)

	// Room changes: Plain leaves, Mudder follows.
	plain.Send("go lounge")
	plain.Expect("The Lounge")
	m.expect("Plain")
	m.send("go lounge")
	m.expect("The Lounge (lounge)")
	m.expectGMCP(
		`Room.RemovePlayer "Plain"`,
		roomInfo("lounge", "Plain", "Mudder"),
		roomPlayers("Plain", "Mudder"),
	)
	m.noMoreGMCP()

	// The seamless reboot.
	before := la.talkerPID()
	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("reboot: %s\n%s", out, la.out.String())
	}
	la.waitNewTalker(before, 10*time.Second)
	m.expect("Reboot complete")
	plain.Expect("Reboot complete")
	m.send("say still here")
	m.expect("You say 'still here'")
	plain.Send("go main")
	plain.Expect("The Main Room")
	m.expect("Plain")
	m.sendRaw(gmcpBytes("Core.Ping"))
	m.expectGMCP(
		channelText("say", "Mudder", "You say 'still here'"),
		`Room.RemovePlayer "Plain"`,
		"Core.Ping",
	)
	m.noMoreGMCP()

	// kill -9, and the angel's recovery from its checkpoints.
	time.Sleep(500 * time.Millisecond) // a checkpoint interval or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.expect("tripped over something and recovered")
	plain.Expect("tripped over something and recovered")
	plain.Send("go lounge")
	plain.Expect("The Lounge")
	m.expect("Plain")
	plain.Send("say welcome back")
	m.expect("Plain says 'welcome back'")
	m.send("go main")
	m.expect("The Main Room (main)")
	m.expectGMCP(
		`Room.AddPlayer {"name":"Plain","fullname":"Plain"}`,
		channelText("say", "Plain", "Plain says 'welcome back'"),
		roomInfo("main", "Mudder"),
		roomPlayers("Mudder"),
	)
	m.noMoreGMCP()
	m.mu.Lock()
	offers := m.offers
	m.mu.Unlock()
	if offers != 1 {
		t.Errorf("the server offered GMCP %d times; once, at the start, is all a client expects", offers)
	}
}

// TestGMCPStaffAndInvisible: staff see a GMCP client's name and modules in
// examine; a promotion reaches Char.Status within a tick; an invisible
// admin is in no GMCP message to a lower rank, while a visible one's
// going is announced.
func TestGMCPStaffAndInvisible(t *testing.T) {
	la := startAngel(t)
	for _, a := range [][2]string{{"Boss", "admin"}, {"Mudder", "resident"}} {
		cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", a[0], "--rank", a[1], "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		cmd.Stdin = strings.NewReader(strings.ToLower(a[0]) + "-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	boss := la.dialClient()
	boss.Login("Boss", "boss-password")
	m := dialMudlet(t, la.addr, `["Char 1","Room 1"]`)
	m.expect("enter your name: ")
	m.send("Mudder")
	m.expect("Password: ")
	m.send("mudder-password")
	m.expect("Exits:")
	m.expectGMCP(
		`Char.Name {"name":"Mudder","fullname":"Mudder"}`,
		`Char.Status {"name":"Mudder","rank":"resident","idle":0,"afk":false}`,
		roomInfo("main", "Boss", "Mudder"),
		roomPlayers("Boss", "Mudder"),
	)
	boss.Send("examine mudder")
	boss.Expect("Client: Mudlet 4.17.2; GMCP char 1, room 1.")

	boss.Send("promote mudder staff")
	boss.Expect("Mudder is now staff")
	m.expectGMCP(`Char.Status {"name":"Mudder","rank":"staff","idle":0,"afk":false}`)

	boss.Send("invis on")
	boss.Expect("invisible")
	boss.Send("go lounge")
	boss.Expect("The Lounge")
	boss.Send("go main")
	boss.Expect("The Main Room")
	m.send("go garden")
	m.expect("The Garden (garden)")
	m.send("go main")
	m.expect("The Main Room (main)")
	m.expectGMCP(
		// Boss going invisible looks to Mudder (staff, below admin) like
		// Boss logging out, GMCP included (invis.go).
		`Room.RemovePlayer "Boss"`,
		fmt.Sprintf(`Room.Info {"num":%d,"id":"garden","name":"The Garden","exits":{"main":%d},"players":["Mudder"]}`, roomNumOf("garden"), roomNumOf("main")),
		roomPlayers("Mudder"),
		roomInfo("main", "Mudder"),
		roomPlayers("Mudder"),
	)
	boss.Send("invis off")
	boss.Expect("visible")
	boss.Send("go lounge")
	boss.Expect("The Lounge")
	// Visible again: as a login (Boss is in the room), then Boss leaves.
	m.expectGMCP(`Room.AddPlayer {"name":"Boss","fullname":"Boss"}`, `Room.RemovePlayer "Boss"`)
	m.noMoreGMCP()
}
