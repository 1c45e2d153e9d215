package config

import "reflect"

// Change is one setting that differs between two Settings.
type Change struct {
	Key      string
	Old, New string
	When     When
}

// Diff lists the settings that differ from old to new, in the file's
// order.
func Diff(old, new Settings) []Change {
	var out []Change
	nf := fields(&new)
	for i, f := range fields(&old) {
		if !reflect.DeepEqual(f.v.Interface(), nf[i].v.Interface()) {
			out = append(out, Change{Key: f.Key, Old: f.text(), New: nf[i].text(), When: f.When})
		}
	}
	return out
}

// LiveFrom returns cur with every live setting taken from next: what a
// reload puts in effect (the others wait for the next reboot).
func LiveFrom(cur, next Settings) Settings {
	out := cur
	out.Listen = append([]string(nil), cur.Listen...)
	nf := fields(&next)
	for i, f := range fields(&out) {
		if f.When == Live {
			f.v.Set(nf[i].v)
		}
	}
	return out
}
