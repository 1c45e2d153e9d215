package telnet

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// GMCP (Generic MUD Communication Protocol, option 201): the framing of its
// messages and the Core package, which is negotiation rather than content
// (what the client is, which modules it wants, pings). The talker's own
// messages (Char, Comm, Room) are the server's (server/gmcp.go).
//
// A message is IAC SB 201 <Package[.Sub].Message> [SP <JSON>] IAC SE, with
// every 0xFF in it doubled. Names are nominally case-insensitive; the
// module set is kept in lower case so that "Char 1" and "char 1" are one
// module, and the server sends the IRE spellings verbatim.

// Limits on what a client's GMCP may make the server keep.
const (
	MaxGMCPName    = 64 // longest package.message name accepted
	MaxGMCPModules = 64 // modules a client may list (Mudlet lists about 10)
	MaxGMCPText    = 64 // bytes kept of Core.Hello's client and version, and of a module name
)

// ChangedGMCP is set when GMCP is agreed or dropped, or a Core message
// changed the client's module set or its Core.Hello. It is the top bit of
// Change so that flags added to the iota list in state.go never collide.
const ChangedGMCP Change = 1 << 7

// GMCP is what a client told the server over GMCP besides agreeing to the
// option: its Core.Hello and the module set of Core.Supports.Set/Add/Remove
// (lower-cased module name → version). It is carried across reboots with
// the rest of State: a client does not say it again, since from its side
// the option never changed.
type GMCP struct {
	Client  string         `json:"client,omitempty"`
	Version string         `json:"version,omitempty"`
	Modules map[string]int `json:"modules,omitempty"`
}

// AppendGMCP appends the GMCP message name with the JSON body (nil for
// none) to dst, framed as a subnegotiation with 0xFF doubled.
func AppendGMCP(dst []byte, name string, body []byte) []byte {
	dst = append(dst, IAC, SB, OptGMCP)
	dst = appendDoubled(dst, []byte(name))
	if body != nil {
		dst = append(dst, ' ')
		dst = appendDoubled(dst, body)
	}
	return append(dst, IAC, SE)
}

func appendDoubled(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, IAC)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i+1]...)
		dst = append(dst, IAC)
		b = b[i+1:]
	}
}

// ParseGMCP splits a GMCP subnegotiation's payload (IAC IAC already
// undoubled, as the Decoder delivers it) into the message name and its
// body (nil when there is none; not checked to be JSON). ok is false when
// the name is empty, longer than MaxGMCPName, or has a byte other than a
// letter, digit, '.', '_' or '-'.
func ParseGMCP(data []byte) (name string, body []byte, ok bool) {
	n := data
	if i := bytes.IndexAny(data, " \t\r\n"); i >= 0 {
		n, body = data[:i], bytes.TrimSpace(data[i:])
		if len(body) == 0 {
			body = nil
		}
	}
	if len(n) == 0 || len(n) > MaxGMCPName {
		return "", nil, false
	}
	for _, c := range n {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", nil, false
		}
	}
	return string(n), body, true
}

// GMCPOn reports whether GMCP is agreed.
func (s *State) GMCPOn() bool { return s.Options.Enabled(SideUs, OptGMCP) }

// GMCPSupports reports whether GMCP is agreed and the client asked for the
// messages called name: it listed name itself or a package containing it
// ("Char" covers "Char.Name", "Comm.Channel" covers "Comm.Channel.Text").
// Core is always supported. Case does not matter.
//
// The module set is looked at first: a message to a room (Room.AddPlayer
// at each login) asks every member, and most have no modules; the option
// lookup and the lower-casing cost about 0.8 µs a member, which at 10,000
// logins into one room was 19% of the talker's CPU.
func (s *State) GMCPSupports(name string) bool {
	if s.GMCP == nil || len(s.GMCP.Modules) == 0 {
		return len(name) >= len("core.") && strings.EqualFold(name[:len("core.")], "core.") && s.GMCPOn()
	}
	if !s.GMCPOn() {
		return false
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "core.") {
		return true
	}
	for i := 0; i <= len(lower); i++ {
		if i == len(lower) || lower[i] == '.' {
			if _, ok := s.GMCP.Modules[lower[:i]]; ok {
				return true
			}
		}
	}
	return false
}

// GMCPModules lists the client's modules as "name version", sorted, for
// display.
func (s *State) GMCPModules() []string {
	if s.GMCP == nil {
		return nil
	}
	out := make([]string, 0, len(s.GMCP.Modules))
	for m, v := range s.GMCP.Modules {
		out = append(out, m+" "+strconv.Itoa(v))
	}
	sortStrings(out)
	return out
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// gmcpChanged is called when GMCP is agreed or dropped: a client that
// drops it and agrees again says Core.Hello and Core.Supports again, so
// what it said before is forgotten.
func (s *State) gmcpChanged(on bool) Change {
	if !on {
		s.GMCP = nil
	}
	return ChangedGMCP
}

// gmcp handles a GMCP message from the client: the Core package. Anything
// else (and anything malformed) is left to the caller, which sees the
// event too. Only while GMCP is agreed.
func (s *State) gmcp(data []byte) (reply []byte, changed Change) {
	if !s.GMCPOn() {
		return nil, 0
	}
	name, body, ok := ParseGMCP(data)
	if !ok {
		return nil, 0
	}
	switch strings.ToLower(name) {
	case "core.hello":
		var hello map[string]any
		if json.Unmarshal(body, &hello) != nil {
			return nil, 0
		}
		client, version := helloField(hello, "client"), helloField(hello, "version")
		g := s.gmcpState()
		if g.Client != client || g.Version != version {
			g.Client, g.Version = client, version
			changed = ChangedGMCP
		}
	case "core.supports.set", "core.supports.add", "core.supports.remove":
		var list []string
		if json.Unmarshal(body, &list) != nil {
			return nil, 0
		}
		if s.supports(strings.ToLower(name[len("core.supports."):]), list) {
			changed = ChangedGMCP
		}
	case "core.ping":
		// The body, if any, is the client's average round trip; the
		// answer is an empty Core.Ping.
		reply = AppendGMCP(nil, "Core.Ping", nil)
	}
	return reply, changed
}

func (s *State) gmcpState() *GMCP {
	if s.GMCP == nil {
		s.GMCP = &GMCP{}
	}
	return s.GMCP
}

// helloField reads a Core.Hello field, whichever way the client
// capitalised its key, as printable text of at most MaxGMCPText bytes.
func helloField(hello map[string]any, key string) string {
	for k, v := range hello {
		if strings.EqualFold(k, key) {
			switch v := v.(type) {
			case string:
				return printable(v)
			case float64:
				return printable(strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
	}
	return ""
}

// printable keeps the printable ASCII of v, at most MaxGMCPText bytes,
// trimmed: what a client names itself may be shown to staff and logged.
func printable(v string) string {
	out := make([]byte, 0, min(len(v), MaxGMCPText))
	for i := 0; i < len(v) && len(out) < MaxGMCPText; i++ {
		if c := v[i]; c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	return strings.TrimSpace(string(out))
}

// supports applies Core.Supports.<op> with its list of "Module version"
// entries, and reports whether the module set changed. A version missing
// or not a positive number counts as 1; Remove ignores versions. Entries
// that are not module names are skipped; at most MaxGMCPModules are kept.
func (s *State) supports(op string, list []string) bool {
	g := s.gmcpState()
	before := len(g.Modules)
	old := g.Modules
	if op == "set" {
		g.Modules = nil
	} else if old != nil {
		g.Modules = make(map[string]int, len(old))
		for k, v := range old {
			g.Modules[k] = v
		}
	}
	for _, entry := range list {
		mod, ver, ok := parseModule(entry)
		if !ok {
			continue
		}
		if op == "remove" {
			delete(g.Modules, mod)
			continue
		}
		if _, listed := g.Modules[mod]; !listed && len(g.Modules) >= MaxGMCPModules {
			continue
		}
		if g.Modules == nil {
			g.Modules = make(map[string]int)
		}
		g.Modules[mod] = ver
	}
	if len(g.Modules) == 0 {
		g.Modules = nil
	}
	if before != len(g.Modules) {
		return true
	}
	for k, v := range g.Modules {
		if w, ok := old[k]; !ok || w != v {
			return true
		}
	}
	return false
}

// parseModule reads "Char 1" (or "Char") as ("char", 1).
func parseModule(entry string) (mod string, ver int, ok bool) {
	name, v, _ := strings.Cut(strings.TrimSpace(entry), " ")
	if name == "" || len(name) > MaxGMCPText {
		return "", 0, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", 0, false
		}
	}
	ver, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || ver < 1 {
		ver = 1
	}
	return strings.ToLower(name), ver, true
}
