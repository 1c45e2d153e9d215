package server

import (
	"time"

	"talker/server/telnet"
)

// The greeting waits for the client to say what it is. It used to go out
// with the opening negotiation, before any answer, so a screen reader's
// user (MTTS bit 64) heard the decorative lines and ASCII art of
// greeting.txt, and a client got GA after the name prompt although it
// would agree to EOR a moment later. Now it is sent as soon as the
// terminal-type cycle is over (a MUD client answers it in three round
// trips, well under 100 ms) or refused, or when the player types, and at
// the latest greetWait after the connection opened: a client that speaks
// no telnet (netcat) answers nothing and waits that long. A session whose
// greeting is pending carries that across a reboot and a crash
// (Session.GreetPending), and the generation that takes it over greets it.

// greetWait is the longest a greeting waits for the terminal type.
const greetWait = 500 * time.Millisecond

// startGreeting greets a new connection, or arranges to once the client
// has said what it is.
func (w *World) startGreeting(s *Session) {
	if ttypeSettled(&s.Telnet) {
		w.greet(s)
		return
	}
	s.GreetPending = true
	id := s.ID
	time.AfterFunc(greetWait, func() {
		// Posted as an event, never waited on: if the world has ended,
		// the timer's goroutine gives up.
		select {
		case w.events <- call{fn: func(w *World) { w.greetDue(id) }, done: make(chan struct{})}:
		case <-w.stopped:
		}
	})
}

// ttypeSettled says whether the terminal-type cycle is over or will not
// happen: what there is to know about the client is known.
func ttypeSettled(t *telnet.State) bool {
	return t.TTypeDone || t.Options.Get(telnet.SideHim, telnet.OptTType) == telnet.QNo
}

// greetDue greets the session id if its greeting is still pending: its
// time is up.
func (w *World) greetDue(id uint64) {
	if s := w.sessions[id]; s != nil {
		w.greetIfPending(s, true)
	}
}

// greetIfPending sends a pending greeting once it may go: the terminal
// type is settled, or due (the player typed, or the wait is over). Never
// while a reboot pauses the world: the snapshot may have been taken, and
// the next generation (or this one, after a rollback, at its next tick)
// sends it.
func (w *World) greetIfPending(s *Session, due bool) {
	if !s.GreetPending || w.paused() {
		return
	}
	if !due && !ttypeSettled(&s.Telnet) && w.cfg.Now().Sub(s.ConnectedAt) < greetWait {
		return
	}
	s.GreetPending = false
	w.touch(s)
	w.greet(s)
}
