package cli

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talker/angel/link"
)

// TestAngelRefusesForgedHelloAndHold: whatever can reach the angel's
// socket (any process of the talker's user) cannot make it follow another
// process as the talker, nor replace the sockets it holds for crash
// recovery. Before, a hello naming an unrelated pid made the angel kill
// that process as hung and start a second talker beside the first.
func TestAngelRefusesForgedHelloAndHold(t *testing.T) {
	la := startAngel(t, "--hang-timeout", "1s")
	pid := la.waitServing(10 * time.Second)
	kim := la.dialClient()
	kim.Register("Kim", "kim-password")

	bystander := exec.Command("sleep", "60")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bystander.Process.Kill(); bystander.Wait() })
	start, _ := link.StartTime(bystander.Process.Pid)

	sock := filepath.Join(la.data, "run", "angel.sock")
	send := func(m link.Message) net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		b, _ := json.Marshal(m)
		if _, err := c.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A hello naming another process, and one naming ourselves (the
	// kernel agrees on that pid, but we are nobody the angel started).
	send(link.Message{Hello: &link.Hello{PID: bystander.Process.Pid, StartTime: start}})
	own, _ := link.StartTime(os.Getpid())
	send(link.Message{Hello: &link.Hello{PID: os.Getpid(), StartTime: own}})
	// A hold channel from us: no acknowledgement, the connection closed.
	hold := send(link.Message{Hold: &link.HoldHello{PID: os.Getpid()}})
	_ = hold.SetReadDeadline(time.Now().Add(3 * time.Second))
	if line, err := bufio.NewReader(hold).ReadString('\n'); err == nil || strings.HasPrefix(line, "ok") {
		t.Fatalf("the angel accepted a hold channel from a stranger: %q %v", line, err)
	}

	time.Sleep(2500 * time.Millisecond) // past the hang timeout: a followed stranger would be killed now
	if err := signalPID(bystander.Process.Pid, 0); err != nil {
		t.Fatalf("the bystander process was killed: %v", err)
	}
	if now := la.talkerPID(); now != pid {
		t.Fatalf("the talker changed from %d to %d", pid, now)
	}
	kim.Send("say still one talker")
	kim.Expect("You say 'still one talker'")
	b, _ := os.ReadFile(filepath.Join(la.data, "log", "angel.log"))
	log := string(b)
	for _, want := range []string{"hello naming a process other than the peer's; refused",
		"neither the talker nor started by it or by this angel; refused", "hold channel from a process that is not the talker; refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("the angel's log lacks %q", want)
		}
	}
	out, _ := la.cli("status")
	if !strings.Contains(out, "talker: running") || !strings.Contains(out, "0 restarts") {
		t.Fatalf("status after the forgeries:\n%s", out)
	}
}
