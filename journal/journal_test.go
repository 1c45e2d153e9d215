package journal

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func read(t *testing.T, j *Journal, since uint64) []Entry {
	t.Helper()
	// Through a duplicate of the descriptor, as the angel's copy is read.
	dup, err := unix.Dup(j.FD())
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	es, err := ReadFD(dup, since)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func payloads(es []Entry) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("%d:%d:%s ", e.Tag, e.ID, e.Payload)
	}
	return s
}

func TestCommittedOnly(t *testing.T) {
	j, err := Create(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Append(KindSession, 1, []byte("a"))
	j.Append(KindSession, 2, []byte("b"))
	if got := read(t, j, 0); len(got) != 0 {
		t.Fatalf("uncommitted entries read: %s", payloads(got))
	}
	j.Commit()
	j.Append(KindSession, 1, []byte("c")) // not committed: a crash here loses only this
	if got := payloads(read(t, j, 0)); got != "0:1:a 0:2:b " {
		t.Fatalf("got %q", got)
	}
	f := Latest(read(t, j, 0))
	if string(f.Sessions[1]) != "a" || string(f.Sessions[2]) != "b" || f.System != nil {
		t.Fatalf("latest: %v %q", f.Sessions, f.System)
	}
	j.Append(KindOutput, 7, OutputEntry(100, []byte("hello")))
	j.Append(KindOutput, 7, OutputEntry(105, []byte(" world")))
	j.Commit()
	f = Latest(read(t, j, 0))
	if runs := f.Output[7]; len(runs) != 2 || runs[0].From != 100 || string(runs[0].Bytes) != "hello" || runs[1].From != 105 {
		t.Fatalf("output runs: %+v", runs)
	}
}

func TestTagsAndSwitch(t *testing.T) {
	j, err := Create(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Append(KindSession, 1, []byte("t0"))
	j.Checkpointed(1)
	j.Append(KindSession, 1, []byte("t1"))
	j.Commit()
	// The angel has checkpoint 1: only the entry made after it applies.
	if got := payloads(read(t, j, 1)); got != "1:1:t1 " {
		t.Fatalf("since 1: %q", got)
	}
	// Checkpoint 2 taken and the angel had Base (0): switch.
	if j.Base() != 0 {
		t.Fatalf("base %d", j.Base())
	}
	j.Switch(2)
	j.Append(KindSystem, 0, []byte("sys"))
	j.Append(KindSession, 3, []byte("t2"))
	j.Commit()
	// Both halves, older first.
	if got := payloads(read(t, j, 0)); got != "0:1:t0 1:1:t1 2:0:sys 2:3:t2 " {
		t.Fatalf("both halves: %q", got)
	}
	j.Checkpointed(3)
	j.Switch(4) // empties the first half
	j.Append(KindSession, 4, []byte("t4"))
	j.Commit()
	if got := payloads(read(t, j, 2)); got != "2:0:sys 2:3:t2 4:4:t4 " {
		t.Fatalf("after the second switch: %q", got)
	}
	if f := Latest(read(t, j, 0)); string(f.System) != "sys" {
		t.Fatalf("system %q", f.System)
	}
}

func TestFullHalfBreaksUntilTheAngelCatchesUp(t *testing.T) {
	j, err := Create(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	big := make([]byte, 3000)
	if !j.Append(KindSession, 1, big) {
		t.Fatal("first append refused")
	}
	j.Commit()
	if j.Append(KindSession, 2, big) {
		t.Fatal("an append past the half was taken")
	}
	dup, _ := unix.Dup(j.FD())
	defer unix.Close(dup)
	if _, err := ReadFD(dup, 0); !errors.Is(err, ErrBroken) {
		t.Fatalf("a broken journal read as %v", err)
	}
	j.Switch(1)
	if !j.Append(KindSession, 3, []byte("x")) {
		t.Fatal("no append after the switch")
	}
	j.Commit()
	// Still broken: the angel may not have checkpoint 1 yet.
	if _, err := ReadFD(dup, 0); !errors.Is(err, ErrBroken) {
		t.Fatalf("healing journal read as %v", err)
	}
	j.Switch(2)
	if got := payloads(read(t, j, 1)); got != "1:3:x " {
		t.Fatalf("healed: %q", got)
	}
}

func TestMalformed(t *testing.T) {
	j, err := Create(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Append(KindSession, 1, []byte("abc"))
	j.Commit()
	mem := append([]byte(nil), j.mem...)
	// A committed length past the entries: a torn or forged journal.
	mem[offCommitted] = 200
	if _, err := Parse(mem, 0); err == nil {
		t.Fatal("a forged length was accepted")
	}
	if _, err := Parse([]byte("garbage"), 0); err == nil {
		t.Fatal("garbage accepted")
	}
	mem = append([]byte(nil), j.mem...)
	mem[0] = 'X'
	if _, err := Parse(mem, 0); err == nil {
		t.Fatal("bad magic accepted")
	}
}

// TestAdopt: a generation continues a dead one's journal after its last
// committed entry (an uncommitted one is overwritten), with tags no lower
// than the dead one's newest, and the next switch works on it as on its
// own; a journal that stopped is not adopted.
func TestAdopt(t *testing.T) {
	dead, err := Create(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	dead.Checkpointed(4)
	dead.Append(KindSession, 1, []byte("a"))
	dead.Checkpointed(5)
	dead.Append(KindSession, 2, []byte("b"))
	dead.Commit()
	dead.Append(KindSession, 3, []byte("torn")) // never committed

	dup, err := unix.Dup(dead.FD())
	if err != nil {
		t.Fatal(err)
	}
	j, err := Adopt(dup, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Tag() != 5 {
		t.Fatalf("tag %d, want 5 (the newest entry's)", j.Tag())
	}
	j.Append(KindSession, 1, []byte("c"))
	j.Commit()
	if got := payloads(read(t, j, 5)); got != "5:2:b 5:1:c " {
		t.Fatalf("got %q", got)
	}
	// The angel's copy (the dead generation's descriptor) reads the same.
	if got := payloads(read(t, dead, 0)); got != "4:1:a 5:2:b 5:1:c " {
		t.Fatalf("through the dead generation's descriptor: %q", got)
	}
	j.Switch(6)
	j.Append(KindSystem, 0, []byte("s"))
	j.Commit()
	if got := payloads(read(t, j, 6)); got != "6:0:s " {
		t.Fatalf("after a switch: %q", got)
	}

	// A since past every tag: entries appended now are newer than it.
	dup2, _ := unix.Dup(j.FD())
	j2, err := Adopt(dup2, 9)
	if err != nil {
		t.Fatal(err)
	}
	if j2.Tag() != 9 {
		t.Fatalf("tag %d, want 9", j2.Tag())
	}
	j2.Close()

	full, err := Create(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	full.Append(KindSession, 1, make([]byte, 5000)) // stops it
	dup3, _ := unix.Dup(full.FD())
	if _, err := Adopt(dup3, 0); !errors.Is(err, ErrBroken) {
		t.Fatalf("a stopped journal adopted: %v", err)
	}
	unix.Close(dup3)
}

// TestRunningAndRerun: the last word on a session decides what a recovery
// makes of its line: a record ends it, a running entry is a first death
// with it, a rerun entry a second.
func TestRunningAndRerun(t *testing.T) {
	entries := []Entry{
		{Kind: KindRunning, ID: 1, Payload: []byte("say a")},
		{Kind: KindSession, ID: 1, Payload: []byte("rec")}, // finished
		{Kind: KindRerun, ID: 2, Payload: []byte("crash hang")},
		{Kind: KindRerun, ID: 3, Payload: []byte("look")},
		{Kind: KindSession, ID: 3, Payload: []byte("rec")}, // finished on its second try
		{Kind: KindRerun, ID: 4, Payload: []byte("x")},
		{Kind: KindRunning, ID: 4, Payload: []byte("y")}, // a later line, first try
	}
	f := Latest(entries)
	if _, ok := f.Running[1]; ok || f.Rerun[1] {
		t.Errorf("session 1 finished its line: running %q rerun %v", f.Running[1], f.Rerun[1])
	}
	if string(f.Running[2]) != "crash hang" || !f.Rerun[2] {
		t.Errorf("session 2 died on its second try: running %q rerun %v", f.Running[2], f.Rerun[2])
	}
	if _, ok := f.Running[3]; ok || f.Rerun[3] {
		t.Errorf("session 3 finished: running %q rerun %v", f.Running[3], f.Rerun[3])
	}
	if string(f.Running[4]) != "y" || f.Rerun[4] {
		t.Errorf("session 4 died on a first try: running %q rerun %v", f.Running[4], f.Rerun[4])
	}
}
