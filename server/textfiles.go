package server

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"talker/server/store"
	"talker/server/text"
)

// The text files admins edit while the talker runs, in DATA/text: the
// greeting, the message of the day, the rules and extra help topics
// (help/<topic>.txt). They are files, not database rows, so that an admin
// can change them with an editor and no command, and nothing about them is
// carried across a reboot: the new generation reads the same files.
const (
	textDir          = "text"
	textGreeting     = "greeting.txt"
	textMOTD         = "motd.txt"
	textRules        = "rules.txt"
	textHelpDir      = "help"
	maxTextFile      = 64 << 10        // larger files are cut: nobody reads more at login
	textRecheckEvery = 1 * time.Second // a file is stat'ed at most this often
)

// textFiles caches the text files for the World's goroutine (it is not safe
// for concurrent use). A file is re-stat'ed at most once a second and read
// again only when its mtime, size or inode changed, so that 10,000 logins
// cost a handful of stats, not 10,000 reads.
type textFiles struct {
	dir   string
	now   func() time.Time
	log   zerolog.Logger
	files map[string]*textFile // by path under dir: the fixed files and listed help topics, never a typed name

	topicList    []string // help topics found at the last listing
	topicsAt     time.Time
	topicsWarned string
}

// textFile is one file's cached state.
type textFile struct {
	checked time.Time
	key     fileKey
	ok      bool   // text is the file's (false: missing or unreadable, use the default)
	text    string // cleaned
	warned  string // the error last logged, so that a broken file is logged once
}

// fileKey tells whether a file changed since it was read.
type fileKey struct {
	mtime time.Time
	size  int64
	ino   uint64
}

func newTextFiles(dir string, now func() time.Time, log zerolog.Logger) *textFiles {
	return &textFiles{dir: dir, now: now, log: log, files: map[string]*textFile{}}
}

// get returns the cleaned text of the file at rel (under the text
// directory), or def when it is missing or unreadable.
func (t *textFiles) get(rel, def string) string {
	if s, ok := t.load(rel); ok {
		return s
	}
	return def
}

// load returns the file's cleaned text and whether it could be read,
// touching the disk only when the last check is a second old.
func (t *textFiles) load(rel string) (string, bool) {
	f := t.files[rel]
	if f == nil {
		f = &textFile{}
		t.files[rel] = f
	}
	now := t.now()
	if f.checked.IsZero() || now.Sub(f.checked) >= textRecheckEvery || now.Before(f.checked) {
		f.checked = now
		t.refresh(rel, f)
	}
	return f.text, f.ok
}

// refresh re-stats a file and reads it if it changed.
func (t *textFiles) refresh(rel string, f *textFile) {
	path := filepath.Join(t.dir, rel)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		*f = textFile{checked: f.checked} // missing is normal: the built-in default
		return
	}
	if err == nil && f.ok && keyOf(fi) == f.key {
		return
	}
	var s string
	var key fileKey
	var cut bool
	if err == nil {
		s, key, cut, err = readTextFile(path)
	}
	if err != nil {
		if msg := err.Error(); msg != f.warned {
			t.log.Warn().Err(err).Str("file", path).Msg("text file unreadable: using the built-in text")
			f.warned = msg
		}
		f.ok, f.key, f.text = false, fileKey{}, ""
		return
	}
	if cut {
		t.log.Warn().Str("file", path).Int("max_bytes", maxTextFile).Msg("text file too long: cut")
	}
	f.ok, f.key, f.text, f.warned = true, key, s, ""
}

// readTextFile reads and cleans at most maxTextFile bytes of a regular
// file. O_NONBLOCK: a FIFO put in its place must not hang the World.
func readTextFile(path string) (s string, key fileKey, cut bool, err error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", key, false, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return "", key, false, err
	}
	if !fi.Mode().IsRegular() {
		return "", key, false, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxTextFile+1))
	if err != nil {
		return "", key, false, err
	}
	if cut = len(b) > maxTextFile; cut {
		b = b[:maxTextFile]
		if i := strings.LastIndexByte(string(b), '\n'); i > 0 {
			b = b[:i] // cut at a line's end, not in a character
		}
	}
	return cleanTextFile(b), keyOf(fi), cut, nil
}

func keyOf(fi fs.FileInfo) fileKey {
	k := fileKey{mtime: fi.ModTime(), size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.ino = st.Ino
	}
	return k
}

// cleanTextFile turns a file's bytes into text println can send: line
// endings become "\n" (println turns them into the talker's CR LF), tabs
// spaces, and every other control character is dropped by the same
// function that guards all output (so a file may use colour codes, which
// are plain text, but never send an escape sequence of its own). The
// file's last line ending is dropped: println ends the last line.
func cleanTextFile(b []byte) string {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = expandTabs(s)
	s = text.StripControls(s)
	return strings.TrimSuffix(s, "\n")
}

// expandTabs replaces tabs by spaces up to the next multiple of 8 columns,
// so that tabulated text in a file keeps its columns.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\n':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

// validTopic reports whether name can be a help topic: lowercase letters,
// digits and '-', which also keeps any path out of a typed topic.
func validTopic(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// topics lists the help topics in DATA/text/help, sorted, re-reading the
// directory at most once a second. Only files listed here are ever looked
// up, so typing 'help <anything>' cannot grow the cache.
func (t *textFiles) topics() []string {
	now := t.now()
	if !t.topicsAt.IsZero() && now.Sub(t.topicsAt) < textRecheckEvery && !now.Before(t.topicsAt) {
		return t.topicList
	}
	t.topicsAt = now
	path := filepath.Join(t.dir, textHelpDir)
	entries, err := os.ReadDir(path)
	switch {
	case err == nil || errors.Is(err, fs.ErrNotExist):
		t.topicsWarned = ""
	case err.Error() != t.topicsWarned: // logged once, not every second
		t.log.Warn().Err(err).Str("dir", path).Msg("help topics unreadable")
		t.topicsWarned = err.Error()
	}
	t.topicList = t.topicList[:0]
	for _, e := range entries { // sorted by name
		if name, ok := strings.CutSuffix(e.Name(), ".txt"); ok && validTopic(name) {
			t.topicList = append(t.topicList, name)
		}
	}
	return t.topicList
}

// topic returns a help topic's text, if DATA/text/help has it.
func (t *textFiles) topic(name string) (string, bool) {
	for _, n := range t.topics() {
		if n == name {
			return t.load(filepath.Join(textHelpDir, name+".txt"))
		}
	}
	return "", false
}

// textVars fills in the variables a greeting or motd may use.
func (w *World) textVars(s string) string {
	return strings.ReplaceAll(s, "{talker}", w.cfg.Name)
}

// showText sends a text file's content, or nothing for an empty one (an
// admin's way to turn the motd off).
func showText(s *Session, t string) {
	if t != "" {
		s.println(t)
	}
}

// motd shows the message of the day to a player who has just logged in.
func (w *World) motd(s *Session) {
	showText(s, w.textVars(w.texts.get(textMOTD, "")))
}

// defaultRules is what 'rules' shows when DATA/text/rules.txt is missing.
const defaultRules = "This talker has no written rules yet. Be kind; a member of staff will tell you if something is not welcome."

func (w *World) cmdRules(s *Session, _ string) {
	showText(s, w.texts.get(textRules, defaultRules))
}

// cmdHelp is 'help': a topic file in DATA/text/help wins over a command's
// built-in help (an admin's override), and the index lists the topics that
// are not commands after the commands.
func (w *World) cmdHelp(s *Session, args string) {
	fields := strings.Fields(args)
	if len(fields) == 0 {
		w.help(s, "")
		var extra []string
		for _, n := range w.texts.topics() {
			if w.commands.byWord[n] == nil {
				extra = append(extra, n)
			}
		}
		if len(extra) > 0 {
			s.println("Other topics (type 'help <topic>'):")
			s.println("  " + strings.Join(extra, " "))
		}
		return
	}
	word := strings.ToLower(fields[0])
	name := word
	if c := w.commands.byWord[word]; c != nil {
		if c.minRank > s.Player.Rank {
			w.help(s, args) // no override shows a command to those who may not use it
			return
		}
		name = c.name
	} else if _, ok := w.texts.topic(word); !ok {
		// A shortcut or the start of a command's name: that command's override.
		var c *command
		if len(word) == 1 {
			c = w.commands.byShort[word[0]]
		}
		if c == nil {
			c, _ = w.commands.lookup(word, s.Player.Rank)
		}
		if c != nil && c.minRank <= s.Player.Rank {
			name = c.name
		}
	}
	if validTopic(name) {
		if t, ok := w.texts.topic(name); ok {
			showText(s, t)
			return
		}
	}
	w.help(s, args)
}

// defaultTextFiles are written to DATA/text on a new talker's first start,
// as examples to edit. Players read them: how to edit them is in the
// README, not in the motd.
var defaultTextFiles = []struct{ name, content string }{
	{textGreeting, defaultGreeting + "\n"},
	{textMOTD, `^YWelcome to {talker}!^N

Type 'rules' to read the rules, 'help' for the commands and 'who' to see
who is around. Be kind, and have fun.
`},
	{textRules, `^HThe rules^N

1. Be kind. Disagree with ideas, not people.
2. No harassment, threats or hate, here or by tell.
3. Keep it legal, and keep other people's private details private.
4. No flooding: do not paste screenfuls of text or repeat yourself.
5. One account per person. Do not pretend to be someone else.
6. Staff have the last word; if you think they got it wrong, tell an admin.
`},
	{"README.txt", `Text files for the talker. They are read while the talker runs: edit one,
and the next player to see it gets the new text (within a second), no reboot.

  greeting.txt   shown to a new connection before the name prompt
  motd.txt       the message of the day, shown after logging in
  rules.txt      shown by the 'rules' command
  help/NAME.txt  'help NAME' shows the file: an extra topic (listed at the
                 end of 'help'), or, named after a command, its own help
                 text instead of the built-in one. NAME: lowercase letters,
                 digits and '-'; other files in help/ are ignored.

A missing file means the built-in text; an empty motd.txt shows nothing.
{talker} in greeting.txt and motd.txt becomes the talker's name.
Files are UTF-8, at most 64 KiB (longer ones are cut). Control characters
are removed; lines are wrapped to each player's screen.

Colour codes (players with colour on see colour, the others plain text):
  ^r red  ^g green  ^y yellow  ^b blue  ^p purple  ^c cyan  ^w white
  capital letters are the bright colours (^R, ^G, ...)
  ^H bold  ^U underline  ^N back to normal  ^^ a caret
`},
}

// createTextFiles is the first start's setup step for DATA/text: the
// directory (0700) and the example files (0600). An existing directory,
// or anything in its place (a symlink among them), is left alone: it is
// the admin's. Files are created with O_EXCL|O_NOFOLLOW so that a symlink
// planted in the directory is never followed and no file is overwritten.
func createTextFiles(cfg *Config, _ *store.Store) error {
	dir := filepath.Join(cfg.DataDir, textDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			cfg.Log.Info().Str("dir", dir).Msg("text directory already there: not writing the example text files")
			return nil
		}
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, textHelpDir), 0o700); err != nil {
		return err
	}
	for _, f := range defaultTextFiles {
		if err := createExclusive(filepath.Join(dir, f.name), f.content); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// createExclusive writes a new 0600 file, failing if anything (a file, a
// symlink, dangling or not) is already at path.
func createExclusive(path, content string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.WriteString(content)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}
