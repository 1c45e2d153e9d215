package logging

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The child writer: the test binary run again with this variable set is a
// second process appending to the same log (as the old and the new
// generation do during a reboot).
const childEnv = "LOGGING_TEST_CHILD" // "dir|name|id|lines|maxsize|keep"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(child(spec))
	}
	os.Exit(m.Run())
}

func child(spec string) int {
	p := strings.Split(spec, "|")
	id, _ := strconv.Atoi(p[2])
	n, _ := strconv.Atoi(p[3])
	maxSize, _ := strconv.ParseInt(p[4], 10, 64)
	keep, _ := strconv.Atoi(p[5])
	f, err := openFile(p[0], p[1], maxSize, keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	var go_ [1]byte
	os.Stdin.Read(go_[:]) // wait for the parent's go, so the writers overlap
	if err := writeLines(f, id, n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// A line is "w<id> <seq> xxx…", 100 bytes with its newline: one that is
// split or merged does not match.
var lineRE = regexp.MustCompile(`^w(\d+) (\d{6}) x+$`)

func line(id, seq int) []byte {
	s := fmt.Sprintf("w%d %06d ", id, seq)
	return []byte(s + strings.Repeat("x", 99-len(s)) + "\n")
}

// writeLines writes n lines, pausing now and then so that concurrent
// writers interleave through several rotations rather than one after the
// other.
func writeLines(w io.Writer, id, n int) error {
	for i := range n {
		if _, err := w.Write(line(id, i)); err != nil {
			return err
		}
		if i%20 == 19 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return nil
}

// logFiles returns the log's files, oldest first (name.N … name.1, name),
// and fails on anything else in the directory but the lock.
func logFiles(t *testing.T, dir, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var old []int
	current := false
	for _, e := range ents {
		switch n := e.Name(); {
		case n == name:
			current = true
		case n == "."+name+".lock":
		case strings.HasPrefix(n, name+"."):
			k, err := strconv.Atoi(strings.TrimPrefix(n, name+"."))
			if err != nil || k < 1 {
				t.Fatalf("unexpected file %s", n)
			}
			old = append(old, k)
		default:
			t.Fatalf("unexpected file %s", n)
		}
	}
	if !current {
		t.Fatalf("%s is missing", name)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(old)))
	var out []string
	for i, k := range old {
		if k != len(old)-i {
			t.Fatalf("old files are not numbered 1..%d: %v", len(old), old)
		}
		out = append(out, filepath.Join(dir, name+"."+strconv.Itoa(k)))
	}
	return append(out, filepath.Join(dir, name))
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in a partial line", path)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// Through the logger, as the talker writes: at the limit the file rotates,
// exactly Keep old files stay, and the lines in them and the current file
// are the last ones written, in order, none lost or split.
func TestRotation(t *testing.T) {
	const (
		lines   = 2000 // ~190 bytes each: ~380 KB, ~45 rotations at 8 KiB
		maxSize = 8 << 10
	)
	for _, keep := range []int{3, 100} {
		t.Run(fmt.Sprintf("keep=%d", keep), func(t *testing.T) {
			data := t.TempDir()
			log, f, err := Open(Options{DataDir: data, File: "talker.log", Level: zerolog.InfoLevel, Process: "test",
				MaxSize: maxSize, Keep: keep})
			if err != nil {
				t.Fatal(err)
			}
			pad := strings.Repeat("x", 100)
			for i := range lines {
				log.Info().Int("seq", i).Msg(pad)
			}
			f.Close()

			dir := filepath.Join(data, Dir)
			if m := mode(t, dir); m != 0o700 {
				t.Errorf("log directory mode %v, want 0700", m)
			}
			files := logFiles(t, dir, "talker.log")
			if old := len(files) - 1; keep == 3 && old != 3 || keep == 100 && (old < 30 || old >= 100) {
				t.Fatalf("%d old files with keep=%d", old, keep)
			}
			if m := mode(t, filepath.Join(dir, ".talker.log.lock")); m != 0o600 {
				t.Errorf("lock file mode %v, want 0600", m)
			}
			var seqs []int
			for i, path := range files {
				if m := mode(t, path); m != 0o600 {
					t.Errorf("%s mode %v, want 0600", path, m)
				}
				for _, l := range readLines(t, path) {
					var ev struct {
						Seq *int
						Msg string `json:"message"`
					}
					if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Seq == nil || ev.Msg != pad {
						t.Fatalf("%s: bad line %q", path, l)
					}
					seqs = append(seqs, *ev.Seq)
				}
				if i == len(files)-1 {
					break
				}
				// An old file has passed the limit, by at most the bytes
				// between two looks (an eighth of the limit) and a line.
				fi, _ := os.Stat(path)
				if fi.Size() < maxSize || fi.Size() > maxSize+maxSize/8+256 {
					t.Errorf("%s is %d bytes, want %d to %d", path, fi.Size(), maxSize, maxSize+maxSize/8+256)
				}
			}
			if seqs[len(seqs)-1] != lines-1 {
				t.Fatalf("last line %d, want %d", seqs[len(seqs)-1], lines-1)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] != seqs[i-1]+1 {
					t.Fatalf("line %d follows line %d: lines lost or out of order", seqs[i], seqs[i-1])
				}
			}
			if keep == 100 && len(seqs) != lines {
				t.Fatalf("%d lines kept, want all %d", len(seqs), lines)
			}
		})
	}
}

// Several writers on one path — two Files in this process, each used by two
// goroutines, and a child process — rotate it many times between them:
// every line of every writer is there once and whole, and every old file
// was rotated once it was full (not twice, by two writers that both saw it
// full) and then left by every writer within a look.
func TestConcurrentWriters(t *testing.T) {
	const (
		lines   = 3000 // per writer; 5 writers of 100-byte lines: 1.5 MB, ~45 rotations
		maxSize = 32 << 10
		keep    = 1000 // keep everything, to count it
		files   = 3    // Files writing: two here, one in the child
	)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{dir, "talker.log", "5",
		strconv.Itoa(lines), strconv.Itoa(maxSize), strconv.Itoa(keep)}, "|"))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if l, err := bufio.NewReader(stdout).ReadString('\n'); l != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", l, err)
	}

	var fs []*File
	for range 2 {
		f, err := openFile(dir, "talker.log", maxSize, keep)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for id := 1; id <= 4; id++ {
		wg.Go(func() {
			<-start
			errs <- writeLines(fs[(id-1)/2], id, lines)
		})
	}
	close(start)
	stdin.Write([]byte{1})
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fs {
		f.Close()
	}

	seen := map[[2]int]int{}
	paths := logFiles(t, dir, "talker.log")
	if len(paths)-1 < 20 {
		t.Fatalf("only %d rotations", len(paths)-1)
	}
	every := int64(maxSize / 8)
	for i, path := range paths {
		for _, l := range readLines(t, path) {
			m := lineRE.FindStringSubmatch(l)
			if m == nil || len(l) != 99 {
				t.Fatalf("%s: split or merged line %q", path, l)
			}
			id, _ := strconv.Atoi(m[1])
			seq, _ := strconv.Atoi(m[2])
			seen[[2]int{id, seq}]++
		}
		if i < len(paths)-1 {
			// Full when rotated; then each File adds at most what it
			// writes between two looks (an eighth of the limit, and a
			// line): twice that for slack.
			fi, _ := os.Stat(path)
			if limit := maxSize + 2*files*(every+100); fi.Size() < maxSize || fi.Size() > limit {
				t.Errorf("%s is %d bytes, want %d to %d", path, fi.Size(), maxSize, limit)
			}
		}
	}
	for id := 1; id <= 5; id++ {
		for seq := range lines {
			if n := seen[[2]int{id, seq}]; n != 1 {
				t.Fatalf("writer %d line %d found %d times", id, seq, n)
			}
		}
	}
	if len(seen) != 5*lines {
		t.Fatalf("%d distinct lines, want %d", len(seen), 5*lines)
	}
}

// A symbolic link at the log path is refused at open, and when it appears
// later (found at a look), the file in use carries on and says so.
func TestSymlinkRefused(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, Dir)
	os.Mkdir(dir, 0o700)
	target := filepath.Join(data, "victim")
	os.WriteFile(target, nil, 0o600)
	path := filepath.Join(dir, "talker.log")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(Options{DataDir: data, File: "talker.log"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Open over a symlink: %v, want a refusal", err)
	}

	os.Remove(path)
	f, err := openFile(dir, "talker.log", -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(line(1, 0))
	os.Rename(path, path+".moved")
	os.Symlink(target, path)
	f.checked = time.Time{} // time to look
	f.Write(line(1, 1))
	f.checked = time.Time{}
	f.Write(line(1, 2))
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Fatalf("wrote through the symlink: %q", b)
	}
	got := readLines(t, path+".moved")
	if len(got) != 4 || !strings.Contains(got[1], "symbolic link") || string(line(1, 2)) != got[3]+"\n" {
		t.Fatalf("the file in use has %q, want the lines and one error", got)
	}
}

// After an external rename (logrotate), Reopen writes to a new file at the
// path; without it, the writer follows the rename at its next look, as it
// follows a rotation by another writer.
func TestReopen(t *testing.T) {
	for _, how := range []string{"signal", "look", "rotated"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			f, err := openFile(dir, "talker.log", 1000, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			path := filepath.Join(dir, "talker.log")
			moved := path + ".1"
			f.Write(line(1, 0))
			switch how {
			case "signal":
				os.Rename(path, moved)
				if err := f.Reopen(); err != nil {
					t.Fatal(err)
				}
			case "look":
				os.Rename(path, moved)
				f.checked = time.Time{} // a second later
			case "rotated":
				other, err := openFile(dir, "talker.log", 1000, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				for i := range 10 { // 1000 bytes: full
					other.Write(line(2, i))
				}
				other.checked = time.Time{}
				other.Write(line(2, 10)) // rotates, then writes to the new file
				f.checked = time.Time{}
			}
			f.Write(line(1, 1))
			if got := readLines(t, path); len(got) == 0 || got[len(got)-1]+"\n" != string(line(1, 1)) {
				t.Fatalf("new file has %q", got)
			}
			if got := readLines(t, moved); len(got) == 0 || got[0]+"\n" != string(line(1, 0)) || slices.Contains(got, string(line(1, 1)[:99])) {
				t.Fatalf("renamed file has %q", got)
			}
			if m := mode(t, path); m != 0o600 {
				t.Fatalf("new file mode %v", m)
			}
		})
	}
}

// BenchmarkWrite is one 200-byte line written: "rotating" through File, at
// the default limit (so it rotates every ~100,000 lines), against "plain"
// appends to an *os.File — the difference is the cost of the looks.
func BenchmarkWrite(b *testing.B) {
	l := []byte(strings.Repeat("x", 199) + "\n")
	b.Run("rotating", func(b *testing.B) {
		f, err := openFile(b.TempDir(), "talker.log", 0, 1)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(l)))
		for b.Loop() {
			f.Write(l)
		}
	})
	b.Run("plain", func(b *testing.B) {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "talker.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(l)))
		for b.Loop() {
			f.Write(l)
		}
	})
}
