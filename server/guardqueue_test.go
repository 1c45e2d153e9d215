package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"talker/server/talkertest"
)

// Many people behind one address (a NAT) typing their passwords at the
// same moment all get in: the checks wait their turn rather than count
// against the free tries and be refused.
func TestGuardSimultaneousLoginsFromOneAddressAllGetIn(t *testing.T) {
	ts := startServer(t)
	const n = 16
	names := make([]string, n)
	for i := range names {
		names[i] = "Crowd" + string(rune('a'+i))
		ts.from("127.0.0.11").Register(names[i], "secret-"+names[i])
	}
	clients := make([]*talkertest.Client, n)
	for i := range clients {
		clients[i] = ts.from("127.0.0.12")
		clients[i].Expect("name: ")
		clients[i].Send(names[i])
		clients[i].Expect("Password: ")
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.Send("secret-" + names[i]) }()
	}
	wg.Wait()
	for i, c := range clients {
		got, ok := c.TryExpect("Exits:", 5*time.Second)
		if !ok || !strings.Contains(got, "Welcome") {
			t.Errorf("%s, one of %d logging in at once from one address, did not get in:\n%s", names[i], n, got)
		}
	}
}

// popFirst passes over addresses whose oldest job may not start, and
// they keep their place in the turn.
func TestFairQueuePopFirst(t *testing.T) {
	var q fairQueue
	q.push("a", queuedHash{sessionID: 1})
	q.push("a", queuedHash{sessionID: 2})
	q.push("b", queuedHash{sessionID: 3})
	q.push("c", queuedHash{sessionID: 4})
	held := map[uint64]bool{1: true}
	ok := func(j queuedHash) bool { return !held[j.sessionID] }
	var order []uint64
	take := func() {
		j, found := q.popFirst(ok)
		if !found {
			t.Fatalf("nothing to start after %v", order)
		}
		order = append(order, j.sessionID)
	}
	take() // 3: a's oldest is held
	held[1] = false
	take() // 1: a kept its place, ahead of c
	take() // 4
	take() // 2
	if _, found := q.popFirst(ok); found || q.len() != 0 {
		t.Fatalf("queue not empty after %v", order)
	}
	if got, want := order, []uint64{3, 1, 4, 2}; len(got) != len(want) || got[0] != 3 || got[1] != 1 || got[2] != 4 || got[3] != 2 {
		t.Fatalf("order %v, want %v", got, want)
	}
}
