package conn

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// talkerSample is a sample of what a talker sends a player: says, emotes,
// tells, arrivals, a 'who' and a 'look', with the names and phrasing of a
// busy room (CR LF lines, some colour).
func talkerSample(lines int) []string {
	r := rand.New(rand.NewPCG(13, 86))
	names := []string{"Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "Trent", "Peggy"}
	words := strings.Fields("the a and to of it is that you I was for on are with as this have be at " +
		"anyone seen my new game tonight reboot talker lounge coffee weather rain sunny later back lol " +
		"really think maybe tomorrow weekend music playing working home garden tea nice thanks hello")
	sentence := func() string {
		n := 3 + r.IntN(10)
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	var out []string
	for len(out) < lines {
		name := names[r.IntN(len(names))]
		switch k := r.IntN(20); {
		case k < 12:
			out = append(out, fmt.Sprintf("%s says '%s'\r\n", name, sentence()))
		case k < 15:
			out = append(out, fmt.Sprintf("%s %s\r\n", name, sentence()))
		case k < 17:
			out = append(out, fmt.Sprintf("\x1b[1;35m%s tells you '%s'\x1b[0m\r\n", name, sentence()))
		case k < 18:
			out = append(out, fmt.Sprintf("[ %s has connected ]\r\n%s arrives.\r\n", name, name))
		case k < 19:
			var b strings.Builder
			b.WriteString("+------------------------------ Who is on ------------------------------+\r\n")
			for _, n := range names {
				fmt.Fprintf(&b, "| %-12s %-40s idle %2dm |\r\n", n, "the "+words[r.IntN(len(words))], r.IntN(60))
			}
			b.WriteString("+-------------------------------------------------------------------------+\r\n")
			out = append(out, b.String())
		default:
			out = append(out, "\x1b[1;33mThe Lounge\x1b[0m\r\nSoft sofas and a low table covered in mugs. A window looks out on the garden.\r\nExits: main, garden.\r\nAlice, Bob and Carol are here.\r\n")
		}
	}
	return out[:lines]
}

// TestCompressionRatio measures bytes on the wire for the sample with and
// without MCCP2, each line its own unit (a quiet room: the writer finds
// one line at a time) and in units of 8 lines (a busy one). It fails if
// compression stops paying (ratio under 1.5 for single lines).
func TestCompressionRatio(t *testing.T) {
	sample := talkerSample(2000)
	plain := 0
	for _, l := range sample {
		plain += len(l)
	}
	var z compressor
	z.startUnit()
	single := 0
	for _, l := range sample {
		single += len(z.compressUnit([]byte(l)))
	}
	var z8 compressor
	z8.startUnit()
	batched := 0
	for i := 0; i < len(sample); i += 8 {
		batched += len(z8.compressUnit([]byte(strings.Join(sample[i:min(i+8, len(sample))], ""))))
	}
	r1, r8 := float64(plain)/float64(single), float64(plain)/float64(batched)
	t.Logf("sample %d lines, %d bytes; MCCP2 a line per unit %d bytes (ratio %.2f), 8 lines per unit %d bytes (ratio %.2f)",
		len(sample), plain, single, r1, batched, r8)
	if r1 < 1.5 {
		t.Errorf("ratio %.2f for single lines", r1)
	}
}

// benchmarkWriter is the writer's path for one delivered line (emit, to a
// real socket whose other end is drained), plain or compressed.
func benchmarkWriter(b *testing.B, compress bool) {
	server, client := tcpPair(b)
	defer client.Close()
	go io.Copy(io.Discard, client)
	c := New(1, server, DefaultLimits(), func(Input) {})
	defer c.Abort()
	if compress {
		if _, _, err := c.emit(nil, []outMark{{at: 0, on: true}}); err != nil {
			b.Fatal(err)
		}
	}
	sample := talkerSample(512)
	lines := make([][]byte, len(sample))
	size := 0
	for i, l := range sample {
		lines[i] = []byte(l)
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := c.emit(lines[i%len(lines)], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkWriterPlain(b *testing.B)      { benchmarkWriter(b, false) }
func BenchmarkWriterCompressed(b *testing.B) { benchmarkWriter(b, true) }
