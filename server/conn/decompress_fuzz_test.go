package conn

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"testing"

	"talker/server/telnet"
)

// FuzzMCCP3 feeds arbitrary client input through the MCCP3 step and the
// telnet decoder (offered, so any IAC SB 87 IAC SE starts a stream), whole
// and split at an offset with the state carried across the split as a
// reboot carries it. It must never panic, never give the decoder more than
// the per-read bound (maxInflateRead) beyond the plain bytes it was given,
// and, when neither run fails, give the same events both ways.
func FuzzMCCP3(f *testing.F) {
	start := []byte{telnet.IAC, telnet.SB, telnet.OptMCCP3, telnet.IAC, telnet.SE}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("say hi\r\n"))
	zw.Flush()
	zw.Write([]byte{telnet.IAC, telnet.WILL, 24})
	zw.Close()
	for _, seed := range [][]byte{
		goldenNegotiation(f),
		append(append(bytes.Clone(start), z.Bytes()...), "plain\r\n"...),
		append(bytes.Clone(start), 0x78, 0x9c, 0xff, 0x00, 0x00, 0xff, 0xff),
		append(append([]byte{telnet.IAC, telnet.SB, 201, 'x', telnet.IAC}, start[1:]...), 0x78, 0x01),
		[]byte("no compression at all\r\n"),
	} {
		f.Add(seed, uint16(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint16) {
		whole := newPipeline()
		errWhole := feedBounded(t, whole, data)

		k := int(off) % (len(data) + 1)
		split := newPipeline()
		errSplit := feedBounded(t, split, data[:k])
		if errSplit == nil {
			split = split.carried()
			errSplit = feedBounded(t, split, data[k:])
		}
		if errWhole != nil || errSplit != nil {
			return // the bounds are per read: a split may fail elsewhere
		}
		if got, want := fmt.Sprint(eventStrings(split.evs)), fmt.Sprint(eventStrings(whole.evs)); got != want {
			t.Fatalf("split at %d:\n got %s\nwant %s", k, got, want)
		}
	})
}

func feedBounded(t *testing.T, p *pipeline, b []byte) error {
	out, err := p.z.run(b, mirrorOf(&p.d))
	if len(out) > len(b)+maxInflateRead {
		t.Fatalf("%d bytes in gave %d out", len(b), len(out))
	}
	p.evs = p.d.Feed(out, p.evs)
	return err
}
