package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"talker/server/talkertest"
)

const morePrompt = "[Return] next, [b]ack, [t]op, [q]uit -- "

// page reads one page of the pager: its lines and the percentage its
// prompt shows.
func page(t *testing.T, c *talkertest.Client) (lines []string, pct int) {
	t.Helper()
	got := strings.TrimSuffix(c.Expect(morePrompt), morePrompt)
	i := strings.LastIndex(got, "-- more (")
	if i < 0 {
		t.Fatalf("no more prompt in %q", got)
	}
	if _, err := fmt.Sscanf(got[i:], "-- more (%d%%)", &pct); err != nil {
		t.Fatalf("more prompt %q: %v", got[i:], err)
	}
	// Lines from others (the reboot's and the recovery's notices) may come
	// before the page: a page is the last lines before its prompt.
	lines = strings.Split(strings.Trim(got[:i], "\n"), "\n")
	return lines, pct
}

func samePage(a, b []string) bool {
	return len(a) >= 11 && len(b) >= 11 && strings.Join(a[len(a)-11:], "\n") == strings.Join(b[len(b)-11:], "\n")
}

// TestPagerAndEditorSurviveRebootAndKill9: one player halfway through a
// paged 'help', another halfway through writing a mail in the editor;
// a seamless reboot, then kill -9 of the talker and the angel's recovery
// from its checkpoints. Each time both are exactly where they were: the
// same page and place in it, the same lines typed; both carry on and
// finish, and the mail arrives whole.
func TestPagerAndEditorSurviveRebootAndKill9(t *testing.T) {
	la := startAngel(t)
	for _, name := range []string{"Reader", "Writer"} {
		cmd := exec.Command(la.good, "account", "create", "--data", la.data, "--name", name, "--rank", "resident", "--hash-cost", "4")
		cmd.Env = append(os.Environ(), "TALKER_TEST_MAIN=1")
		cmd.Stdin = strings.NewReader(strings.ToLower(name) + "-password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	// A window of 12 lines: pages of 11.
	reader := talkertest.Dial(t, la.addr, talkertest.Options{Width: 200, Height: 12})
	reader.Login("Reader", "reader-password")
	writer := la.dialClient()
	writer.Login("Writer", "writer-password")

	reader.Send("help")
	first, pct1 := page(t, reader)
	reader.Send("")
	second, pct2 := page(t, reader)
	if samePage(first, second) || pct2 <= pct1 || pct2 >= 100 {
		t.Fatalf("paging: %d%% then %d%%", pct1, pct2)
	}
	writer.Send("mail send reader")
	writer.Expect("Writing mail to Reader")
	body := []string{"Dear Reader,", "", "this mail is written across a reboot", "and a kill -9 of the talker;",
		"every line of it arrives.", "Writer"}
	for _, l := range body[:3] {
		writer.Send(l)
	}
	writer.Send(".l")
	writer.Expect("3:  " + body[2])

	// The seamless reboot.
	before := la.talkerPID()
	if out, code := la.cli("reboot"); code != 0 {
		t.Fatalf("reboot: %s\n%s", out, la.out.String())
	}
	la.waitNewTalker(before, 10*time.Second)
	// The reader is still at the second page: its prompt comes again
	// after the reboot's notice; b goes back to the first, Return twice
	// to the second and then the third.
	reader.Expect("Reboot complete")
	if _, pct := page(t, reader); pct != pct2 {
		t.Errorf("after the reboot, the prompt says %d%%, want %d%%", pct, pct2)
	}
	reader.Send("b")
	if back, _ := page(t, reader); !samePage(back, first) {
		t.Errorf("after the reboot, b did not show the first page:\n%s", strings.Join(back, "\n"))
	}
	reader.Send("")
	if again, pct := page(t, reader); !samePage(again, second) || pct != pct2 {
		t.Errorf("after the reboot, the second page is not where it was (%d%%, was %d%%)", pct, pct2)
	}
	reader.Send("")
	third, pct3 := page(t, reader)
	if pct3 <= pct2 || samePage(third, second) {
		t.Errorf("the third page: %d%%", pct3)
	}
	// The writer's three lines are still there; the fourth joins them.
	writer.Send(body[3])
	writer.Send(".l")
	listed := writer.Expect("4:  " + body[3])
	for i, l := range body[:3] {
		if !strings.Contains(listed, fmt.Sprintf("%d:  %s", i+1, l)) {
			t.Errorf("after the reboot, line %d is missing:\n%s", i+1, listed)
		}
	}

	// kill -9, and the angel's recovery from checkpoints.
	time.Sleep(500 * time.Millisecond) // a checkpoint interval or two
	victim := la.talkerPID()
	if err := signalPID(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	reader.Expect("tripped over something and recovered")
	writer.Expect("tripped over something and recovered")
	// Still on the third page: its prompt again, then b gives the second.
	if _, pct := page(t, reader); pct != pct3 {
		t.Errorf("after the recovery, the prompt says %d%%, want %d%%", pct, pct3)
	}
	reader.Send("b")
	if back, _ := page(t, reader); !samePage(back, second) {
		t.Errorf("after the recovery, b did not show the second page:\n%s", strings.Join(back, "\n"))
	}
	writer.Send(".l")
	listed = writer.Expect("4:  " + body[3])
	if !strings.Contains(listed, "1:  "+body[0]) || !strings.Contains(listed, "3:  "+body[2]) {
		t.Errorf("after the recovery, the lines typed:\n%s", listed)
	}
	for _, l := range body[4:] {
		writer.Send(l)
	}
	writer.Send(".")
	writer.Expect("Mail sent to Reader.")

	// The reader reads to the end, and then the mail.
	reader.Send("t")
	page(t, reader)
	for i := 0; i < 20; i++ {
		reader.Send("")
		if _, ok := reader.TryExpect(morePrompt, 2*time.Second); !ok {
			break
		}
	}
	reader.Send("mail read 1")
	got := reader.Expect("Writer\n")
	if !strings.Contains(got, strings.Join(body, "\n")+"\n") {
		t.Errorf("the mail read back:\n%s", got)
	}
}
