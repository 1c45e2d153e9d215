package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"talker/server/talkertest"
)

// from dials the test server from a loopback address of its own.
func (ts *testServer) from(addr string) *talkertest.Client {
	return talkertest.Dial(ts.t, ts.addr, talkertest.Options{Width: 200, Height: 50, From: addr})
}

// guess tries a wrong password on name and returns what the talker said.
func guess(c *talkertest.Client, name string) string {
	c.Expect("name: ")
	c.Send(name)
	c.Expect("Password: ")
	c.Send("wrong-guess")
	got, _ := c.TryExpect("\n", 2*time.Second)
	return got + c.Quiet(200*time.Millisecond)
}

// One address guessing a name's password does not lock the owner out
// from another address, even one the owner never used before.
func TestGuardOwnerNotLockedOutByAGuesserElsewhere(t *testing.T) {
	ts := startServer(t)
	owner := ts.from("127.0.0.3")
	owner.Register("Olivia", "owner-password")
	owner.Send("quit")
	for i := 0; i < 6; i++ {
		guess(ts.from("127.0.0.2"), "olivia")
	}
	if got := guess(ts.from("127.0.0.2"), "olivia"); !strings.Contains(got, "Too many failed logins") {
		t.Fatalf("the guesser was not held up:\n%s", got)
	}
	c := ts.from("127.0.0.4")
	c.Login("Olivia", "owner-password")
}

// Logging into one's own account does not wipe the address's failures
// on other names.
func TestGuardOwnLoginKeepsTheAddressFailures(t *testing.T) {
	ts := startServer(t)
	for _, n := range []string{"Victim", "Other", "Third"} {
		ts.from("127.0.0.9").Register(n, "secret-"+n)
	}
	m := ts.from("127.0.0.5")
	m.Register("Mallory", "mallory-password")
	m.Send("quit")
	guess(ts.from("127.0.0.5"), "victim")
	guess(ts.from("127.0.0.5"), "victim")
	ts.from("127.0.0.5").Login("Mallory", "mallory-password")
	if got := guess(ts.from("127.0.0.5"), "other"); !strings.Contains(got, "Wrong password") {
		t.Fatalf("third guess: %s", got)
	}
	if got := guess(ts.from("127.0.0.5"), "third"); !strings.Contains(got, "Too many failed logins") {
		t.Fatalf("after three failures and a login of its own, the address was not held up:\n%s", got)
	}
}

// Guesses sent at the same moment on many connections are checked no more
// than the free tries allow.
func TestGuardSimultaneousGuessesStayWithinTheLimit(t *testing.T) {
	ts := startServer(t)
	ts.newPlayer("Target").Send("quit")
	const n = 12
	clients := make([]*talkertest.Client, n)
	for i := range clients {
		clients[i] = ts.from("127.0.0.6")
		clients[i].Expect("name: ")
		clients[i].Send("target")
		clients[i].Expect("Password: ")
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.Send("wrong-guess") }()
	}
	wg.Wait()
	checked, refused := 0, 0
	for _, c := range clients {
		got, _ := c.TryExpect("\n", 2*time.Second)
		got += c.Quiet(300 * time.Millisecond)
		switch {
		case strings.Contains(got, "Wrong password"):
			checked++
		case strings.Contains(got, "Too many failed logins"):
			refused++
		}
	}
	if checked > guardFree || checked+refused != n {
		t.Fatalf("%d guesses checked and %d refused of %d sent at once; at most %d may be checked", checked, refused, n, guardFree)
	}
}

// Registrations per address are limited; another address is not.
func TestGuardRegistrationsPerAddress(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.NewAccountsPerHour = 2 })
	ts.from("127.0.0.7").Register("Amy", "secret-Amy")
	ts.from("127.0.0.7").Register("Ben", "secret-Ben")
	c := ts.from("127.0.0.7")
	c.Expect("name: ")
	c.Send("Cat")
	c.Expect("(yes/no): ")
	c.Send("yes")
	c.Expect("too many new accounts have been made from your address")
	c.Expect("name: ")
	ts.from("127.0.0.8").Register("Cat", "secret-Cat")
}

// The hash queue serves members before newcomers, and addresses in turn.
func TestHashQueueOrder(t *testing.T) {
	var q hashQueue
	for i := uint64(1); i <= 3; i++ {
		q.newcomers.push("10.0.0.1", queuedHash{sessionID: i})
	}
	q.newcomers.push("10.0.0.2", queuedHash{sessionID: 4})
	q.members.push("10.0.0.1", queuedHash{sessionID: 5})
	q.members.push("10.0.0.1", queuedHash{sessionID: 6})
	q.members.push("10.0.0.3", queuedHash{sessionID: 7})
	var order []uint64
	for {
		j, ok := q.next()
		if !ok {
			break
		}
		order = append(order, j.sessionID)
	}
	want := []uint64{5, 7, 6, 1, 4, 2, 3}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}
