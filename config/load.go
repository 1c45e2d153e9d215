package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
)

// maxFileSize bounds what Read takes in: the template is about 4 KiB, and
// a file of megabytes is a mistake (a log written to the wrong path), not
// a configuration.
const maxFileSize = 1 << 20

// Problem is one thing wrong with a file, with the line it is on when that
// is known (0 otherwise).
type Problem struct {
	Line int
	Key  string
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is a file that cannot be used, and every reason why.
type Error struct {
	Path     string
	Problems []Problem
}

func (e *Error) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.String())
	}
	return e.Path + ": " + strings.Join(parts, "; ")
}

// Read reads the file at path over the defaults, applies the overrides
// (flags given on the command line) and validates the result. A missing
// file is not an error: the defaults (and overrides) are the settings. On
// error the Settings are not to be used; errors.As finds an *Error
// listing every problem found, by line.
func Read(path string, ov Overrides) (Settings, error) {
	s := Default()
	data, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		return s, err
	}
	var probs []Problem
	if data != nil {
		s, probs = Parse(data)
	}
	if err := ov.apply(&s); err != nil {
		return s, err
	}
	probs = append(probs, locate(data, Validate(s))...)
	if len(probs) > 0 {
		return s, &Error{Path: path, Problems: probs}
	}
	return s, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &Error{Path: path, Problems: []Problem{{Msg: fmt.Sprintf("larger than %d KiB: not a configuration file", maxFileSize>>10)}}}
	}
	return data, nil
}

var decodeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Parse decodes a file's contents over the defaults, without validating
// the values. Syntax errors, values of the wrong type and keys that are not
// settings are problems, with their lines.
func Parse(data []byte) (Settings, []Problem) {
	s := Default()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&s)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return s, []Problem{{Line: pe.Position.Line, Msg: strings.TrimSpace(pe.Message)}}
		}
		// Type mismatches come as plain errors that still name the line
		// and the key.
		if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return s, []Problem{{Line: line, Key: m[2], Msg: m[3]}}
		}
		return s, []Problem{{Msg: err.Error()}}
	}
	var probs []Problem
	for _, k := range md.Undecoded() {
		key := k.String()
		msg := "not a setting"
		if hint := nearest(key); hint != "" {
			msg += " (did you mean " + hint + "?)"
		}
		probs = append(probs, Problem{Key: key, Msg: msg})
	}
	return s, locate(data, probs)
}

// locate fills in the line of each problem that names a key, by finding
// the line that sets that key under its section header.
func locate(data []byte, probs []Problem) []Problem {
	lines := map[string]int{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[] ")
			if _, ok := lines[section]; !ok {
				lines[section] = n
			}
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		key := strings.Trim(strings.TrimSpace(name), `"`)
		if section != "" {
			key = section + "." + key
		}
		lines[key] = n
	}
	for i := range probs {
		if probs[i].Line == 0 {
			probs[i].Line = lines[probs[i].Key]
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs
}

// nearest suggests the setting a mistyped key was probably meant to be:
// one whose last part is the same (a key in the wrong section), or one a
// single edit away.
func nearest(key string) string {
	_, last, _ := strings.Cut(key, ".")
	if last == "" {
		last = key
	}
	for _, k := range Keys() {
		_, name, found := strings.Cut(k, ".")
		if !found {
			name = k
		}
		if name == last || name == key || editDistance(k, key) == 1 {
			return k
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Validate checks the values, whatever set them.
func Validate(s Settings) []Problem {
	var probs []Problem
	bad := func(key, format string, args ...any) {
		probs = append(probs, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(s.Name) == "" || len(s.Name) > 40 || hasControl(s.Name) {
		bad("name", "must be 1 to 40 printable characters")
	}
	if len(s.Listen) == 0 {
		bad("listen", "at least one address is needed")
	}
	seen := map[string]bool{}
	web := s.ListenWeb
	if len(web) == 1 && web[0] == WebListenOff {
		web = nil // web.go
	}
	web = append(web, s.ListenWebProxy...)
	for _, a := range append(append(append([]string(nil), s.Listen...), s.ListenProxy...), web...) {
		if seen[a] {
			bad("listen", "%q is listed twice", a)
		}
		seen[a] = true
		_, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			bad("listen", "%q is not HOST:PORT (e.g. \"0.0.0.0:4000\")", a)
		}
	}
	if s.HashCost < 4 || s.HashCost > 31 {
		bad("hash_cost", "%d is outside 4-31", s.HashCost)
	}
	l := s.Limits
	if l.MaxLine < 16 || l.MaxLine > 64<<10 {
		bad("limits.max_line", "%d is outside 16-65536", l.MaxLine)
	}
	if l.LineRate < 0 {
		bad("limits.line_rate", "cannot be negative")
	}
	if l.LineBurst < 1 {
		bad("limits.line_burst", "must be at least 1")
	}
	if l.ByteRate < 0 {
		bad("limits.byte_rate", "cannot be negative")
	}
	if l.MaxBacklog < 4<<10 {
		bad("limits.max_backlog", "%d is below 4096 bytes: players would be dropped by one screenful", l.MaxBacklog)
	}
	if l.MaxQueued < 1 {
		bad("limits.max_queued_lines", "must be at least 1")
	}
	if l.MaxPerAddress < 0 {
		bad("limits.max_per_address", "cannot be negative")
	}
	g := s.Logins
	if g.Timeout.D() <= 0 {
		bad("logins.timeout", "must be more than 0s")
	}
	if g.MaxFailures < 1 {
		bad("logins.max_failures", "must be at least 1")
	}
	if g.IdleTimeout < 0 {
		bad("logins.idle_timeout", "cannot be negative")
	}
	if g.NewAccounts < 0 {
		bad("logins.new_accounts_per_hour", "cannot be negative")
	}
	if g.LinkDead < 0 {
		bad("logins.link_dead", "cannot be negative")
	}
	if g.AnnounceAll < 0 {
		bad("logins.announce_all", "cannot be negative")
	}
	if s.Accounts.NewbieExpiry < 0 {
		bad("accounts.newbie_expiry", "cannot be negative")
	}
	if rt := s.Reboot.ReadyTimeout.D(); rt < 100e6 || rt > 600e9 {
		bad("reboot.ready_timeout", "%s is outside 100ms-10m", s.Reboot.ReadyTimeout)
	}
	m := s.Messages
	for key, msg := range map[string]string{"messages.rebooting": m.Rebooting, "messages.resetting": m.Resetting,
		"messages.restarting": m.Restarting, "messages.reboot_failed": m.RebootFailed,
		"messages.rebooted": m.Rebooted, "messages.recovered": m.Recovered} {
		if hasControl(msg) {
			bad(key, "contains a control character")
		}
		if len(msg) > 500 {
			bad(key, "longer than 500 bytes")
		}
	}
	for key, msg := range map[string]string{"messages.rebooted": m.Rebooted, "messages.recovered": m.Recovered} {
		if n, ok := verbs(msg); !ok || n > 1 {
			bad(key, "may hold one %%s (the pause) and %%%% for a percent sign, nothing else")
		}
	}
	a := s.Angel
	for key, d := range map[string]Duration{"angel.hang_timeout": a.HangTimeout, "angel.boot_timeout": a.BootTimeout,
		"angel.crash_window": a.CrashWindow, "angel.backoff": a.Backoff, "angel.backoff_max": a.BackoffMax} {
		if d.D() <= 0 {
			bad(key, "must be more than 0s")
		}
	}
	if a.GoodAfter < 0 {
		bad("angel.good_after", "cannot be negative")
	}
	if a.CrashLimit < 1 {
		bad("angel.crash_limit", "must be at least 1")
	}
	if a.Backoff > a.BackoffMax {
		bad("angel.backoff", "%s is more than backoff_max (%s)", a.Backoff, a.BackoffMax)
	}
	if s.Log.MaxSizeMB < 0 {
		bad("log.max_size_mb", "cannot be negative")
	}
	if s.Log.Keep < 1 || s.Log.Keep > 100 {
		bad("log.keep", "%d is outside 1-100", s.Log.Keep)
	}
	k := s.Keepalive
	for key, d := range map[string]Duration{"keepalive.nop_interval": k.NOPInterval, "keepalive.tcp_idle": k.TCPIdle} {
		if d != 0 && (d.D() < time.Second || d.D() > 24*time.Hour) {
			bad(key, "%s is outside 1s-24h (0s turns it off)", d)
		}
	}
	if d := k.TCPInterval.D(); d < time.Second || d > time.Hour {
		bad("keepalive.tcp_interval", "%s is outside 1s-1h", k.TCPInterval)
	}
	if k.TCPCount < 1 || k.TCPCount > 127 {
		bad("keepalive.tcp_count", "%d is outside 1-127", k.TCPCount)
	}
	ms := s.MSSP
	for key, v := range map[string]string{"mssp.hostname": ms.Hostname, "mssp.contact": ms.Contact, "mssp.website": ms.Website,
		"mssp.icon": ms.Icon, "mssp.discord": ms.Discord, "mssp.location": ms.Location, "mssp.language": ms.Language,
		"mssp.created": ms.Created, "mssp.status": ms.Status} {
		if hasControl(v) || len(v) > 200 {
			bad(key, "must be at most 200 printable characters")
		}
	}
	if ms.MinimumAge < 0 || ms.MinimumAge > 99 {
		bad("mssp.minimum_age", "%d is outside 0-99", ms.MinimumAge)
	}
	if ms.CrawlDelay < -1 {
		bad("mssp.crawl_delay", "must be -1 (the crawler's default) or a number of hours")
	}
	if ms.TLSPort < 0 || ms.TLSPort > 65535 {
		bad("mssp.tls_port", "%d is not a port", ms.TLSPort)
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Key < probs[j].Key })
	return probs
}

// verbs counts the %s in a message and says whether it has no other verb.
func verbs(msg string) (n int, ok bool) {
	for i := 0; i < len(msg); i++ {
		if msg[i] != '%' {
			continue
		}
		if i+1 >= len(msg) {
			return n, false
		}
		switch msg[i+1] {
		case 's':
			n++
		case '%':
		default:
			return n, false
		}
		i++
	}
	return n, true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0
}
