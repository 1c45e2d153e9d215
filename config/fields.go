package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// field is one setting found by walking Settings: its dotted key
// ("limits.max_line"), its flag, help and when, and where its value is.
type field struct {
	Key     string
	Section string // "" for top-level keys
	Name    string // the key within its section
	Flag    string
	Help    string
	When    When
	v       reflect.Value
}

// fields lists every setting of s in declaration order, addressable so
// that flags and overrides can set them.
func fields(s *Settings) []field {
	var out []field
	walk(reflect.ValueOf(s).Elem(), "", "", &out)
	return out
}

var durationType = reflect.TypeOf(Duration(0))

func walk(v reflect.Value, section string, when When, out *[]field) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := sf.Tag.Get("toml")
		w := When(sf.Tag.Get("when"))
		if w == "" {
			w = when
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			walk(v.Field(i), name, w, out)
			continue
		}
		key := name
		if section != "" {
			key = section + "." + name
		}
		*out = append(*out, field{Key: key, Section: section, Name: name, Flag: sf.Tag.Get("flag"),
			Help: sf.Tag.Get("help"), When: w, v: v.Field(i)})
	}
}

// Keys lists every setting's dotted key, in the file's order.
func Keys() []string {
	var keys []string
	s := Default()
	for _, f := range fields(&s) {
		keys = append(keys, f.Key)
	}
	return keys
}

// set parses a flag-style string into the field: numbers, durations
// ("3m"), strings, and lists as comma-separated values.
func (f field) set(s string) error {
	switch {
	case f.v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.v.SetInt(int64(d))
	case f.v.Kind() == reflect.String:
		f.v.SetString(s)
	case f.v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.v.SetInt(int64(n))
	case f.v.Kind() == reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.v.SetFloat(n)
	case f.v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.v.SetBool(b)
	case f.v.Kind() == reflect.Slice && f.v.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		f.v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("setting %s has a type the flags cannot set", f.Key)
	}
	return nil
}

// text shows the field's value the way the flags take it.
func (f field) text() string {
	if f.v.Type() == durationType {
		return Duration(f.v.Int()).String()
	}
	if f.v.Kind() == reflect.Slice {
		return strings.Join(f.v.Interface().([]string), ",")
	}
	return fmt.Sprint(f.v.Interface())
}

// toml writes the field's value as a TOML value.
func (f field) toml() string {
	switch {
	case f.v.Type() == durationType:
		return quote(Duration(f.v.Int()).String())
	case f.v.Kind() == reflect.String:
		return quote(f.v.String())
	case f.v.Kind() == reflect.Slice:
		var parts []string
		for _, s := range f.v.Interface().([]string) {
			parts = append(parts, quote(s))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(f.v.Interface())
}

// quote writes a TOML basic string. TOML's escapes are JSON's, and
// strconv.Quote's are a superset that differs only for bytes a message
// should not contain anyway (Validate refuses control characters), so
// this escapes just backslash and double quote.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
