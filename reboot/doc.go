// Package reboot hands a running talker over to a freshly exec'd binary
// without dropping a connection, and runs the lifecycle hooks around every
// start and stop.
//
// The mechanism, one concern per file:
//   - upgrader.go: the single tableflip.Upgrader of the process. It starts
//     the new binary as a child that inherits the listening sockets, waits
//     for it to become ready (or to fail, or to time out), and only then
//     lets the old process exit.
//   - handover.go: the old generation's side of a reboot, step by step:
//     Begin starts the child and waits for it to connect; Stage sends it
//     sockets (and the caller's description of them) while the old
//     generation still serves; Complete sends the state after the pause,
//     waits for the child's report and readiness, and commits; any failure
//     kills the child.
//   - handoff.go: the child's side (Receive, NextStage, AwaitState, Ready,
//     Reject) and the one-message Offer the angel uses to recover from a
//     crash; everything travels over a private Unix socket (SCM_RIGHTS,
//     package ipc).
//   - hooks.go: Evennia-style hook sets called in a fixed order per event.
//   - modes.go: what kind of stop or start this is, and the exit codes the
//     angel relies on.
//
// What the state contains is the server's business: this package moves an
// opaque, versioned byte slice and a list of descriptors.
package reboot
