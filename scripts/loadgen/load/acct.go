package load

import (
	"sort"
	"sync"
	"sync/atomic"
)

// acct is the ledger of the run: every line sent (its token, room and send
// time), who received it (one bit per client, so a duplicate is seen at
// once), every own echo with its time, and when each client was in its room.
// Senders and receivers update it concurrently without locks; compute turns
// it into the numbers of the report once everybody has stopped.
//
// Times are nanoseconds since the start of the run.
type acct struct {
	n      int // clients
	words  int // bitset words per line
	maxSeq int // lines per client the ledger has room for
	rooms  []int

	senders []senderLog
	clients []clientCount
	series  series

	badTokens atomic.Int64 // tokens that name no line sent

	dupMu      sync.Mutex
	dupSamples []string // the first few duplicates, for the report

	presMu   sync.Mutex
	presence [][]interval // per client: when it was in its room
}

type senderLog struct {
	count atomic.Int64 // lines published (seq < count are valid)
	recs  []lineRec
}

// lineRec is one line sent.
type lineRec struct {
	start int64        // first byte written
	sent  atomic.Int64 // last byte written (the line is complete); 0 = never completed
	echo  atomic.Int64 // own echo first seen; 0 = not (yet)
	room  int
	bits  []atomic.Uint64 // receipts by client index
}

// clientCount is one client's receiving counters.
type clientCount struct {
	received   atomic.Int64 // distinct lines from others
	duplicates atomic.Int64 // lines from others seen again
	echoes     atomic.Int64 // own lines seen
	echoDups   atomic.Int64 // own lines seen again
}

// interval is a stretch of time a client was logged in and in its room.
// to < 0 means it still is; dropped tells whether it ended by a disconnect.
type interval struct {
	from, to int64
	dropped  bool
}

func newAcct(n, maxSeq int, rooms []int) *acct {
	a := &acct{n: n, words: (n + 63) / 64, maxSeq: maxSeq, rooms: rooms,
		senders: make([]senderLog, n), clients: make([]clientCount, n), presence: make([][]interval, n)}
	for i := range a.senders {
		a.senders[i].recs = make([]lineRec, maxSeq)
	}
	return a
}

// begin records the start of line seq by sender (its first byte about to
// be written). It returns false when the ledger is full.
func (a *acct) begin(sender, seq int, t int64) bool {
	sl := &a.senders[sender]
	if seq >= len(sl.recs) {
		return false
	}
	r := &sl.recs[seq]
	r.start = t
	r.room = a.rooms[sender]
	r.bits = make([]atomic.Uint64, a.words)
	sl.count.Store(int64(seq + 1)) // publishes the record to receivers
	return true
}

// complete records that the line's last byte is about to be written.
func (a *acct) complete(sender, seq int, t int64) {
	a.senders[sender].recs[seq].sent.Store(t)
	a.series.at(t).sent.Add(1)
}

// receive records that client rcpt saw the token (sender, seq) at t.
func (a *acct) receive(rcpt, sender, seq int, t int64) {
	if sender < 0 || sender >= a.n || seq < 0 {
		a.badTokens.Add(1)
		return
	}
	sl := &a.senders[sender]
	if int64(seq) >= sl.count.Load() {
		a.badTokens.Add(1)
		return
	}
	r := &sl.recs[seq]
	c := &a.clients[rcpt]
	if sender == rcpt {
		if r.echo.CompareAndSwap(0, t) {
			c.echoes.Add(1)
			a.series.at(t).echoes.Add(1)
		} else {
			c.echoDups.Add(1)
			a.noteDup(rcpt, sender, seq)
		}
		return
	}
	mask := uint64(1) << (uint(rcpt) & 63)
	if r.bits[rcpt>>6].Or(mask)&mask != 0 {
		c.duplicates.Add(1)
		a.noteDup(rcpt, sender, seq)
		return
	}
	c.received.Add(1)
	a.series.at(t).deliveries.Add(1)
	if sent := r.sent.Load(); sent > 0 {
		a.series.at(sent).delivLat.add(t - sent)
	}
}

func (a *acct) noteDup(rcpt, sender, seq int) {
	a.dupMu.Lock()
	if len(a.dupSamples) < 10 {
		a.dupSamples = append(a.dupSamples, tokenString(sender, seq)+" to client "+itoa(rcpt))
	}
	a.dupMu.Unlock()
}

// arrive records that client i is in its room from t on.
func (a *acct) arrive(i int, t int64) {
	a.presMu.Lock()
	a.presence[i] = append(a.presence[i], interval{from: t, to: -1})
	a.presMu.Unlock()
}

// leave records that client i left at t (dropped: by a disconnect).
func (a *acct) leave(i int, t int64, dropped bool) {
	a.presMu.Lock()
	defer a.presMu.Unlock()
	p := a.presence[i]
	if n := len(p); n > 0 && p[n-1].to < 0 {
		p[n-1].to, p[n-1].dropped = t, dropped
	}
}

// presentAt reports whether client i was in its room at t, and if so
// whether that stay ended by a disconnect. Call only after the run.
func (a *acct) presentAt(i int, t int64) (present, dropped bool) {
	for _, iv := range a.presence[i] {
		if t >= iv.from && (iv.to < 0 || t < iv.to) {
			return true, iv.dropped
		}
	}
	return false, false
}

// tally is what compute finds.
type tally struct {
	linesStarted, linesSent       int64 // begun; completed
	echoExpected, echoes          int64
	echoLost, echoDups            int64
	expected, received            int64
	lost, lostToDisconnect        int64
	duplicated, unexpected, bad   int64
	perClient                     []clientTally
	echoLat                       []latPoint // by send time
	lostSamples, duplicateSamples []string
	lostLines                     []lostLine // lines with lost deliveries, by send time
}

// lostLine is a line some of whose deliveries (or its own echo) were lost.
type lostLine struct {
	sender, seq int
	at          int64 // sent
	lost        int   // deliveries lost
	echoLost    bool
}

type clientTally struct {
	expected, received, lost, dups, echoes, echoLost, sent int64
}

// latPoint is one own-echo latency: the line's send time and the latency.
type latPoint struct{ at, lat int64 }

// compute counts expected deliveries (every other client in the sender's
// room when the line was complete) against the receipts. Call it once every
// sender and receiver has stopped.
func (a *acct) compute() *tally {
	tl := &tally{perClient: make([]clientTally, a.n)}
	members := map[int][]int{}
	for i, r := range a.rooms {
		members[r] = append(members[r], i)
	}
	for s := range a.senders {
		sl := &a.senders[s]
		n := int(sl.count.Load())
		tl.linesStarted += int64(n)
		for q := 0; q < n; q++ {
			r := &sl.recs[q]
			sent := r.sent.Load()
			if sent == 0 {
				// Never completed (the sender was cut off mid-line): nobody
				// can have heard it and nobody is owed it.
				continue
			}
			tl.linesSent++
			tl.perClient[s].sent++
			if ok, _ := a.presentAt(s, sent); ok {
				tl.echoExpected++
				if e := r.echo.Load(); e > 0 {
					tl.echoes++
					tl.echoLat = append(tl.echoLat, latPoint{sent, e - sent})
				} else {
					tl.echoLost++
					tl.perClient[s].echoLost++
				}
			} else if e := r.echo.Load(); e > 0 {
				tl.echoes++
				tl.echoLat = append(tl.echoLat, latPoint{sent, e - sent})
			}
			lostBefore := tl.lost
			echoLost := false
			if ok, _ := a.presentAt(s, sent); ok && r.echo.Load() == 0 {
				echoLost = true
			}
			for _, m := range members[r.room] {
				if m == s {
					continue
				}
				got := r.bits[m>>6].Load()&(1<<(uint(m)&63)) != 0
				present, dropped := a.presentAt(m, sent)
				switch {
				case present && got:
					tl.expected++
					tl.received++
					tl.perClient[m].expected++
					tl.perClient[m].received++
				case present:
					tl.expected++
					tl.lost++
					tl.perClient[m].expected++
					tl.perClient[m].lost++
					if dropped {
						tl.lostToDisconnect++
					} else if len(tl.lostSamples) < 10 {
						tl.lostSamples = append(tl.lostSamples, tokenString(s, q)+" to client "+itoa(m))
					}
				case got:
					tl.unexpected++
				}
			}
			if n := tl.lost - lostBefore; n > 0 || echoLost {
				tl.lostLines = append(tl.lostLines, lostLine{sender: s, seq: q, at: sent, lost: int(n), echoLost: echoLost})
			}
			// Receipts by clients outside the room (cannot happen unless
			// the talker misroutes): counted as unexpected.
			for w := range r.bits {
				v := r.bits[w].Load()
				for v != 0 {
					b := trailingZeros(v)
					v &= v - 1
					m := w*64 + b
					if m < a.n && a.rooms[m] != r.room {
						tl.unexpected++
					}
				}
			}
		}
	}
	for i := range a.clients {
		c := &a.clients[i]
		tl.perClient[i].dups = c.duplicates.Load()
		tl.perClient[i].echoes = c.echoes.Load()
		tl.duplicated += c.duplicates.Load()
		tl.echoDups += c.echoDups.Load()
	}
	tl.bad = a.badTokens.Load()
	a.dupMu.Lock()
	tl.duplicateSamples = append(tl.duplicateSamples, a.dupSamples...)
	a.dupMu.Unlock()
	sort.Slice(tl.echoLat, func(i, j int) bool { return tl.echoLat[i].at < tl.echoLat[j].at })
	sort.Slice(tl.lostLines, func(i, j int) bool { return tl.lostLines[i].at < tl.lostLines[j].at })
	return tl
}

func tokenString(s, q int) string { return string(appendToken(nil, s, q)) }
