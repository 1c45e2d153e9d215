package telnet

import (
	"encoding/json"
	"fmt"
	"testing"
)

func fuzzSeeds(f *testing.F, add func(data []byte)) {
	for _, s := range [][]byte{
		cat("hello\r\nworld\nx\ry\r\x00z"),
		cat("he", b(IAC, WILL, OptNAWS), "llo", b(IAC, IAC), "\n"),
		cat(b(IAC, SB, OptNAWS, 0, IAC, IAC, 0, 24, IAC, SE)),
		cat(b(IAC, WILL, OptTType, IAC, SB, OptTType, 0), "MUDLET", b(IAC, SE)),
		cat(b(IAC, DO, OptCharset, IAC, SB, OptCharset, 1), ";UTF-8", b(IAC, SE)),
		cat(b(IAC, DO, OptEcho, IAC, DONT, OptEcho, IAC, DO, OptMSSP)),
		cat("caf\u00e9\b\x7f", b(IAC, EC, IAC, EL), "\n"),
		cat(b(IAC, SB, 24), "long payload", b(IAC, NOP, IAC, SE)),
		// GMCP (gmcp.go): agreed, then Core messages, some malformed.
		cat(b(IAC, DO, OptGMCP, IAC, SB, OptGMCP), `Core.Hello {"client":"Mudlet","version":"4`, b(IAC, IAC), `"}`, b(IAC, SE)),
		cat(b(IAC, DO, OptGMCP, IAC, SB, OptGMCP), `Core.Supports.Set ["Char 1","Room 1"]`, b(IAC, SE, IAC, SB, OptGMCP), `Core.Supports.Remove ["Room"`, b(IAC, SE)),
		cat(b(IAC, DO, OptGMCP, IAC, SB, OptGMCP), "Core.Ping 12", b(IAC, SE, IAC, DONT, OptGMCP, IAC, SB, OptGMCP), "Core.Ping", b(IAC, SE)),
		// MCCP2/MCCP3 asked for unoffered (the server offers MCCP2 outside
		// State.Open: package server's mccp.go), then dropped.
		cat(b(IAC, DO, OptMCCP2, IAC, DONT, OptMCCP2, IAC, DO, OptMCCP3, IAC, SB, OptMCCP2, IAC, SE)),
		mudletOpening(),
	} {
		add(s)
	}
}

func FuzzDecoder(f *testing.F) {
	fuzzSeeds(f, func(data []byte) { f.Add(data, uint16(len(data)/2), uint8(8), uint8(4)) })
	f.Fuzz(func(t *testing.T, data []byte, off uint16, maxLine, maxSB uint8) {
		ml, ms := int(maxLine), int(maxSB)
		whole := NewDecoder(ml, ms)
		want := whole.Feed(data, nil)

		k := int(off) % (len(data) + 1)
		split := NewDecoder(ml, ms)
		got := split.Feed(data[:k], nil)
		split = roundTrip(t, split)
		got = split.Feed(data[k:], got)
		if !eventsEqual(got, want) {
			t.Fatalf("split at %d:\n got %v\nwant %v", k, got, want)
		}

		bytewise := NewDecoder(ml, ms)
		got = nil
		for i := range data {
			got = bytewise.Feed(data[i:i+1], got)
		}
		if !eventsEqual(got, want) {
			t.Fatalf("byte at a time:\n got %v\nwant %v", got, want)
		}

		// The three decoders must also end in the same state.
		j1, _ := json.Marshal(whole)
		j2, _ := json.Marshal(split)
		j3, _ := json.Marshal(bytewise)
		if string(j1) != string(j2) || string(j1) != string(j3) {
			t.Fatalf("final states differ:\n%s\n%s\n%s", j1, j2, j3)
		}

		for _, ev := range want {
			switch ev.Kind {
			case EventLine:
				if ev.Line == nil || len(ev.Line) > whole.maxLine() || ev.Truncated < 0 {
					t.Fatalf("bad line event %v", ev)
				}
			case EventSubneg:
				if ev.Data == nil || len(ev.Data) > whole.maxSB() {
					t.Fatalf("bad subneg event %v", ev)
				}
			case EventNegotiation:
				if ev.Verb < WILL || ev.Verb > DONT {
					t.Fatalf("bad negotiation %v", ev)
				}
			case EventCommand:
				switch ev.Verb {
				case IAC, WILL, WONT, DO, DONT, SB, EC, EL:
					t.Fatalf("command event for %v", ev)
				}
			default:
				t.Fatalf("bad kind %v", ev)
			}
		}
		if len(whole.Line) > whole.maxLine() || len(whole.SB) > whole.maxSB() {
			t.Fatalf("buffers exceed limits: %d %d", len(whole.Line), len(whole.SB))
		}
	})
}

// wellFormed checks that out consists only of IAC WILL/WONT/DO/DONT <opt>
// triples and IAC SB <opt> ... IAC SE blocks with every 0xFF doubled.
func wellFormed(out []byte) error {
	for i := 0; i < len(out); {
		if len(out)-i < 3 || out[i] != IAC {
			return fmt.Errorf("junk at %d: %v", i, out[i:])
		}
		switch verb := out[i+1]; {
		case verb >= WILL && verb <= DONT:
			i += 3
		case verb == SB:
			j := i + 3
			for ; ; j++ {
				if j+1 >= len(out) {
					return fmt.Errorf("unterminated SB at %d: %v", i, out[i:])
				}
				if out[j] == IAC {
					if out[j+1] == SE {
						break
					}
					if out[j+1] != IAC {
						return fmt.Errorf("lone IAC in SB at %d: %v", j, out[i:])
					}
					j++
				}
			}
			i = j + 2
		default:
			return fmt.Errorf("bad verb at %d: %v", i, out[i:])
		}
	}
	return nil
}

func FuzzState(f *testing.F) {
	fuzzSeeds(f, func(data []byte) { f.Add(data, []byte{0, 1, 0}) })
	f.Fuzz(func(t *testing.T, data []byte, ops []byte) {
		s := NewState()
		if err := wellFormed(s.Open()); err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(0, 0)
		mssp := func() []MSSPVar { return []MSSPVar{{"NAME", string(data)}, {string(ops), "x\xff"}} }
		// ops interleaves client input with password-mode toggles and
		// (for odd bytes) a simulated reboot of the State.
		chunk := len(data)/(len(ops)+1) + 1
		for i := 0; len(data) > 0; i++ {
			n := min(chunk, len(data))
			for _, ev := range d.Feed(data[:n], nil) {
				reply, _ := s.Handle(ev, mssp)
				if err := wellFormed(reply); err != nil {
					t.Fatalf("reply to %v: %v", ev, err)
				}
			}
			data = data[n:]
			if i < len(ops) {
				if err := wellFormed(s.SetPasswordMode(ops[i]&2 != 0)); err != nil {
					t.Fatal(err)
				}
				if ops[i]&1 != 0 {
					s = roundTripState(s)
				}
			}
		}
		if s.Width < 0 || s.Width > MaxSize || s.Height < 0 || s.Height > MaxSize {
			t.Fatalf("size %dx%d", s.Width, s.Height)
		}
		for _, name := range []string{s.ClientName, s.Terminal} {
			if len(name) > MaxTTypeName {
				t.Fatalf("name too long: %q", name)
			}
			for _, c := range []byte(name) {
				if c < 0x20 || c >= 0x7f || 'a' <= c && c <= 'z' {
					t.Fatalf("bad name %q", name)
				}
			}
		}
		if s.TTypeRequests > maxTTypeSend || s.TTypeReplies > s.TTypeRequests {
			t.Fatalf("ttype cycle %d/%d", s.TTypeReplies, s.TTypeRequests)
		}
		if s.Charset != "" && s.Charset != "UTF-8" {
			t.Fatalf("charset %q", s.Charset)
		}
		for _, m := range []map[byte]Q{s.Options.Us, s.Options.Him} {
			for opt, q := range m {
				if q == QNo || q > QWantYesOpposite {
					t.Fatalf("option %d stored as %v", opt, q)
				}
			}
		}
		checkGMCPState(t, &s)
		if pe := s.PromptEnd(); len(pe) != 0 && len(pe) != 2 {
			t.Fatalf("PromptEnd %v", pe)
		}
		j1, _ := json.Marshal(s)
		j2, _ := json.Marshal(roundTripState(s))
		if string(j1) != string(j2) {
			t.Fatalf("state round trip:\n%s\n%s", j1, j2)
		}
	})
}
