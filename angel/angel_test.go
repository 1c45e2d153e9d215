package angel

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"talker/angel/link"
)

func testAngel(t *testing.T) (*Angel, *bytes.Buffer) {
	var logs bytes.Buffer
	a := New(Config{Log: zerolog.New(&logs), HandoverTimeout: time.Minute})
	return a, &logs
}

// waitState polls /proc until pid's state is one of states (or it is gone,
// if states contains "").
func waitState(t *testing.T, pid int, states string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			if strings.Contains(states, "gone") {
				return
			}
		} else if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.Contains(states, string(b[i+2])) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d never reached %q", pid, states)
}

// A child that exits between check's reapAll and its look at /proc is a
// zombie there: it must be reaped for its status, not reported as "not our
// child" (which made a handed-over generation look like a crash).
func TestChildExitingBetweenReapAndLookIsReaped(t *testing.T) {
	p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "exit 10"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid
	_ = p.Release()
	t.Cleanup(func() { _, _, _ = reapOne(pid) })
	waitState(t, pid, "Z")

	a, logs := testAngel(t)
	a.cur = &generation{pid: pid, hello: true, startedAt: time.Now()}
	if !a.gone(a.cur) {
		t.Fatal("a zombie child is not gone")
	}
	if e, ok := a.exited[pid]; !ok || !e.status.Exited() || e.status.ExitStatus() != 10 {
		t.Fatalf("exit status not collected: %+v %v", e, ok)
	}
	a.currentExited(time.Now())
	if !strings.Contains(logs.String(), "previous generation retired; waiting for its successor") {
		t.Fatalf("a handed-over exit was judged otherwise:\n%s", logs)
	}
}

// A generation that is not the angel's child (adopted) is known to have
// handed over only by its bye. The bye may still be unread when the process
// is seen gone: its death is judged once its link has reached EOF.
func TestDeathJudgedAfterTheLinksLastWords(t *testing.T) {
	// sh starts a sleep in the background and exits: the sleep is nobody's
	// child of ours, like an adopted talker.
	out, err := exec.Command("/bin/sh", "-c", "sleep 0.3 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	start, alive := link.StartTime(pid)
	if !alive {
		t.Skip("the sleep ended before it could be looked at")
	}

	a, logs := testAngel(t)
	a.hello(link.Hello{PID: pid, StartTime: start, Generation: 7}, time.Now())
	if a.cur == nil || a.cur.pid != pid || !a.cur.linkOpen {
		t.Fatalf("hello not taken: %+v", a.cur)
	}
	waitState(t, pid, "Zgone")
	a.check(time.Now())
	if a.cur == nil {
		t.Fatalf("death judged before the link was read to its end:\n%s", logs)
	}
	a.handle(byeEvent{pid: pid, bye: link.Bye{Reason: "handed-over"}})
	a.handle(linkClosedEvent{pid: pid})
	if a.cur != nil || a.state != "restarting" {
		t.Fatalf("state %q cur %+v after the link closed", a.state, a.cur)
	}
	got := logs.String()
	if strings.Contains(got, "crashed") || !strings.Contains(got, "previous generation retired; waiting for its successor") {
		t.Fatalf("a handed-over generation was judged a crash:\n%s", got)
	}

	// Without a bye, a link that never closes delays the verdict only so long.
	b, logs2 := testAngel(t)
	b.cur = &generation{pid: pid, hello: true, linkOpen: true, startedAt: time.Now()}
	now := time.Now()
	b.check(now)
	if b.cur == nil {
		t.Fatal("judged at once")
	}
	b.check(now.Add(lastWordsReadWithin))
	if b.cur != nil || !strings.Contains(logs2.String(), "crashed") {
		t.Fatalf("a silent death was not judged a crash after the bound:\n%s", logs2)
	}
}

// A generation's pid now naming another process (same pid, another start
// time) means the generation is gone; the other process is not reaped in
// its name.
func TestReusedPidIsGoneWithoutReaping(t *testing.T) {
	me := os.Getpid()
	start, alive := link.StartTime(me)
	if !alive {
		t.Fatal("cannot read our own start time")
	}
	a, _ := testAngel(t)
	if a.gone(&generation{pid: me, start: start}) {
		t.Error("a live generation judged gone")
	}
	if !a.gone(&generation{pid: me, start: start + 1}) {
		t.Error("a reused pid judged the same generation")
	}
	if _, ok := a.exited[me]; ok {
		t.Error("an exit recorded for a process that did not exit")
	}
}
