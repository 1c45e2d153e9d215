package cli

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

// TestTalkStateSurvivesKill9: with real
// processes, one player on a channel, with an alias, halfway through a
// news post; another in converse mode. A seamless reboot, then kill -9 of
// the talker and the angel's recovery from its checkpoints: each time the
// channel still carries their lines, the alias expands, converse mode
// still says what is typed (with its prompt), and the post carries on
// where it was and is posted whole at the end.
func TestTalkStateSurvivesKill9(t *testing.T) {
	la := startAngel(t)
	for _, name := range []string{"Poster", "Chatty"} {
		cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", name, "--rank", "resident", "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		cmd.Stdin = strings.NewReader(strings.ToLower(name) + "-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	poster := la.dialClient()
	poster.Login("Poster", "poster-password")
	chatty := la.dialClient()
	chatty.Login("Chatty", "chatty-password")

	for _, c := range []struct {
		who        *talkertest.Client
		line, want string
	}{{poster, "channel join gossip", "You join"}, {chatty, "channel join gossip", "You join"},
		{poster, "alias gm = ch gossip good morning $*", "Alias set"}, {chatty, "converse", "Converse mode on"}} {
		c.who.Send(c.line)
		c.who.Expect(c.want)
	}
	poster.Send("news post Across the reboot")
	poster.Expect("Writing news: Across the reboot")
	body := []string{"This post is written", "across a reboot", "and a kill -9."}
	poster.Send(body[0])
	poster.Send(".l")
	poster.Expect("1:  " + body[0])

	// check is what must hold after each: Chatty is still conversing (the
	// prompt, a line said that Poster hears in the editor), both are
	// still on the channel, and the post goes on from where it was.
	check := func(when string, line int) {
		t.Helper()
		chatty.Send("still conversing " + when)
		poster.Expect("Chatty says 'still conversing " + when + "'")
		chatty.Expect("You say 'still conversing " + when + "'\n(converse) > ")
		chatty.Send("/ch gossip on the channel " + when)
		poster.Expect("[gossip] Chatty says 'on the channel " + when + "'")
		poster.Send(body[line])
		poster.Send(".l")
		listed := poster.Expect(strconv.Itoa(line+1) + ":  " + body[line])
		for i := 0; i < line; i++ {
			if !strings.Contains(listed, strconv.Itoa(i+1)+":  "+body[i]) {
				t.Errorf("%s: line %d of the post is missing:\n%s", when, i+1, listed)
			}
		}
	}

	before := la.talkerPID()
	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("reboot: %s\n%s", out, la.out.String())
	}
	la.waitNewTalker(before, 10*time.Second)
	chatty.Expect("Reboot complete")
	poster.Expect("Reboot complete")
	check("after the reboot", 1)

	time.Sleep(500 * time.Millisecond) // a checkpoint interval or two
	if err := signalPID(la.talkerPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	chatty.Expect("tripped over something and recovered")
	poster.Expect("tripped over something and recovered")
	check("after the recovery", 2)

	poster.Send(".")
	poster.Expect("Posted as news 1.")
	chatty.Expect("There is news: Across the reboot")
	poster.Send("gm all")
	chatty.Expect("[gossip] Poster says 'good morning all'")
	chatty.Send("/news read 1")
	got := chatty.Expect(body[2])
	if !strings.Contains(got, strings.Join(body, "\n")) {
		t.Errorf("the post read back:\n%s", got)
	}
}
