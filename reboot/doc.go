// Package reboot hands a running talker over to a freshly exec'd binary
// without dropping a connection, and runs the lifecycle hooks around every
// start and stop.
//
// The mechanism, one concern per file:
//   - upgrader.go: the single tableflip.Upgrader of the process. It starts
//     the new binary as a child that inherits the listening sockets, waits
//     for it to become ready (or to fail, or to time out), and only then
//     lets the old process exit.
//   - handoff.go: the players' sockets and the state file reach the child
//     over a private Unix socket (SCM_RIGHTS, package fdpass); the child
//     reports how its restore went, and the parent commits or rolls back.
//   - hooks.go: Evennia-style hook sets called in a fixed order per event.
//   - modes.go: what kind of stop or start this is, and the exit codes the
//     angel relies on.
//
// What the state contains is the server's business: this package moves an
// opaque, versioned byte slice and a list of descriptors.
package reboot
