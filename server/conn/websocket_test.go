package conn

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"talker/server/telnet"
)

// clientFrame is one masked client frame, as a browser sends it.
func clientFrame(op ws.OpCode, fin bool, payload []byte, mask [4]byte) []byte {
	var buf bytes.Buffer
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload)), Masked: true, Mask: mask}
	if err := ws.WriteHeader(&buf, h); err != nil {
		panic(err)
	}
	p := append([]byte(nil), payload...)
	ws.Cipher(p, mask, 0)
	buf.Write(p)
	return buf.Bytes()
}

// TestDeframeAtEverySplit: a stream of frames (a fragmented text message
// with a ping in the middle, a binary telnet answer, a long line) cut at
// every byte, each half decoded by a fresh copy of the state carried from
// the other, gives the same telnet input and the same pong.
func TestDeframeAtEverySplit(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes: a 16-bit length
	var stream []byte
	stream = append(stream, clientFrame(ws.OpText, false, []byte("say hel"), [4]byte{1, 2, 3, 4})...)
	stream = append(stream, clientFrame(ws.OpPing, true, []byte("pp"), [4]byte{9, 9, 9, 9})...)
	stream = append(stream, clientFrame(ws.OpContinuation, true, []byte("lo \xff"), [4]byte{5, 6, 7, 8})...)
	stream = append(stream, clientFrame(ws.OpBinary, true, []byte{telnet.IAC, telnet.DO, 1}, [4]byte{0xaa, 0xbb, 0xcc, 0xdd})...)
	stream = append(stream, clientFrame(ws.OpText, true, []byte(long), [4]byte{0x10, 0x20, 0x30, 0x40})...)
	want := "say hello \xff\xff\r\n" + string([]byte{telnet.IAC, telnet.DO, 1}) + long + "\r\n"
	for cut := 0; cut <= len(stream); cut++ {
		var r WSRead
		got, acts := r.deframe(stream[:cut], nil)
		carried := r.clone() // what a reboot would hand over
		more, acts2 := carried.deframe(stream[cut:], nil)
		got = append(got, more...)
		acts = append(acts, acts2...)
		if string(got) != want {
			t.Fatalf("cut at %d: got %q", cut, got)
		}
		if len(acts) != 1 || acts[0].kind != wsActPong || string(acts[0].payload) != "pp" {
			t.Fatalf("cut at %d: actions %+v", cut, acts)
		}
		if carried.midFrame() {
			t.Fatalf("cut at %d: still mid-frame at the end", cut)
		}
	}
}

func TestDeframeRefusesBadFrames(t *testing.T) {
	unmasked := []byte{0x81, 0x02, 'h', 'i'}
	bigPing := clientFrame(ws.OpPing, true, make([]byte, 126), [4]byte{1, 1, 1, 1})
	orphan := clientFrame(ws.OpContinuation, true, []byte("x"), [4]byte{1, 1, 1, 1})
	rsv := clientFrame(ws.OpText, true, []byte("x"), [4]byte{1, 1, 1, 1})
	rsv[0] |= 0x40
	for name, in := range map[string][]byte{"unmasked": unmasked, "ping over 125": bigPing, "continuation first": orphan, "rsv1": rsv} {
		var r WSRead
		out, acts := r.deframe(append(in, clientFrame(ws.OpText, true, []byte("after"), [4]byte{})...), nil)
		if len(out) != 0 || len(acts) != 1 || acts[0].kind != wsActClose || acts[0].code != ws.StatusProtocolError || !r.Closed {
			t.Errorf("%s: out %q actions %+v", name, out, acts)
		}
	}
	var r WSRead
	_, acts := r.deframe(clientFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusGoingAway, "bye"), [4]byte{3, 3, 3, 3}), nil)
	if len(acts) != 1 || acts[0].kind != wsActClose || acts[0].code != ws.StatusGoingAway {
		t.Errorf("close: %+v", acts)
	}
}

// readServerFrames parses unmasked server frames.
func readServerFrames(t *testing.T, b []byte) (ops []ws.OpCode, payloads [][]byte) {
	t.Helper()
	r := bytes.NewReader(b)
	for r.Len() > 0 {
		h, err := ws.ReadHeader(r)
		if err != nil || h.Masked || !h.Fin {
			t.Fatalf("bad server frame header %+v: %v", h, err)
		}
		p := make([]byte, h.Length)
		if _, err := r.Read(p); err != nil && h.Length > 0 {
			t.Fatal(err)
		}
		ops, payloads = append(ops, h.OpCode), append(payloads, p)
	}
	return ops, payloads
}

func TestTelnetToFrames(t *testing.T) {
	out := []byte("\x1b[1mHello\x1b[0m\r\nPassword: ")
	out = append(out, telnet.IAC, telnet.WILL, 1, telnet.IAC, telnet.GA)
	out = append(out, "caf\xc3"...) // a character cut between two sends
	frames, rest := telnetToFrames(nil, out)
	if !bytes.Equal(rest, []byte{0xc3}) {
		t.Fatalf("rest %q", rest)
	}
	ops, ps := readServerFrames(t, frames)
	if len(ops) != 3 || ops[0] != ws.OpText || ops[1] != ws.OpBinary || ops[2] != ws.OpText ||
		string(ps[0]) != "\x1b[1mHello\x1b[0m\r\nPassword: " || !bytes.Equal(ps[1], []byte{telnet.IAC, telnet.WILL, 1, telnet.IAC, telnet.GA}) || string(ps[2]) != "caf" {
		t.Fatalf("frames %v %q", ops, ps)
	}
	// Long output is cut into bounded frames, never inside a character.
	long := strings.Repeat("ü", 5000)
	frames, rest = telnetToFrames(nil, []byte(long))
	ops, ps = readServerFrames(t, frames)
	var joined []byte
	for i, p := range ps {
		if ops[i] != ws.OpText || len(p) > wsMaxPayload || !utf8.Valid(p) {
			t.Fatalf("frame %d: op %v, %d bytes, valid %v", i, ops[i], len(p), utf8.Valid(p))
		}
		joined = append(joined, p...)
	}
	if string(joined) != long || len(rest) != 0 {
		t.Fatalf("long output changed (%d bytes, rest %d)", len(joined), len(rest))
	}
	// An incomplete subnegotiation waits for its end.
	_, rest = telnetToFrames(nil, []byte{telnet.IAC, telnet.SB, 24, 1})
	if len(rest) != 4 {
		t.Fatalf("partial SB rest %v", rest)
	}
}

func TestAppendFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := appendFrame(nil, ws.OpText, bytes.Repeat([]byte{'a'}, n))
		h, err := ws.ReadHeader(bytes.NewReader(f))
		if err != nil || int(h.Length) != n || !h.Fin || h.Masked || len(f) != ws.HeaderSize(h)+n {
			t.Errorf("length %d: header %+v err %v", n, h, err)
		}
	}
}

func TestWSFrameLen(t *testing.T) {
	frames := appendFrame(nil, ws.OpText, []byte("hello"))
	frames = appendFrame(frames, ws.OpText, bytes.Repeat([]byte{'x'}, 300))
	frames = appendFrame(frames, ws.OpBinary, []byte{255, 249})
	var lens []int
	for b := frames; len(b) > 0; {
		n := wsFrameLen(b)
		lens = append(lens, n)
		b = b[n:]
	}
	if len(lens) != 3 || lens[0] != 7 || lens[1] != 304 || lens[2] != 4 {
		t.Fatalf("frame lengths %v", lens)
	}
	if n := wsFrameLen(frames[:5]); n != 5 {
		t.Fatalf("a cut frame: %d, want all 5 bytes", n)
	}
}
