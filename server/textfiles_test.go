package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// textClock is a clock the test can move forward, to get past the
// once-a-second re-stat of the text files without sleeping.
type textClock struct{ off atomic.Int64 }

func (c *textClock) now() time.Time            { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *textClock) advance(d time.Duration)   { c.off.Add(int64(d)) }
func (c *textClock) config() func(cfg *Config) { return func(cfg *Config) { cfg.Now = c.now } }

func writeText(t *testing.T, ts *testServer, rel, content string) {
	t.Helper()
	path := filepath.Join(ts.cfg.DataDir, textDir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTextFilesGreetingFromFileAndEdited(t *testing.T) {
	clock := &textClock{}
	ts := startServer(t, clock.config())
	dir := filepath.Join(ts.cfg.DataDir, textDir)

	// The first start wrote the examples, private to the talker's user.
	for _, name := range []string{"", textGreeting, textMOTD, textRules, "README.txt", textHelpDir} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("setup did not create text/%s: %v", name, err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("text/%s has mode %v, want no access for others", name, perm)
		}
	}
	c := ts.dial()
	c.Expect("enter your name: ")
	if want := "\r\nWelcome to Talker!\r\nNew here? Type the name you would like to be known by. Type 'quit' to leave.\r\n\r\nPlease enter your name: "; !bytes.Contains(c.Raw(), []byte(want)) {
		t.Errorf("default greeting (from the file setup wrote) not sent as before:\n%q", c.Raw())
	}

	writeText(t, ts, textGreeting, "Hello from {talker}, version one.\n")
	clock.advance(2 * time.Second)
	c = ts.dial()
	got := c.Expect("enter your name: ")
	if !strings.Contains(got, "Hello from Talker, version one.\nPlease enter your name: ") || strings.Contains(got, "Welcome to") {
		t.Errorf("greeting from the file not shown:\n%q", got)
	}

	// Edited while the talker runs: the next connection sees the new text.
	writeText(t, ts, textGreeting, "Version two\tis here.\n")
	clock.advance(2 * time.Second)
	c = ts.dial()
	got = c.Expect("enter your name: ")
	if !strings.Contains(got, "Version two     is here.") || strings.Contains(got, "version one") {
		t.Errorf("edited greeting not shown:\n%q", got)
	}

	// Removed: the built-in greeting.
	if err := os.Remove(filepath.Join(dir, textGreeting)); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Second)
	c = ts.dial()
	if got = c.Expect("enter your name: "); !strings.Contains(got, "Welcome to Talker!") {
		t.Errorf("built-in greeting not shown for a missing file:\n%q", got)
	}
}

func TestTextFilesMotdAndRules(t *testing.T) {
	clock := &textClock{}
	ts := startServer(t, clock.config())
	writeText(t, ts, textMOTD, "Today on {talker}: ^Rtea^N at five.\n")
	clock.advance(2 * time.Second)
	alice := ts.dial()
	got := alice.Register("Alice", "secret-alice")
	motd := strings.Index(got, "Today on Talker: tea at five.")
	if motd < 0 || motd < strings.Index(got, "Your account has been created") || motd > strings.Index(got, "Exits:") {
		t.Errorf("motd not shown between the welcome and the room:\n%s", got)
	}

	// The rules setup wrote, then the admin's, then the built-in ones.
	alice.Send("rules")
	alice.Expect("The rules")
	alice.Expect("1. Be kind.")
	writeText(t, ts, textRules, "Rule one: no spoilers.\n")
	clock.advance(2 * time.Second)
	alice.Send("rules")
	alice.Expect("Rule one: no spoilers.")
	if err := os.Remove(filepath.Join(ts.cfg.DataDir, textDir, textRules)); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Second)
	alice.Send("rules")
	alice.Expect("This talker has no written rules yet.")

	// A returning player gets the motd too; an empty one shows nothing.
	writeText(t, ts, textMOTD, "")
	clock.advance(2 * time.Second)
	alice.Send("quit")
	alice.WaitClosed()
	again := ts.dial()
	if got := again.Login("Alice", "secret-alice"); strings.Contains(got, "Today on") || strings.Contains(got, "message of the day") {
		t.Errorf("an empty motd.txt still showed something:\n%s", got)
	}
}

func TestTextFilesHelpTopics(t *testing.T) {
	clock := &textClock{}
	ts := startServer(t, clock.config())
	writeText(t, ts, "help/guide.txt", "The newbie guide: say hello.\n")
	writeText(t, ts, "help/newbies.txt", "Staff: how to close registration.\n")
	writeText(t, ts, "help/who.txt", "Our own words about who.\n")
	writeText(t, ts, "help/Bad_Name.txt", "never shown\n")
	writeText(t, ts, "help/notes.md", "never shown\n")
	clock.advance(2 * time.Second)
	alice := ts.newPlayer("Alice")

	alice.Send("pager off") // the whole index at once
	alice.Expect("Your pager is off.")
	alice.Send("help")
	alice.Expect("Other topics (type 'help <topic>'):")
	rest := alice.Quiet(300 * time.Millisecond)
	if !strings.Contains(rest, "guide") || strings.Contains(rest, "who") || strings.Contains(rest, "newbies") ||
		strings.Contains(rest, "Bad") || strings.Contains(rest, "notes") {
		t.Errorf("help lists the wrong extra topics: %q (want guide only)", rest)
	}
	alice.Send("help guide")
	alice.Expect("The newbie guide: say hello.")
	// An override of a staff command's help is not shown to a newbie.
	alice.Send("help newbies")
	if got := alice.Expect("There is no help on 'newbies'"); strings.Contains(got, "Staff:") {
		t.Errorf("a newbie saw the help of a staff command:\n%s", got)
	}
	for _, typed := range []string{"who", "w", "WHO"} {
		alice.Send("help " + typed)
		got := alice.Expect("Our own words about who.")
		if strings.Contains(got, "Usage: who") {
			t.Errorf("help %s showed the built-in help besides the override:\n%s", typed, got)
		}
	}
	alice.Send("help tell")
	alice.Expect("Usage: tell")
	for _, typed := range []string{"bad_name", "../help/guide", "notes"} {
		alice.Send("help " + typed)
		alice.Expect("There is no help on")
	}

	// A topic removed while the talker runs is gone.
	if err := os.Remove(filepath.Join(ts.cfg.DataDir, textDir, "help/guide.txt")); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Second)
	alice.Send("help guide")
	alice.Expect("There is no help on 'guide'")
}

func TestTextFilesControlCharactersNotSentRaw(t *testing.T) {
	clock := &textClock{}
	ts := startServer(t, clock.config())
	writeText(t, ts, textGreeting, "\x1b[2J\x1b]0;owned\x07Hi\x7f\x00 there\r\nsecond\rthird\x9b31m^Rred\n")
	clock.advance(2 * time.Second)
	c := ts.dial()
	c.Expect("enter your name: ")
	raw := c.Raw()
	if !bytes.Contains(raw, []byte("[2J]0;ownedHi there\r\nsecond\r\nthird?31mred\r\nPlease enter")) {
		t.Errorf("greeting not cleaned as expected:\n%q", raw)
	}
	for _, b := range []byte{0x1b, 0x07, 0x7f, 0x9b} {
		if bytes.IndexByte(raw, b) >= 0 {
			t.Errorf("byte %#x from a text file reached the client", b)
		}
	}
}

func TestTextFilesSymlinkNotFollowed(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	// Planted before the first start: the setup must not write through it.
	if err := os.Symlink(elsewhere, filepath.Join(dir, textDir)); err != nil {
		t.Fatal(err)
	}
	ts := startServerIn(t, dir)
	ts.dial().Expect("enter your name: ")
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("setup wrote %d entries through the symlink at DATA/text", len(entries))
	}
	if fi, err := os.Lstat(filepath.Join(dir, textDir)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}

	// A file symlink planted where an example goes is not followed either.
	target := filepath.Join(elsewhere, "victim")
	if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "motd.txt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := createExclusive(link, "overwritten"); err == nil {
		t.Error("createExclusive wrote through a symlink")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the symlink's target was changed: %q", b)
	}
}

// TestTextFilesCache checks the cache itself: at most one stat a second,
// a read only on change, long files cut, a broken file logged once.
func TestTextFilesCache(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	now := time.Unix(1_000_000, 0)
	tf := newTextFiles(dir, func() time.Time { return now }, zerolog.New(&logs))
	path := filepath.Join(dir, "motd.txt")

	if got := tf.get("motd.txt", "default"); got != "default" {
		t.Fatalf("missing file: got %q", got)
	}
	os.WriteFile(path, []byte("one\r\n"), 0o600)
	if got := tf.get("motd.txt", "default"); got != "default" {
		t.Errorf("re-stat'ed within the second: got %q", got)
	}
	now = now.Add(time.Second)
	if got := tf.get("motd.txt", "default"); got != "one" {
		t.Errorf("after a second: got %q, want %q", got, "one")
	}
	os.WriteFile(path, []byte("two, longer\n"), 0o600)
	if got := tf.get("motd.txt", "default"); got != "one" {
		t.Errorf("re-read within the second: got %q", got)
	}
	now = now.Add(time.Second)
	if got := tf.get("motd.txt", "default"); got != "two, longer" {
		t.Errorf("changed file: got %q", got)
	}

	long := strings.Repeat("a line of forty characters, more or les\n", maxTextFile/40+10)
	os.WriteFile(path, []byte(long), 0o600)
	now = now.Add(time.Second)
	if got := tf.get("motd.txt", ""); len(got) > maxTextFile || len(got) < maxTextFile-100 || !strings.HasSuffix(got, "les") {
		t.Errorf("long file: got %d bytes ending %q, want it cut at a line end under %d", len(got), got[max(0, len(got)-5):], maxTextFile)
	}
	if !strings.Contains(logs.String(), "too long") {
		t.Error("a cut file was not logged")
	}

	// Unreadable (a directory where the file goes): the default, logged once.
	os.Remove(path)
	os.Mkdir(path, 0o700)
	for i := 0; i < 3; i++ {
		now = now.Add(time.Second)
		if got := tf.get("motd.txt", "default"); got != "default" {
			t.Errorf("unreadable file: got %q", got)
		}
	}
	if n := strings.Count(logs.String(), "unreadable"); n != 1 {
		t.Errorf("an unreadable file was logged %d times, want once", n)
	}
}

func TestTextFilesClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain\n":                           "plain",
		"a\r\nb\rc\n\n":                     "a\nb\nc\n",
		"\x1b[31mred\x1b[0m ^Rcode^N\n":     "[31mred[0m ^Rcode^N",
		"tab\there\n\tx":                    "tab     here\n        x",
		"bell\x07 del\x7f nul\x00 c1\u009b": "bell del nul c1",
	} {
		if got := cleanTextFile([]byte(in)); got != want {
			t.Errorf("cleanTextFile(%q) = %q, want %q", in, got, want)
		}
	}
	for name, want := range map[string]bool{"newbies": true, "a-1": true, "": false, "Who": false, "../x": false, "a.b": false, "a_b": false} {
		if validTopic(name) != want {
			t.Errorf("validTopic(%q) = %v", name, !want)
		}
	}
}
