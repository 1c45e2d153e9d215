package telnet

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestAppendGMCPGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		body []byte
		want []byte
	}{
		{"Core.Ping", nil, cat(b(IAC, SB, OptGMCP), "Core.Ping", b(IAC, SE))},
		{"Char.Name", []byte(`{"name":"Alice"}`), cat(b(IAC, SB, OptGMCP), `Char.Name {"name":"Alice"}`, b(IAC, SE))},
		// JSON from encoding/json is valid UTF-8 and never holds 0xFF,
		// but the framing must not depend on that.
		{"X.Y", []byte("\"\xff\xff\""), cat(b(IAC, SB, OptGMCP), "X.Y \"", b(IAC, IAC, IAC, IAC), "\"", b(IAC, SE))},
		{"Empty.Body", []byte{}, cat(b(IAC, SB, OptGMCP), "Empty.Body ", b(IAC, SE))},
	} {
		got := AppendGMCP([]byte("x"), tt.name, tt.body)
		if !bytes.Equal(got, append([]byte("x"), tt.want...)) {
			t.Errorf("AppendGMCP(%q, %q) = %q, want %q", tt.name, tt.body, got, tt.want)
		}
		if err := wellFormed(got[1:]); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		// What the server sends, the decoder reads back whole, split at
		// every offset and a byte at a time.
		want := []Event{{Kind: EventSubneg, Option: OptGMCP, Data: append([]byte(tt.name+" "), tt.body...)}}
		if tt.body == nil {
			want[0].Data = []byte(tt.name)
		}
		decodeAllWays(t, 0, 0, tt.want, want)
	}
}

func TestParseGMCP(t *testing.T) {
	for _, tt := range []struct {
		in, name, body string
		ok             bool
	}{
		{"Core.Ping", "Core.Ping", "", true},
		{"Core.Ping 120", "Core.Ping", "120", true},
		{`Core.Hello  {"client":"Mudlet"} `, "Core.Hello", `{"client":"Mudlet"}`, true},
		{"Core.Ping ", "Core.Ping", "", true},
		{"Char_1.x-y", "Char_1.x-y", "", true},
		{"", "", "", false},
		{" Core.Ping", "", "", false},
		{"Core\x1b[2J.Ping", "", "", false},
		{"Core\xff.Ping", "", "", false},
		{strings.Repeat("a", MaxGMCPName+1), "", "", false},
		{strings.Repeat("a", MaxGMCPName), strings.Repeat("a", MaxGMCPName), "", true},
	} {
		name, body, ok := ParseGMCP([]byte(tt.in))
		if name != tt.name || string(body) != tt.body || ok != tt.ok || (tt.body == "" && body != nil) {
			t.Errorf("ParseGMCP(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, body, ok, tt.name, tt.body, tt.ok)
		}
	}
}

// mudletOpening is what a Mudlet-like client sends once the server offers
// GMCP: DO GMCP, Core.Hello, Core.Supports.Set; then a ping with its round
// trip and a message of a package the telnet layer leaves to the server.
// The Hello's version holds U+00FF (ÿ, bytes C3 BF) and a raw 0xFF, doubled
// on the wire, to check undoubling and the printable filter.
func mudletOpening() []byte {
	return cat(b(IAC, DO, OptGMCP),
		b(IAC, SB, OptGMCP), `Core.Hello {"Client":"Mudlet","Version":"4.17.2`, b(IAC, IAC), `\u00ff"}`, b(IAC, SE),
		b(IAC, SB, OptGMCP), `Core.Supports.Set ["Char 1","Comm 1","Room 1","Char.Skills 1","IRE.Rift 1"]`, b(IAC, SE),
		b(IAC, SB, OptGMCP), `Core.Ping 42`, b(IAC, SE),
		b(IAC, SB, OptGMCP), `Comm.Channel.Players`, b(IAC, SE),
		"say hi\r\n")
}

// TestGMCPOpeningAllWays decodes and handles a Mudlet-like opening split at
// every offset, with the State carried through JSON (as a reboot carries
// it) at the split: the events, the replies and the final state are the
// same every way.
func TestGMCPOpeningAllWays(t *testing.T) {
	in := mudletOpening()
	wantEvents := []Event{neg(DO, OptGMCP),
		sub(OptGMCP, `Core.Hello {"Client":"Mudlet","Version":"4.17.2`+"\xff"+`\u00ff"}`),
		sub(OptGMCP, `Core.Supports.Set ["Char 1","Comm 1","Room 1","Char.Skills 1","IRE.Rift 1"]`),
		sub(OptGMCP, "Core.Ping 42"), sub(OptGMCP, "Comm.Channel.Players"), line("say hi")}
	decodeAllWays(t, 0, 0, in, wantEvents)

	run := func(k int) (State, []byte, Change) {
		s := NewState()
		s.Open()
		d := NewDecoder(0, 0)
		var replies []byte
		var changed Change
		handle := func(evs []Event) {
			for _, ev := range evs {
				r, c := s.Handle(ev, nil)
				replies = append(replies, r...)
				changed |= c
			}
		}
		handle(d.Feed(in[:k], nil))
		s, d = roundTripState(s), roundTripDecoder(d)
		handle(d.Feed(in[k:], nil))
		return s, replies, changed
	}
	want := GMCP{Client: "Mudlet", Version: "4.17.2",
		Modules: map[string]int{"char": 1, "comm": 1, "room": 1, "char.skills": 1, "ire.rift": 1}}
	wantReplies := cat(b(IAC, SB, OptGMCP), "Core.Ping", b(IAC, SE))
	first, _, _ := run(0)
	for k := 0; k <= len(in); k++ {
		s, replies, changed := run(k)
		if !s.GMCPOn() || s.GMCP == nil || !reflect.DeepEqual(*s.GMCP, want) {
			t.Fatalf("split at %d: GMCP %v %+v", k, s.GMCPOn(), s.GMCP)
		}
		if !bytes.Equal(replies, wantReplies) || changed != ChangedGMCP {
			t.Fatalf("split at %d: replies %q, changed %b", k, replies, changed)
		}
		j1, _ := json.Marshal(first)
		j2, _ := json.Marshal(s)
		if string(j1) != string(j2) {
			t.Fatalf("split at %d: state\n%s\nwant\n%s", k, j2, j1)
		}
	}
	if got := first.GMCPModules(); strings.Join(got, ",") != "char 1,char.skills 1,comm 1,ire.rift 1,room 1" {
		t.Errorf("GMCPModules = %q", got)
	}
}

// gmcpOn returns a State that has agreed GMCP.
func gmcpOn(t *testing.T) *State {
	t.Helper()
	s := NewState()
	s.Open()
	if r, c := s.Handle(neg(DO, OptGMCP), nil); r != nil || c != ChangedGMCP || !s.GMCPOn() {
		t.Fatalf("DO GMCP: reply %v, changed %b", r, c)
	}
	return &s
}

func gmcpMsg(s *State, msg string) ([]byte, Change) {
	return s.Handle(sub(OptGMCP, msg), nil)
}

func TestGMCPCore(t *testing.T) {
	t.Run("supports", func(t *testing.T) {
		s := gmcpOn(t)
		for _, step := range []struct {
			msg     string
			changed bool
			modules string
		}{
			{`Core.Supports.Set ["Char 1", "Room 2"]`, true, "char 1,room 2"},
			{`Core.Supports.Set ["room 2","CHAR 1"]`, false, "char 1,room 2"},
			{`Core.Supports.Add ["Comm.Channel 1", "Room 3"]`, true, "char 1,comm.channel 1,room 3"},
			{`Core.Supports.Add ["Comm.Channel 1"]`, false, "char 1,comm.channel 1,room 3"},
			{`Core.Supports.Remove ["Room", "Char 7", "Nothing"]`, true, "comm.channel 1"},
			{`Core.Supports.Add ["Bad Name 1", "", "Ok x", "Neg -3", "Esc\u001b 1", 7]`, false, "comm.channel 1"}, // not all strings: ignored whole
			{`Core.Supports.Add ["Bad Name 1", "", "Ok x", "Neg -3", "Esc\u001b 1"]`, true, "bad 1,comm.channel 1,neg 1,ok 1"},
			{`Core.Supports.Set ["Char 1"`, false, "bad 1,comm.channel 1,neg 1,ok 1"}, // malformed JSON
			{`Core.Supports.Set {"Char":1}`, false, "bad 1,comm.channel 1,neg 1,ok 1"},
			{`Core.Supports.Set`, false, "bad 1,comm.channel 1,neg 1,ok 1"},
			{`core.supports.set ["Char 1"]`, true, "char 1"},
			{`Core.Supports.Set []`, true, ""},
		} {
			r, c := gmcpMsg(s, step.msg)
			if r != nil || (c == ChangedGMCP) != step.changed || strings.Join(s.GMCPModules(), ",") != step.modules {
				t.Fatalf("%s: reply %v, changed %b, modules %q want %q", step.msg, r, c, s.GMCPModules(), step.modules)
			}
		}
	})
	t.Run("module limit", func(t *testing.T) {
		s := gmcpOn(t)
		var list []string
		for i := range 3 * MaxGMCPModules {
			list = append(list, "M"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26)+" 1")
		}
		j, _ := json.Marshal(list)
		gmcpMsg(s, "Core.Supports.Set "+string(j))
		gmcpMsg(s, "Core.Supports.Add "+string(j))
		if n := len(s.GMCP.Modules); n != MaxGMCPModules {
			t.Fatalf("%d modules kept", n)
		}
	})
	t.Run("supported", func(t *testing.T) {
		s := gmcpOn(t)
		gmcpMsg(s, `Core.Supports.Set ["Char 1","Comm.Channel 1"]`)
		for name, want := range map[string]bool{"Char.Name": true, "char.status": true, "Char": true,
			"Comm.Channel.Text": true, "Comm.Channel": true, "Comm.Other": false, "Comm": false,
			"Room.Info": false, "Charx.Name": false, "Core.Ping": true, "Ch": false} {
			if got := s.GMCPSupports(name); got != want {
				t.Errorf("GMCPSupports(%q) = %v", name, got)
			}
		}
		// Dropped and agreed again: what the client said is forgotten, and
		// nothing is sent until it says it again.
		if _, c := s.Handle(neg(DONT, OptGMCP), nil); c != ChangedGMCP || s.GMCP != nil || s.GMCPSupports("Core.Ping") {
			t.Fatalf("after DONT: %b %+v", c, s.GMCP)
		}
		if r, _ := s.Handle(neg(DO, OptGMCP), nil); !bytes.Equal(r, neg3(WILL, OptGMCP)) || s.GMCPSupports("Char.Name") {
			t.Fatalf("DO again: %v", r)
		}
	})
	t.Run("no modules", func(t *testing.T) {
		// Agreed, nothing listed: only Core (the fast path most sessions take).
		s := gmcpOn(t)
		for name, want := range map[string]bool{"Core.Ping": true, "core.ping": true, "Core": false,
			"Char.Name": false, "Room.AddPlayer": false, "": false} {
			if got := s.GMCPSupports(name); got != want {
				t.Errorf("GMCPSupports(%q) = %v with no modules", name, got)
			}
		}
	})
	t.Run("hello", func(t *testing.T) {
		s := gmcpOn(t)
		for _, tt := range []struct{ msg, client, version string }{
			{`Core.Hello {"client":"Mudlet","version":"4.17.2"}`, "Mudlet", "4.17.2"},
			{`Core.Hello {"Client":"TinTin++","Version":2.02}`, "TinTin++", "2.02"},
			{`Core.Hello {"client":"Evil\u001b[2J\r\nClient` + strings.Repeat("x", 100) + `"}`, "Evil[2JClient" + strings.Repeat("x", MaxGMCPText-13), ""},
			{`Core.Hello not json`, "Evil[2JClient" + strings.Repeat("x", MaxGMCPText-13), ""},
			{`Core.Hello ["Mudlet"]`, "Evil[2JClient" + strings.Repeat("x", MaxGMCPText-13), ""},
			{`Core.Hello {}`, "", ""},
		} {
			gmcpMsg(s, tt.msg)
			if s.GMCP.Client != tt.client || s.GMCP.Version != tt.version {
				t.Errorf("%s: client %q version %q", tt.msg, s.GMCP.Client, s.GMCP.Version)
			}
		}
	})
	t.Run("ping", func(t *testing.T) {
		s := gmcpOn(t)
		pong := cat(b(IAC, SB, OptGMCP), "Core.Ping", b(IAC, SE))
		for _, msg := range []string{"Core.Ping", "Core.Ping 130", "core.ping"} {
			if r, c := gmcpMsg(s, msg); !bytes.Equal(r, pong) || c != 0 {
				t.Errorf("%s: reply %q changed %b", msg, r, c)
			}
		}
		for _, msg := range []string{"Core.KeepAlive", "Char.Login {}", "Comm.Channel.Players", "\xff\xff", ""} {
			if r, c := gmcpMsg(s, msg); r != nil || c != 0 {
				t.Errorf("%q: reply %q changed %b", msg, r, c)
			}
		}
	})
	t.Run("not agreed", func(t *testing.T) {
		s := NewState()
		s.Open() // offered, not answered
		for _, msg := range []string{`Core.Hello {"client":"x"}`, `Core.Supports.Set ["Char 1"]`, "Core.Ping"} {
			if r, c := gmcpMsg(&s, msg); r != nil || c != 0 || s.GMCP != nil {
				t.Errorf("%s before DO: %q %b %+v", msg, r, c, s.GMCP)
			}
		}
		if s.GMCPSupports("Core.Ping") {
			t.Error("Core supported before DO")
		}
	})
}

// checkGMCPState is FuzzState's check of what a client's GMCP left: only
// while GMCP is agreed, bounded, printable, and module names as
// ParseGMCP accepts them, in lower case.
func checkGMCPState(t *testing.T, s *State) {
	t.Helper()
	g := s.GMCP
	if g == nil {
		return
	}
	if !s.GMCPOn() && s.Options.Get(SideUs, OptGMCP) != QWantNo {
		t.Fatalf("GMCP state %+v kept with the option %v", g, s.Options.Get(SideUs, OptGMCP))
	}
	if len(g.Modules) > MaxGMCPModules {
		t.Fatalf("%d modules", len(g.Modules))
	}
	for _, v := range []string{g.Client, g.Version} {
		if len(v) > MaxGMCPText || v != strings.TrimSpace(v) {
			t.Fatalf("hello field %q", v)
		}
		for _, c := range []byte(v) {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("hello field %q", v)
			}
		}
	}
	for m, v := range g.Modules {
		if name, _, ok := ParseGMCP([]byte(m)); !ok || name != strings.ToLower(m) || len(m) > MaxGMCPText || v < 1 {
			t.Fatalf("module %q %d", m, v)
		}
	}
}
