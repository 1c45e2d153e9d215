package conn

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"testing"
)

// BenchmarkMCCP3Line: the reader's MCCP3 step for one typed line (about
// 45 bytes, flushed), through a stream of 1,000 lines, with the decoder.
func BenchmarkMCCP3Line(b *testing.B) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	var chunks [][]byte
	for i := 0; i < 1000; i++ {
		n := z.Len()
		fmt.Fprintf(zw, "say this is line number %d of the benchmark\r\n", i)
		zw.Flush()
		chunks = append(chunks, bytes.Clone(z.Bytes()[n:]))
	}
	p := startedPipeline(&testing.T{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%1000 == 0 && i > 0 {
			b.StopTimer()
			p = startedPipeline(&testing.T{})
			b.StartTimer()
		}
		p.evs = p.evs[:0]
		if err := p.feed(chunks[i%1000]); err != nil {
			b.Fatal(err)
		}
	}
}
