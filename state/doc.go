// Package state is the format in which a talker generation hands its
// sessions and its talker-wide state to the next: at a seamless reboot (the
// old generation to the new), in the angel's checkpoints and at its crash
// recovery (the angel to a new generation). It is the one definition of
// that format: the container (Snapshot), the session record (Session), the
// talker-wide state (System), the codec of every version, and the golden
// files in testdata that every version must go on reading.
//
// Its structs are the wire, not the talker's own types: every field's key
// is spelled out in its tag, and the talker converts its values to and from
// them (server/state.go). Renaming a field of the player, telnet, conn or
// login types therefore cannot change what is written; adding one here is a
// format change, checked against the golden files. Decoding ignores keys it
// does not know, so a field added by a newer build is dropped, not refused.
//
// Versions (Version is the newest this build reads and writes):
//   - 1: one JSON object. Older angels still write it for a crash recovery.
//   - 2: a container: a magic line, a JSON header line (the snapshot
//     without its sessions) and each session's record, length-prefixed, so
//     that neither side handles a multi-megabyte document as a whole; the
//     records are JSON.
//   - 3: the same container with CBOR records (RFC 8949): half the size and
//     twice as fast to encode and decode as JSON, which is most of a
//     reboot's cost at 10,000 connections.
//   - 4: records may carry Held (input received but left for the next
//     generation to handle) and may be Staged (only what changed during the
//     pause, the rest being the record sent with the socket before it). A
//     build that would ignore either (and lose lines, or sessions) must
//     refuse the state, hence the bump.
//   - 5: a record's Login.Stage may be one of the stages after playing (a
//     logged-in player in the middle of 'password' or of deleting their
//     account, or a login choosing a new password after a one-time one).
//     The record's fields are those of 4; a build that does not know
//     these stages would drop the player or leave them at a prompt it no
//     longer answers, so it must refuse the state (a reboot into it rolls
//     back while anyone is at one of those prompts).
//   - 6: a record may carry a Pager (a command's output being read a page
//     at a time, and where) or an Editor (a mail or description being
//     typed line by line, and its lines), and a Player its page length.
//     A build that ignored them would drop the page silently and run the
//     lines of a mail being written as commands, so it must refuse the
//     state while anyone is in either.
//   - 7: a record may carry state added in session 7 of this project's
//     history, each part of which a build before it would drop while the
//     player depends on it (compression of the output stream, negotiated
//     GMCP modules, a transport's framing, session modes such as converse
//     or aliases). The server decides per record (Session.needsVersion7).
//
// A writer uses the oldest version that carries what it writes (VersionFor):
// a reboot into the previous build, and the angel's checkpoints, are version
// 3 (a reboot's is 4 with held input or staged records, 5 with a later
// login stage, 6 with someone in the pager or the editor, 7 with a session
// carrying version 7's state). A reader
// refuses a version newer than its own, before it is ready, so the
// generation that offered it simply carries on.
//
// Files: snapshot.go (the container), session.go (the session record and
// its parts), system.go (the talker-wide state), codec.go (records' encoding
// per version).
package state
