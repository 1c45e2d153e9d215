package server

import (
	"talker/player"
	"talker/server/telnet"
)

// Password hashing is deliberately slow (bcrypt, ~0.2 s a hash at the
// default cost), so it runs off the world's goroutine, at most one hash a
// CPU at a time. What waits for a CPU waits here, in the world's own
// queue, so that the world decides who goes next:
//
//   - members first: the password check of an existing account (and any
//     password change of one, or a one-time password made for one) goes
//     ahead of every registration, so a flood of anonymous sign-ups
//     cannot make members wait at the password prompt;
//   - addresses in turn: within each class, one job per address in
//     round-robin, so that one address with fifty connections guessing
//     passwords gets one CPU turn in as many as the others.
//
// A queued job is only a password and a session: when a reboot pauses,
// queued jobs go back into their sessions' held input (the password line,
// as typed) and are carried to the next generation, which queues them
// again. Only jobs already running are waited for.

// hashQueue is world-owned data.
type hashQueue struct {
	members, newcomers fairQueue
}

// queuedHash is a job waiting for a CPU.
type queuedHash struct {
	sessionID uint64
	job       hashJob
}

// next is the job to run next: members' before newcomers'.
func (q *hashQueue) next() (queuedHash, bool) {
	if j, ok := q.members.pop(); ok {
		return j, true
	}
	return q.newcomers.pop()
}

// fairQueue serves its addresses in turn, each address's jobs in order.
type fairQueue struct {
	turn   []string                // addresses with jobs, in the order they are served
	byAddr map[string][]queuedHash // each address's jobs, oldest first
}

func (q *fairQueue) push(addr string, j queuedHash) {
	if q.byAddr == nil {
		q.byAddr = map[string][]queuedHash{}
	}
	if len(q.byAddr[addr]) == 0 {
		q.turn = append(q.turn, addr)
	}
	q.byAddr[addr] = append(q.byAddr[addr], j)
}

func (q *fairQueue) pop() (queuedHash, bool) {
	if len(q.turn) == 0 {
		return queuedHash{}, false
	}
	addr := q.turn[0]
	q.turn = q.turn[1:]
	jobs := q.byAddr[addr]
	j := jobs[0]
	if len(jobs) > 1 {
		q.byAddr[addr] = jobs[1:]
		q.turn = append(q.turn, addr) // its next job waits for the others' turns
	} else {
		delete(q.byAddr, addr)
	}
	return j, true
}

func (q *fairQueue) len() int {
	n := 0
	for _, jobs := range q.byAddr {
		n += len(jobs)
	}
	return n
}

// drain empties the queue, oldest turn first.
func (q *fairQueue) drain() []queuedHash {
	var out []queuedHash
	for {
		j, ok := q.pop()
		if !ok {
			return out
		}
		out = append(out, j)
	}
}

// startHash queues a hash or check for s; input s sends meanwhile is held
// back until the result is in.
func (w *World) startHash(s *Session, job hashJob) {
	s.checking = true
	q := &w.hashes.newcomers
	if !job.register || s.Player != nil || job.then != nil {
		q = &w.hashes.members
	}
	q.push(s.Addr, queuedHash{sessionID: s.ID, job: job})
	w.dispatchHashes()
}

// dispatchHashes starts queued jobs while CPUs are free. Nothing starts
// while a reboot is under way (the pause waits only for jobs already
// running), except for a new generation that cannot take held input,
// whose pause handles input here as it always did.
func (w *World) dispatchHashes() {
	for w.hashJobs < w.hashSlots && (w.phase == phaseServing || w.pause != nil && !w.pause.carry) {
		j, ok := w.nextStartable() // guardqueue.go
		if !ok {
			return
		}
		s := w.sessions[j.sessionID]
		if s == nil {
			w.checkOver(j.job)
			continue // gone while it waited
		}
		if !w.guardAtStart(s, &j.job) {
			continue // refused: the checks it waited for failed
		}
		w.runHash(j)
	}
}

func (w *World) runHash(j queuedHash) {
	w.hashJobs++
	go func() {
		res := hashResult{sessionID: j.sessionID, job: j.job}
		if j.job.register {
			res.newHash, res.err = player.HashPassword(j.job.password, j.job.cost)
		} else {
			var rehash bool
			rehash, res.err = player.CheckPassword(j.job.hash, j.job.password, j.job.cost)
			if res.err == nil && rehash {
				res.newHash, _ = player.HashPassword(j.job.password, j.job.cost)
			}
		}
		res.job.password = "" // do not keep it around longer than needed
		w.events <- res
	}()
}

// requeueHashesAsInput puts every queued job back into its session as the
// password line it came from, ahead of anything typed since, so that it is
// carried across a reboot like any input not yet handled (and handled
// again, here, if the reboot is called off).
func (w *World) requeueHashesAsInput() {
	for _, q := range []*fairQueue{&w.hashes.members, &w.hashes.newcomers} {
		for _, j := range q.drain() {
			w.checkOver(j.job)
			s := w.sessions[j.sessionID]
			if s == nil {
				continue
			}
			s.checking = false
			typed := j.job.password
			if j.job.replay != "" {
				typed = j.job.replay // not typed: what asked for it is asked again
			}
			line := telnet.Event{Kind: telnet.EventLine, Line: []byte(typed)}
			s.held = append([]telnet.Event{line}, s.held...)
		}
	}
}

// checkOver: a login's check (guarded) no longer counts as in flight in
// the login guard, whether it ran, was given up or went back to input
// (only one that started was counted: guardAtStart).
func (w *World) checkOver(job hashJob) {
	if job.guarded && job.counted {
		w.guard.end(job.addr, job.name)
	}
}
