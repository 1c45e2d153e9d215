package cli

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"talker/server/store"
	"talker/server/talkertest"
)

// letterName is a player name for n: names are letters only.
func letterName(prefix string, n int) string {
	return prefix + string(rune('a'+n/26%26)) + string(rune('a'+n%26))
}

// TestBackupWhileServing: `talker backup` of a live talker whose 50
// players chat and save their titles and descriptions while new players
// register: the copy has every account that existed when it started,
// passes SQLite's integrity check and is private; --force is needed to
// replace it.
func TestBackupWhileServing(t *testing.T) {
	lt := startTalker(t)
	var before []string
	clients := make([]*talkertest.Client, 50)
	for i := range clients {
		name := letterName("Chat", i)
		clients[i] = lt.dial()
		clients[i].Register(name, "pw-"+name)
		before = append(before, name)
	}

	// Everyone talks, and saves a title or a description (writes to the
	// database), every 50 ms. Written straight to the connection: the
	// client's helpers may only fail the test from the test's goroutine.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var lines atomic.Int64
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				line := []string{"say chat %d from %d", "title the chatty %d/%d", "description " + strings.Repeat("words ", 100) + "%d %d"}[n%3]
				if _, err := c.Conn().Write([]byte(fmt.Sprintf(line, n, i) + "\r\n")); err != nil {
					return
				}
				lines.Add(1)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // the chatter is under way

	// The backup runs as the real command while players keep registering.
	out := filepath.Join(t.TempDir(), "copy.db")
	type result struct {
		out  string
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	started := time.Now()
	linesBefore := lines.Load()
	go func() {
		o, err := lt.cli("backup", "--out", out)
		done <- result{o, err, time.Since(started)}
	}()
	var res result
	during := 0
register:
	for ; ; during++ {
		select {
		case res = <-done:
			break register
		default:
		}
		lt.dial().Register(letterName("Late", during), "late-pw")
	}
	chatted := lines.Load() - linesBefore
	close(stop)
	wg.Wait()
	if res.err != nil {
		t.Fatalf("talker backup: %v\n%s", res.err, res.out)
	}
	t.Logf("backup took %v; meanwhile %d players registered and %d lines were sent", res.took, during, chatted)

	m := regexp.MustCompile(`backup written: (.*)\n  (\d+) bytes, (\d+) accounts, integrity ok, mode 0600\n`).FindStringSubmatch(res.out)
	if m == nil || m[1] != out {
		t.Fatalf("talker backup's output does not name %s with its size and accounts:\n%s", out, res.out)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup has mode %v, want 0600", fi.Mode().Perm())
	}
	if m[2] != fmt.Sprint(fi.Size()) {
		t.Errorf("output says %s bytes, the file has %d", m[2], fi.Size())
	}

	names := accountsIn(t, out)
	if m[3] != fmt.Sprint(len(names)) {
		t.Errorf("output says %s accounts, the copy has %d", m[3], len(names))
	}
	for _, n := range before {
		if !names[n] {
			t.Errorf("the backup lacks %s, registered before it started", n)
		}
	}
	if len(names) > len(before)+during {
		t.Errorf("the backup has %d accounts, more than the %d ever registered", len(names), len(before)+during)
	}

	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Log("sqlite3 is not installed: the copy is not opened with SQLite's own command-line tool")
	} else {
		got, err := exec.Command("sqlite3", out, "PRAGMA integrity_check; SELECT count(*) FROM players;").CombinedOutput()
		if want := fmt.Sprintf("ok\n%d\n", len(names)); err != nil || string(got) != want {
			t.Errorf("sqlite3 on the copy: %v %q, want %q", err, got, want)
		}
	}

	// An existing file is replaced only with --force, and a refused or
	// finished backup leaves no temporary file behind.
	if o, err := lt.cli("backup", "--out", out); err == nil || !strings.Contains(o, "already exists") {
		t.Errorf("backup over an existing file without --force: %v\n%s", err, o)
	}
	if o, err := lt.cli("backup", "--out", out, "--force"); err != nil {
		t.Errorf("backup --force: %v\n%s", err, o)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("after --force: %v %v", fi, err)
	}
	if n := len(accountsIn(t, out)); n != len(before)+during {
		t.Errorf("the replaced backup has %d accounts, want %d", n, len(before)+during)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Errorf("files beside the backup: %v", ents)
	}
}

// accountsIn opens a backup, checks its integrity, and returns its
// account names.
func accountsIn(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity check of %s: %q %v", path, ok, err)
	}
	rows, err := db.Query("SELECT name FROM players")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[n] = true
	}
	return names
}

// TestBackupAndRestore: a backup with the talker stopped goes to
// DATA/backups; after the database is lost (emptied: refused, never taken
// for a new one), the restore procedure the backup printed, run as
// printed, brings back every account.
func TestBackupAndRestore(t *testing.T) {
	la := newAngelDir(t)
	create := talkerCmd(t, "account", "create", "--data", la.data, "--name", "Keeper", "--hash-cost", "4")
	create.Stdin = strings.NewReader("keeper-pw\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("account create: %v\n%s", err, out)
	}
	if out, code := la.cli(append([]string{"start"}, la.args[2:]...)...); code != 0 {
		t.Fatalf("start: %s", out)
	}
	c := la.dialClient()
	c.Register("Later", "later-pw")
	c.Send("quit")
	c.WaitClosed()
	if out, code := la.cli("stop"); code != 0 || !strings.Contains(out, "talker stopped") {
		t.Fatalf("stop: %d %s", code, out)
	}

	start := time.Now()
	out, code := la.cli("backup")
	if code != 0 {
		t.Fatalf("backup: %d %s", code, out)
	}
	t.Logf("backup of the stopped talker took %v:\n%s", time.Since(start), out)
	m := regexp.MustCompile(`backup written: (.*)\n  \d+ bytes, 2 accounts, integrity ok`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup output:\n%s", out)
	}
	backups := filepath.Join(la.data, "backups")
	if filepath.Dir(m[1]) != backups || !regexp.MustCompile(`^talker-\d{8}-\d{6}\.db$`).MatchString(filepath.Base(m[1])) {
		t.Errorf("the backup is at %s, want %s/talker-YYYYMMDD-HHMMSS.db", m[1], backups)
	}
	for path, want := range map[string]os.FileMode{backups: 0o700, m[1]: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, fi, err, want)
		}
	}

	// The database is lost: emptied. It is refused, with what to do.
	db := filepath.Join(la.data, store.FileName)
	if err := os.Truncate(db, 0); err != nil {
		t.Fatal(err)
	}
	if out, code := la.cli("backup", "--out", filepath.Join(t.TempDir(), "x.db")); code == 0 ||
		!strings.Contains(out, db+" is empty") || !strings.Contains(out, "talker backup") || !strings.Contains(out, "mv "+db) {
		t.Errorf("backup of an emptied database: %d %s", code, out)
	}

	// Restore as printed: the shell runs the printed lines, with "talker"
	// this test's binary and the start line given this talker's flags.
	_, steps, ok := strings.Cut(out, "to restore it")
	if !ok {
		t.Fatalf("no restore procedure in:\n%s", out)
	}
	var script []string
	for _, l := range strings.Split(steps, "\n")[1:] {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "talker start") {
			l, _, _ = strings.Cut(l, "#")
			l += " " + strings.Join(la.args[2:], " ")
		}
		if l != "" {
			script = append(script, l)
		}
	}
	if len(script) != 4 || !strings.HasPrefix(script[0], "talker stop") || !strings.HasPrefix(script[3], "talker start") {
		t.Fatalf("restore procedure:\n%s", steps)
	}
	sh := exec.Command("sh", "-ec", `talker() { "$TALKER" "$@"; }`+"\n"+strings.Join(script, "\n"))
	sh.Env = append(os.Environ(), "TALKER="+la.good, "TALKER_TEST_MAIN=1")
	if got, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the restore procedure failed: %v\n%s\n%s", err, strings.Join(script, "\n"), got)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the restored database: %v %v, want mode 0600", fi, err)
	}
	la.dialClient().Login("Keeper", "keeper-pw")
	la.dialClient().Login("Later", "later-pw")
	if out, code := la.cli("stop"); code != 0 {
		t.Errorf("stop: %d %s", code, out)
	}
}
