package cli

import (
	"fmt"
	"os"
	"time"

	"talker/angel"
	"talker/angel/link"
	"talker/reboot"
)

// cmdAngelUpgrade: `talker angel upgrade` has the running angel re-execute
// in place from the binary on disk, keeping every descriptor it holds
// (angel/upgrade.go), and waits until the new image answers.
func cmdAngelUpgrade(args []string) int {
	_, data, timeout, _, err := controlFlags("angel upgrade", args, 30*time.Second)
	if err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{*data}
	if !angel.Locked(paths.angelLock()) {
		fmt.Fprintf(os.Stderr, "talker angel upgrade: no angel is running for %s ('talker start' starts one, already from the new binary)\n", *data)
		return 1
	}
	r, err := link.Call(paths.angelSock(), "upgrade", *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "talker angel upgrade: the angel does not answer:", err)
		return 1
	}
	if !r.OK || r.Status == nil {
		fmt.Fprintln(os.Stderr, "talker angel upgrade:", r.Error)
		return 1
	}
	before := *r.Status
	deadline := time.Now().Add(*timeout)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		s, err := link.Call(paths.angelSock(), "status", 2*time.Second)
		if err != nil || s.Status == nil || s.Status.AngelUpgrades <= before.AngelUpgrades {
			continue
		}
		a := s.Status
		if a.AngelPID != before.AngelPID {
			fmt.Fprintf(os.Stderr, "talker angel upgrade: another angel (pid %d) answers instead of pid %d; see angel.log\n", a.AngelPID, before.AngelPID)
			return 1
		}
		fmt.Printf("angel upgraded in place: pid %d, version %s -> %s; talker pid %d kept, %d connections held\n",
			a.AngelPID, before.AngelVersion, a.AngelVersion, a.TalkerPID, a.Held)
		return 0
	}
	fmt.Fprintf(os.Stderr, "talker angel upgrade: the angel (pid %d) did not come back upgraded within %v; if it still answers it runs the old binary (the exec was refused): see angel.log\n",
		before.AngelPID, *timeout)
	return 1
}
