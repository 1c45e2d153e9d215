// Package reboot hands a running talker over to a freshly exec'd binary
// without dropping a connection, and runs the lifecycle hooks around every
// start and stop. It moves bytes and descriptors; what the state means is
// package state's and the server's business.
//
// One concern per file, the two sides of a handoff named by role:
//   - upgrader.go: the process's one tableflip.Upgrader. It starts the new
//     binary as a child that inherits the listening sockets, waits for it
//     to become ready (or to fail, or to time out), and only then lets the
//     old process exit.
//   - parent.go: the old generation's side (Attempt): Begin starts the
//     child and waits for it to connect; Stage sends it sockets (and the
//     caller's description of them) while the old generation still serves;
//     Complete sends the state after the pause, waits for the child's
//     report and readiness, and commits; any failure kills the child.
//   - child.go: the new generation's side (Incoming): Receive, NextStage,
//     AwaitState, Ready, Reject.
//   - offer.go: the angel's side of a crash recovery (Offer): everything in
//     one message, to the one process started with its environment.
//   - protocol.go: the messages on the private Unix socket between them
//     (package ipc), the state file and the environment that names it.
//   - hooks.go: Evennia-style hook sets called in a fixed order per event.
//   - modes.go: what kind of stop or start this is, and the exit codes the
//     angel relies on.
//
// The server's halves of a reboot, which drive these, are
// server/reboot_parent.go and server/reboot_child.go.
package reboot
