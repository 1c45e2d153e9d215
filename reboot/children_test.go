package reboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKillStartedChildKillsOnlyTheAttemptsChild: a new binary that never
// connected is found among this process's children by the handoff socket
// in its environment; a child started with another socket, or none, lives.
func TestKillStartedChildKillsOnlyTheAttemptsChild(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "handoff-0123456789abcdef.sock")
	start := func(env ...string) *exec.Cmd {
		cmd := exec.Command("sleep", "60")
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start sleep: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	target := start(envHandoff + "=" + ours)
	other := start(envHandoff + "=" + ours + "x")
	plain := start()
	// The parent pid, read from /proc, is the first of the two checks.
	if got := ParentPID(target.Process.Pid); got != os.Getpid() {
		t.Fatalf("ParentPID = %d, want %d", got, os.Getpid())
	}
	if !killStartedChild(ours) {
		t.Fatal("killStartedChild found no child")
	}
	done := make(chan error, 1)
	go func() { done <- target.Wait() }()
	select {
	case err := <-done:
		ws, _ := err.(*exec.ExitError)
		if ws == nil || ws.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("the attempt's child ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the attempt's child is still running")
	}
	for _, c := range []*exec.Cmd{other, plain} {
		if err := c.Process.Signal(syscall.Signal(0)); err != nil {
			t.Errorf("pid %d, not the attempt's child, was killed: %v", c.Process.Pid, err)
		}
	}
	if killStartedChild(ours) {
		t.Error("a second call killed something")
	}
}
