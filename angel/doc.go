// Package angel is the talker's watchdog. It starts the talker, follows it
// across seamless reboots (which change its pid), tells a deliberate stop
// from a crash by exit code and by what the talker said before exiting,
// restarts crashes with back-off, gives up on a crash loop, kills a talker
// that is alive but hung, and adopts a running talker after it has itself
// been restarted.
//
// One goroutine owns the angel's state (run); everything else — the
// child reaper, the socket's readers, launcher commands, signals — sends it
// events. One concern per file:
//   - lock.go: single instance by flock, held for the angel's lifetime.
//   - policy.go: back-off and crash-loop accounting (pure).
//   - proc.go: starting the talker and reaping children.
//   - angel.go: the state machine.
//   - link (package): the protocol on the angel's socket.
package angel
