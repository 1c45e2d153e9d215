package server

// A login's password check waits in the hash queue, rather than being
// refused, while the login guard counts checks in flight from the same
// address (or for the same name) that, were they all to fail, would use
// up the free tries (loginGuard.busy). It starts when they end, or is
// refused then if they did fail (loginGuard.blocked). So guesses sent at
// once still get no more than the free tries before the guard's wait,
// and many honest people behind one address all get in: 10,000 logins
// from the load generator's one address, 256 at a time, had 4,571
// refused as "too many failed logins" when a check in flight counted
// against the free tries at the moment the password was typed.

// popFirst takes the job of the first address in turn whose oldest job
// may start (ok), leaving the addresses before it where they are in the
// turn, so that they go first once they may.
func (q *fairQueue) popFirst(ok func(queuedHash) bool) (queuedHash, bool) {
	for i, addr := range q.turn {
		jobs := q.byAddr[addr]
		j := jobs[0]
		if !ok(j) {
			continue
		}
		q.turn = append(q.turn[:i:i], q.turn[i+1:]...)
		if len(jobs) > 1 {
			q.byAddr[addr] = jobs[1:]
			q.turn = append(q.turn, addr) // its next job waits for the others' turns
		} else {
			delete(q.byAddr, addr)
		}
		return j, true
	}
	return queuedHash{}, false
}

// nextStartable is the job to start next (members' before newcomers'),
// passing over logins' checks the guard holds back for now.
func (w *World) nextStartable() (queuedHash, bool) {
	mayStart := func(j queuedHash) bool {
		return !j.job.guarded || !w.guard.busy(j.job.addr, j.job.name, j.job.trusted)
	}
	if j, ok := w.hashes.members.popFirst(mayStart); ok {
		return j, true
	}
	return w.hashes.newcomers.pop()
}

// guardAtStart is the guard's word on a login's check about to start:
// false if the failures of the checks it waited for now hold the login
// up, in which case it has been refused. A check that starts is counted
// as a failure until it is known not to be one (checkOver).
func (w *World) guardAtStart(s *Session, j *hashJob) bool {
	if !j.guarded {
		return true
	}
	if wait := w.guard.blocked(j.addr, j.name, j.trusted, w.cfg.Now()); wait > 0 {
		s.checking = false
		w.refuseThrottled(s, wait)
		return false
	}
	w.guard.begin(j.addr, j.name)
	j.counted = true
	return true
}
