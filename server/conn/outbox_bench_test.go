package conn

import "testing"

// BenchmarkOutboxAddTake is the path of every delivered line between the
// world and a connection's writer: the world queues a line (add), the
// writer takes what is queued into its spare buffer and reports it written.
// Taking after every 8 lines is a busy room's writer, which finds several
// lines queued each time it wakes.
func BenchmarkOutboxAddTake(b *testing.B) {
	var o outbox
	o.init(1 << 20)
	line := []byte("Alice says 'a line of ordinary length for a talker, about seventy bytes'\r\n")
	var spare []byte
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if !o.add(line) {
			b.Fatal("backlog full")
		}
		if i++; i%8 == 0 {
			spare, _, _ = o.take(spare[:0], false)
			o.written()
			<-o.wake
		}
	}
}
