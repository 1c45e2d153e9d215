package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTemplateReadsBackAsTheDefaults(t *testing.T) {
	s, probs := Parse([]byte(Template(nil)))
	if len(probs) > 0 {
		t.Fatalf("the template has problems: %v", probs)
	}
	if !reflect.DeepEqual(s, Default()) {
		t.Fatalf("template read back as\n%+v\nwant\n%+v", s, Default())
	}
	// Every setting is in it, with its help.
	tmpl := Template(nil)
	for _, k := range Keys() {
		_, name, ok := strings.Cut(k, ".")
		if !ok {
			name = k
		}
		if !strings.Contains(tmpl, "# "+name+" = ") {
			t.Errorf("template lacks %s", k)
		}
	}
}

func TestTemplateWritesTheFirstStartsFlagsAsValues(t *testing.T) {
	ov := Overrides{{Key: "listen", Flag: "listen", Value: "0.0.0.0:4444"}, {Key: "limits.max_line", Flag: "max-line", Value: "2000"}}
	tmpl := Template(ov)
	if !strings.Contains(tmpl, "\nlisten = [\"0.0.0.0:4444\"]\n") || !strings.Contains(tmpl, "\nmax_line = 2000\n") {
		t.Fatalf("flags not written as values:\n%s", tmpl)
	}
	s, probs := Parse([]byte(tmpl))
	if len(probs) > 0 || s.Listen[0] != "0.0.0.0:4444" || s.Limits.MaxLine != 2000 {
		t.Fatalf("read back %v %v %d", probs, s.Listen, s.Limits.MaxLine)
	}
}

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func problems(t *testing.T, path string, ov Overrides) []Problem {
	t.Helper()
	_, err := Read(path, ov)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Read(%s) = %v, want a config.Error", path, err)
	}
	return e.Problems
}

func TestProblemsAreReportedByLine(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		key, msg   string
	}{
		{"syntax", "name = \"Oak\"\nlisten = [\"a:1\"\n", 2, "", "expected a comma"},
		{"wrong type", "name = \"Oak\"\n\n[limits]\nmax_line = \"long\"\n", 4, "limits.max_line", "incompatible types"},
		{"unknown key with a hint", "name = \"Oak\"\n[limits]\nmax_lines = 10\n", 3, "limits.max_lines", "did you mean limits.max_line"},
		{"key in the wrong section", "max_line = 10\n", 1, "max_line", "did you mean limits.max_line"},
		{"invalid value", "# c\n[logins]\ntimeout = \"0s\"\n", 3, "logins.timeout", "more than 0s"},
		{"bad duration", "[reboot]\nready_timeout = \"soon\"\n", 2, "", ""},
		{"bad address", "listen = [\"localhost\"]\n", 1, "listen", "HOST:PORT"},
		{"bad message verb", "[messages]\nrebooted = \"done in %d\"\n", 2, "messages.rebooted", "%s"},
		{"control character", "[messages]\nrebooting = \"\\u001b[2J hi\"\n", 2, "messages.rebooting", "control"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probs := problems(t, write(t, c.text), nil)
			if len(probs) != 1 {
				t.Fatalf("problems %v, want one", probs)
			}
			p := probs[0]
			if p.Line != c.line || p.Key != c.key || !strings.Contains(p.Msg, c.msg) {
				t.Fatalf("problem %q (line %d key %q), want line %d key %q msg ~%q", p, p.Line, p.Key, c.line, c.key, c.msg)
			}
		})
	}
}

func TestOverridesWinOverTheFile(t *testing.T) {
	p := write(t, "name = \"Oak\"\n[limits]\nmax_line = 300\n")
	s, err := Read(p, Overrides{{Key: "limits.max_line", Flag: "max-line", Value: "400"}})
	if err != nil || s.Name != "Oak" || s.Limits.MaxLine != 400 {
		t.Fatalf("Read = %v, name %q, max_line %d", err, s.Name, s.Limits.MaxLine)
	}
	// A bad override is a problem too.
	if _, err := Read(p, Overrides{{Key: "limits.max_line", Flag: "max-line", Value: "x"}}); err == nil {
		t.Fatal("a bad override was accepted")
	}
}

func TestMissingFileIsTheDefaults(t *testing.T) {
	s, err := Read(filepath.Join(t.TempDir(), "none.toml"), nil)
	if err != nil || !reflect.DeepEqual(s, Default()) {
		t.Fatalf("Read = %+v, %v", s, err)
	}
}

func TestWriteNewNeverOverwritesOrFollowsALink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	if wrote, err := WriteNew(p, nil); !wrote || err != nil {
		t.Fatalf("WriteNew = %v, %v", wrote, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	os.WriteFile(p, []byte("name = \"Mine\"\n"), 0o600)
	if wrote, err := WriteNew(p, nil); wrote || err != nil {
		t.Fatalf("second WriteNew = %v, %v", wrote, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "name = \"Mine\"\n" {
		t.Fatal("overwrote the admin's file")
	}
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "link.toml")
	os.Symlink(target, link)
	if wrote, _ := WriteNew(link, nil); wrote {
		t.Fatal("followed a symlink")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("created the symlink's target")
	}
}

func TestDiffSaysWhatChangedAndWhen(t *testing.T) {
	a, b := Default(), Default()
	b.Limits.MaxLine = 2000
	b.Listen = []string{"127.0.0.1:4000", "127.0.0.1:4001"}
	b.Logins.IdleTimeout = Duration(time.Hour)
	b.Reboot.ReadyTimeout = Duration(7 * time.Second)
	got := Diff(a, b)
	want := []Change{
		{Key: "listen", Old: "127.0.0.1:4000", New: "127.0.0.1:4000,127.0.0.1:4001", When: Reboot},
		{Key: "limits.max_line", Old: "1000", New: "2000", When: Live},
		{Key: "logins.idle_timeout", Old: "0s", New: "1h", When: Live},
		{Key: "reboot.ready_timeout", Old: "5s", New: "7s", When: Reboot},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff =\n%+v\nwant\n%+v", got, want)
	}
}
