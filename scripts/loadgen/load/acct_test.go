package load

import (
	"strings"
	"testing"
	"time"
)

// A ledger fed by hand: the accounting must notice a lost delivery, a
// duplicate, a lost own echo, a delivery into the wrong room and a token
// nobody sent, and the report must fail because of them.
func TestAccountingCatchesLossAndDuplicates(t *testing.T) {
	// Clients 0, 1, 2 in room 0; client 3 in room 1.
	rooms := []int{0, 0, 0, 1}
	a := newAcct(4, 10, rooms)
	for i := range rooms {
		a.arrive(i, 1)
	}
	ms := int64(time.Millisecond)
	// Client 0 says two lines.
	for seq := 0; seq < 2; seq++ {
		if !a.begin(0, seq, 10*ms) {
			t.Fatal("ledger full")
		}
		a.complete(0, seq, 10*ms)
	}
	a.receive(0, 0, 0, 11*ms) // own echo of line 0; line 1's echo is lost
	a.receive(1, 0, 0, 12*ms) // client 1 hears both
	a.receive(1, 0, 1, 12*ms)
	a.receive(2, 0, 0, 13*ms) // client 2 hears line 0 twice and never line 1
	a.receive(2, 0, 0, 14*ms)
	a.receive(3, 0, 0, 15*ms) // client 3 is in another room
	a.receive(1, 0, 7, 15*ms) // never sent
	a.receive(1, 9, 0, 15*ms) // no such client
	for i := range rooms {
		a.leave(i, 100*ms, false)
	}

	tl := a.compute()
	check := func(name string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	check("lines sent", tl.linesSent, 2)
	check("expected", tl.expected, 4) // 2 lines x clients 1 and 2
	check("received", tl.received, 3)
	check("lost", tl.lost, 1)
	check("lost to disconnect", tl.lostToDisconnect, 0)
	check("duplicated", tl.duplicated, 1)
	check("unexpected", tl.unexpected, 1)
	check("bad tokens", tl.bad, 2)
	check("echoes", tl.echoes, 1)
	check("echo lost", tl.echoLost, 1)
	check("client 2 lost", tl.perClient[2].lost, 1)
	check("client 2 dups", tl.perClient[2].dups, 1)
	if len(tl.lostSamples) != 1 || tl.lostSamples[0] != "t:0:1; to client 2" {
		t.Errorf("lost samples %q", tl.lostSamples)
	}

	// The same ledger through the report: it must fail, and say why.
	r := &runner{cfg: Defaults(), base: time.Now(), acct: a, tp: &talkerProc{}}
	r.cfg.Clients, r.cfg.Rooms = 4, 2
	for i := range rooms {
		c := newClient(r, i)
		c.room, c.logins = rooms[i], 1
		r.clients = append(r.clients, c)
	}
	r.tp.cfg = &r.cfg
	rep := r.report(Phases{DrainEnd: 1}, procSample{}, procSample{}, procSample{}, 0, int64(time.Second), 1024)
	if rep.OK {
		t.Fatal("report OK despite a loss and a duplicate")
	}
	all := strings.Join(rep.Failures, "\n")
	for _, want := range []string{"1 deliveries lost", "1 deliveries duplicated", "own echoes: 1 lost", "1 unexpected deliveries, 2 unknown tokens"} {
		if !strings.Contains(all, want) {
			t.Errorf("failures lack %q:\n%s", want, all)
		}
	}
	if rep.Deliveries.Expected != 4 || rep.Deliveries.Received != 3 || rep.Recipients[2].Lost != 1 || rep.Recipients[2].Duplicated != 1 {
		t.Errorf("report deliveries %+v, recipient 2 %+v", rep.Deliveries, rep.Recipients[2])
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL", "Lgaaad (main): expected 2, received 1, lost 1, duplicated 1"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

// Presence decides who is owed a line: a client that left before the line
// was sent is not, one that was dropped after it was sent is (and the loss
// is put down to the disconnect).
func TestAccountingPresence(t *testing.T) {
	a := newAcct(3, 10, []int{0, 0, 0})
	a.arrive(0, 1)
	a.arrive(1, 1)
	a.arrive(2, 50)      // client 2 arrives after line 0
	a.begin(0, 0, 10)    // line 0 at 10
	a.complete(0, 0, 10) //
	a.begin(0, 1, 60)    // line 1 at 60
	a.complete(0, 1, 60)
	a.leave(1, 70, true) // client 1 is dropped before hearing line 1
	a.receive(0, 0, 0, 11)
	a.receive(0, 0, 1, 61)
	a.receive(1, 0, 0, 12)
	a.receive(2, 0, 1, 62)
	a.begin(0, 2, 80) // line 2 begun, never completed (typing cut off)
	tl := a.compute()
	if tl.expected != 3 || tl.received != 2 || tl.lost != 1 || tl.lostToDisconnect != 1 || tl.linesSent != 2 || tl.linesStarted != 3 {
		t.Errorf("tally %+v", tl)
	}
}
