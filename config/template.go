package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Template is the file written on a talker's first start: every setting,
// each with its help as a comment. Settings at their default are
// commented out, so that a later build's better default reaches talkers
// that never changed it; those in set (the flags of the first start) are
// written as values.
func Template(set Overrides) string {
	s := Default()
	_ = set.apply(&s)
	var b strings.Builder
	b.WriteString(`# The talker's configuration. Lines starting with # are comments; a setting
# that is commented out has the default shown.
#
# Edit while the talker runs, then:
#   talker config check     says what is wrong, by line
#   talker config reload    applies what can change at once, and says which
#                           settings wait for the next 'talker reboot'
# A reboot re-reads this file; a file that does not check refuses the
# reload or the reboot and the talker carries on as it was. Flags given to
# 'talker run' or 'start' override this file.
`)
	section := ""
	for _, f := range fields(&s) {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n[%s]\n", section)
		}
		b.WriteString("\n")
		for _, line := range wrap(f.Help+" ("+string(f.When)+")", 74) {
			b.WriteString("# " + line + "\n")
		}
		prefix := "# "
		if set.Has(f.Key) {
			prefix = ""
		}
		fmt.Fprintf(&b, "%s%s = %s\n", prefix, f.Name, f.toml())
	}
	return b.String()
}

// WriteNew writes the template to path, 0600, unless a file (or a
// symlink) is already there: it never overwrites and never follows a
// link. It reports whether it wrote one.
func WriteNew(path string, set Overrides) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(Template(set)); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	return true, f.Close()
}

func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
