package angel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrashReasonFromAHugeDump: the reason line of a crash is found at the
// head of a dump of thousands of goroutines (it was looked for in the
// last 64 KiB only, and SIGSEGV and fatal-error crashes were logged with
// an empty reason), only new lines are read, and the crash log's excerpt
// starts with the dump's head.
func TestCrashReasonFromAHugeDump(t *testing.T) {
	dir := t.TempDir()
	stderr := filepath.Join(dir, "talker-stderr.log")
	old := "fatal error: an older crash, already reported\n"
	dump := "SIGSEGV: segmentation violation\nPC=0x40866e m=0 sigcode=0 addr=0xc9d\n\n" +
		strings.Repeat("goroutine 7 [chan receive]:\nruntime.gopark(0x0?, 0x0?)\n\t/usr/local/go/src/runtime/proc.go:462 +0xce\n\n", 20000)
	if err := os.WriteFile(stderr, []byte(old+dump), 0o600); err != nil {
		t.Fatal(err)
	}
	at := int64(len(old))
	got := crashReasons(stderr, &at)
	if len(got) != 1 || got[0] != "SIGSEGV: segmentation violation" {
		t.Fatalf("reasons %q", got)
	}
	if at != int64(len(old)+len(dump)) {
		t.Fatalf("at %d, want the end", at)
	}
	if again := crashReasons(stderr, &at); len(again) != 0 {
		t.Fatalf("read again: %q", again)
	}
	at = int64(len(old))
	head := readNew(stderr, &at)
	if !strings.HasPrefix(string(head), "SIGSEGV: segmentation violation") || len(head) != 64<<10 {
		t.Fatalf("crash log excerpt: %d bytes starting %q", len(head), head[:min(len(head), 40)])
	}
}
