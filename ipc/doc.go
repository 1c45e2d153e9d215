// Package ipc is the plumbing between the talker's own processes (the
// angel, each talker generation, the launcher) over private Unix sockets:
//   - lines.go: one JSON object per line, with a size limit on what is read
//     (the control socket, the angel's link, the reboot protocol's hello,
//     reports and commit);
//   - fds.go: frames that carry open descriptors (SCM_RIGHTS) with a payload
//     (the reboot's sockets, the angel's hold channel), and CloseAll;
//   - peer.go: what the peer's credentials prove (SO_PEERCRED): same user,
//     its pid.
//
// Nothing here knows what the messages mean.
package ipc
