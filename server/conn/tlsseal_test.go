package conn

import (
	"strings"
	"testing"

	"talker/server/tlsrecord"
)

// journalTLS is a world's journal in miniature for one connection: the
// runs and write half each commit records.
type journalTLS struct {
	g    *Gate
	runs []Output
	ws   *tlsrecord.WriteState
}

func (j *journalTLS) commit(release bool) {
	for _, c := range j.g.Pending() {
		upto := c.CollectOutput(func(o Output) {
			j.runs = append(j.runs, Output{From: o.From, Bytes: append([]byte(nil), o.Bytes...)})
			if o.Seal != nil {
				ws := *o.Seal
				j.ws = &ws
			}
		})
		if release {
			c.ReleaseOutput(upto)
		}
	}
}

// TestTLSSealedOutputThroughACrash: under the journal, a TLS connection's
// output is sealed at release and recorded as records with the write half
// after them; a process that dies after committing output it never wrote
// leaves a checkpoint that is stale (it would reuse sequence numbers), and
// the next one, with the journal's records, sends exactly what the socket
// lacks and goes on under the right sequence number, both ways.
func TestTLSSealedOutputThroughACrash(t *testing.T) {
	c, client, in := tlsPairConn(t)
	j := &journalTLS{g: &Gate{}}
	c.SetGate(j.g)
	stale := c.TLSCheckpoint() // the angel's: before any record
	c.Start()
	c.Send([]byte("one\r\n"))
	j.commit(true)
	readString(t, client, "one\r\n")
	if !c.tls.sealing.Load() || j.ws == nil {
		t.Fatal("the output was not sealed at release")
	}
	long := strings.Repeat("0123456789", 2000) + "\r\n" // two records
	c.Send([]byte(long))
	j.commit(true)
	readString(t, client, long)
	c.Send([]byte("three\r\n"))
	j.commit(false) // committed, never released: the process dies here
	freeze(t, c, in)

	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	in2 := make(chan Input, 16)
	c2, err := Adopt(2, fd, DefaultLimits(), func(i Input) { in2 <- i }, nil, Carried{TLS: stale})
	if err != nil {
		t.Fatal(err)
	}
	c.Abandon()
	if c2.tls.writeErr == nil || c2.tls.broken != nil {
		t.Fatalf("the stale checkpoint: write %v, read %v", c2.tls.writeErr, c2.tls.broken)
	}
	queued, missing := c2.ResumeTLS(j.ws, j.runs)
	if c2.tls.writeErr != nil || missing != 0 || queued != len("three\r\n")+tlsrecord.Overhead {
		t.Fatalf("resume: queued %d, missing %d, %v", queued, missing, c2.tls.writeErr)
	}
	c2.Start()
	t.Cleanup(c2.Abort)
	readString(t, client, "three\r\n")
	c2.Send([]byte("four\r\n"))
	readString(t, client, "four\r\n")
	if _, err := client.Write([]byte("hello\r\n")); err != nil {
		t.Fatal(err)
	}
	lineIn(t, in2, "hello")

	// The journal knows nothing the socket lacks: nothing is sent twice.
	c3, err := Adopt(3, mustDup(t, c2), DefaultLimits(), func(Input) {}, nil, Carried{TLS: stale})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Abandon()
	if q, _ := c3.ResumeTLS(j.ws, j.runs); q != 0 || c3.tls.writeErr == nil {
		t.Fatalf("a socket past the journal was resumed: queued %d, %v", q, c3.tls.writeErr)
	}
}

func mustDup(t *testing.T, c *Conn) int {
	t.Helper()
	fd, err := c.DupFD()
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestTLSSealedCarry: a reboot's Carry of a connection whose output is
// sealed at release: records not yet written become the TLS state's tail,
// output not yet committed stays plaintext, and the next generation sends
// both, once, in order.
func TestTLSSealedCarry(t *testing.T) {
	c, client, in := tlsPairConn(t)
	j := &journalTLS{g: &Gate{}}
	c.SetGate(j.g)
	c.Start()
	c.Send([]byte("one\r\n"))
	j.commit(true)
	readString(t, client, "one\r\n")
	c.FreezeWriting()
	c.WaitWriting()
	c.Send([]byte("two\r\n"))
	j.commit(true) // released, but the writer is frozen: records unsent
	c.Send([]byte("three\r\n"))
	if !c.FreezeReading() {
		for i := range in {
			if i.Stopped {
				break
			}
		}
	}
	cr := c.Carry()
	if cr.TLS == nil || len(cr.TLS.WritePending) != len("two\r\n")+tlsrecord.Overhead || string(cr.Unsent) != "three\r\n" {
		t.Fatalf("carried tail %d bytes, unsent %q", len(cr.TLS.WritePending), cr.Unsent)
	}
	in2 := make(chan Input, 16)
	c2, err := Adopt(2, mustDup(t, c), DefaultLimits(), func(i Input) { in2 <- i }, nil, cr)
	if err != nil {
		t.Fatal(err)
	}
	c.Abandon()
	if c2.tls.broken != nil || c2.tls.writeErr != nil {
		t.Fatalf("an exact carried state was refused: %v %v", c2.tls.broken, c2.tls.writeErr)
	}
	c2.Start()
	t.Cleanup(c2.Abort)
	readString(t, client, "two\r\nthree\r\n")
	c2.Send([]byte("four\r\n"))
	readString(t, client, "four\r\n")
}
