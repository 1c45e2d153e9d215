package tlsrecord

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var writeGolden = flag.Bool("write-writestate-golden", false, "write testdata/writestate.hex")

// pairStates is a server's state and the state of a client reading it
// (the same secrets, crossed), with fixed secrets.
func pairStates(t *testing.T, suite uint16) (srv, cli State) {
	t.Helper()
	n := 32
	if suite == AES256GCMSHA384 {
		n = 48
	}
	a, b := bytes.Repeat([]byte{0xa1}, n), bytes.Repeat([]byte{0xb2}, n)
	return State{Suite: suite, ReadSecret: a, WriteSecret: b, WriteOffset: 1000},
		State{Suite: suite, ReadSecret: b, WriteSecret: a}
}

func mustNew(t *testing.T, st State) *Session {
	t.Helper()
	s, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decrypt feeds a server's wire bytes to a client's read half.
func decrypt(t *testing.T, cli State, wire []byte) string {
	t.Helper()
	r := mustNew(t, cli)
	out, err := r.Feed(nil, wire)
	if err != nil {
		t.Fatalf("the client cannot read the stream: %v", err)
	}
	if len(r.r.partial) != 0 {
		t.Fatalf("the stream ends inside a record (%d bytes)", len(r.r.partial))
	}
	return string(out)
}

var suites = []uint16{AES128GCMSHA256, AES256GCMSHA384, CHACHA20POLY1305SHA256}

// TestSealToIsWrite: records sealed ahead of the writer (SealTo, as the
// world does at release) are byte for byte the records Write would have
// written from the same state, KeyUpdates and 16 KiB splits included: the
// determinism the crash journal's recovery rests on.
func TestSealToIsWrite(t *testing.T) {
	for _, suite := range suites {
		srv, cli := pairStates(t, suite)
		a, b := mustNew(t, srv), mustNew(t, srv)
		var written bytes.Buffer
		var sealed []byte
		chunks := [][]byte{[]byte("hello\r\n"), bytes.Repeat([]byte("x"), MaxPlaintext+100), []byte("after a key update\r\n"), {1}}
		for i, ch := range chunks {
			if i == 2 {
				a.RequestKeyUpdate()
				b.RequestKeyUpdate()
			}
			if _, err := a.Write(&written, ch); err != nil {
				t.Fatal(err)
			}
			var err error
			if sealed, err = b.SealTo(sealed, ch); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(written.Bytes(), sealed) {
			t.Fatalf("suite %#x: SealTo differs from Write (%d and %d bytes)", suite, len(sealed), written.Len())
		}
		want := string(bytes.Join(chunks, nil))
		if got := decrypt(t, cli, sealed); got != want {
			t.Fatalf("suite %#x: the client read %d bytes, want %d", suite, len(got), len(want))
		}
		if wa, wb := a.TakeWrite(), b.TakeWrite(); wa.Seq != wb.Seq || !bytes.Equal(wa.Secret, wb.Secret) {
			t.Fatalf("suite %#x: the write halves differ: %+v %+v", suite, wa, wb)
		}
	}
}

// TestResumeWriteAtEveryOffset: the journal's view of a sealed stream
// (its records and the write half after the last commit), and a socket
// that took any number of bytes of it when the process died: the next
// generation sends exactly the rest, then seals on under the journal's
// sequence number, and the client reads every byte once. Cuts at every
// offset, inside headers, bodies and tags, and in a KeyUpdate record.
func TestResumeWriteAtEveryOffset(t *testing.T) {
	for _, suite := range suites {
		srv, cli := pairStates(t, suite)
		s := mustNew(t, srv)
		var wire []byte
		var plain strings.Builder
		var err error
		for i := 0; i < 4; i++ {
			if i == 2 {
				s.RequestKeyUpdate()
			}
			line := fmt.Sprintf("line %d of the stream\r\n", i)
			if wire, err = s.SealTo(wire, []byte(line)); err != nil {
				t.Fatal(err)
			}
			plain.WriteString(line)
		}
		s.PublishSealed(srv.WriteOffset + uint64(len(wire)))
		ws := s.TakeWrite()
		if ws.Offset != srv.WriteOffset+uint64(len(wire)) {
			t.Fatalf("write state offset %d", ws.Offset)
		}
		// Through the journal's encoding.
		if ws, err = ParseWriteState(ws.AppendBinary(nil)); err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut <= len(wire); cut++ {
			// The next generation: the checkpoint's state (stale: the
			// start), then the journal's write half.
			n := mustNew(t, srv)
			if err := n.ResumeWrite(ws, wire[cut:], srv.WriteOffset+uint64(cut)); err != nil {
				t.Fatal(err)
			}
			var sock bytes.Buffer
			sock.Write(wire[:cut]) // what the dead process had handed the socket
			if _, err := n.Write(&sock, []byte("after the crash\r\n")); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sock.Bytes()[:len(wire)], wire) {
				t.Fatalf("suite %#x cut %d: the records sent differ from the journal's", suite, cut)
			}
			if got, want := decrypt(t, cli, sock.Bytes()), plain.String()+"after the crash\r\n"; got != want {
				t.Fatalf("suite %#x cut %d: the client read %q, want %q", suite, cut, got, want)
			}
			if p := n.Published(); p.WriteOffset != srv.WriteOffset+uint64(sock.Len()) || len(p.WritePending) != 0 {
				t.Fatalf("suite %#x cut %d: published offset %d, want %d", suite, cut, p.WriteOffset, srv.WriteOffset+uint64(sock.Len()))
			}
		}
	}
}

// TestResumeWriteAnswersAnUncommittedRequest: the journal's write half
// answered a client's KeyUpdate whose record the reader had not committed
// (the recovered read half has not seen it): the state is accepted, and
// the request, read again, is answered again, which the client accepts.
func TestResumeWriteAnswersAnUncommittedRequest(t *testing.T) {
	srv, _ := pairStates(t, AES128GCMSHA256)
	s := mustNew(t, srv)
	ws := s.TakeWrite()
	ws.Answered = 1
	if err := s.ResumeWrite(ws, nil, srv.WriteOffset); err != nil {
		t.Fatal(err)
	}
	if s.WantsWrite() {
		t.Fatal("an answer is due with nothing asked since")
	}
	s.asked.Add(1) // the request read again
	if !s.WantsWrite() {
		t.Fatal("the request read again is not answered")
	}
}

// TestWriteStateGolden: the crash journal's encoding of a write half
// (journal.KindTLSWrite) is fixed: testdata/writestate.hex is what this
// build writes, and a torn or altered one is refused.
func TestWriteStateGolden(t *testing.T) {
	ws := WriteState{Secret: bytes.Repeat([]byte{0x5a}, 32), Seq: 0x0102030405060708, Answered: 3, Offset: 1<<40 + 17}
	enc := ws.AppendBinary(nil)
	path := "testdata/writestate.hex"
	if *writeGolden {
		if err := os.WriteFile(path, []byte(hex.EncodeToString(enc)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(golden)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, want) {
		t.Fatalf("the encoding changed:\n got %x\nwant %x", enc, want)
	}
	back, err := ParseWriteState(want)
	if err != nil || back.Seq != ws.Seq || back.Answered != ws.Answered || back.Offset != ws.Offset || !bytes.Equal(back.Secret, ws.Secret) {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	for n := 0; n < len(want); n++ {
		if _, err := ParseWriteState(want[:n]); err == nil {
			t.Fatalf("a write state torn at %d bytes was accepted", n)
		}
	}
	bad := append([]byte(nil), want...)
	bad[0] = 2
	if _, err := ParseWriteState(bad); err == nil {
		t.Fatal("an unknown version was accepted")
	}
}
