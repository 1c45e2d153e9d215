package config

import (
	"flag"
	"fmt"
	"strings"
)

// Overrides are settings given on the command line: they win over the
// file, at the start and at every reload and reboot after it (a reboot's
// new generation is started with the same arguments).
type Overrides []Override

// Override is one flag that was given.
type Override struct {
	Key, Flag, Value string
}

// Flags registers a flag for every setting that has one, on fs, and
// returns a function to call after fs.Parse that lists the ones given.
func Flags(fs *flag.FlagSet) func() Overrides {
	scratch := Default()
	byFlag := map[string]field{}
	for _, f := range fields(&scratch) {
		if f.Flag == "" {
			continue
		}
		byFlag[f.Flag] = f
		fs.Var(flagValue{f}, f.Flag, f.Help+" (file: "+f.Key+")")
	}
	return func() Overrides {
		var ov Overrides
		fs.Visit(func(fl *flag.Flag) {
			if f, ok := byFlag[fl.Name]; ok {
				ov = append(ov, Override{Key: f.Key, Flag: fl.Name, Value: fl.Value.String()})
			}
		})
		return ov
	}
}

// Args gives the overrides back as command-line arguments.
func (ov Overrides) Args() []string {
	var args []string
	for _, o := range ov {
		args = append(args, "--"+o.Flag+"="+o.Value)
	}
	return args
}

// Has says whether key was given on the command line.
func (ov Overrides) Has(key string) bool {
	for _, o := range ov {
		if o.Key == key {
			return true
		}
	}
	return false
}

func (ov Overrides) apply(s *Settings) error {
	all := fields(s)
	for _, o := range ov {
		for _, f := range all {
			if f.Key == o.Key {
				if err := f.set(o.Value); err != nil {
					return fmt.Errorf("--%s: %w", o.Flag, err)
				}
			}
		}
	}
	return nil
}

// flagValue lets the flag package parse a setting.
type flagValue struct{ f field }

func (v flagValue) String() string {
	if !v.f.v.IsValid() {
		return ""
	}
	return v.f.text()
}

func (v flagValue) Set(s string) error { return v.f.set(s) }

// Lookup gives the current value of key in s as the flags would write it,
// and whether key is a setting.
func Lookup(s Settings, key string) (string, bool) {
	for _, f := range fields(&s) {
		if f.Key == key {
			return f.text(), true
		}
	}
	return "", false
}

// Show lists every setting of s, one "key = value" a line, with a note on
// those the overrides set.
func Show(s Settings, ov Overrides) string {
	var b strings.Builder
	for _, f := range fields(&s) {
		fmt.Fprintf(&b, "%s = %s", f.Key, f.toml())
		for _, o := range ov {
			if o.Key == f.Key {
				fmt.Fprintf(&b, "    (from --%s)", o.Flag)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
