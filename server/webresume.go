package server

import "bytes"

// Resuming a browser session after the network dropped (link-dead resume,
// linkdead.go). A playing WebSocket session is given a resume token, sent
// to the page in a control frame (conn.SendWebControl), whenever it has
// none: at its first input after logging in or resuming (the page sends a
// telnet NOP shortly after a password and every 25 s, so that comes
// soon). When its connection drops, the page reconnects and, at the name
// prompt, sends the line "resume:TOKEN": the session is taken over on the
// new connection with what it missed. A name can never look like that
// line (names are letters only). Only the token's SHA-256 is kept.

// webResumePrefix starts the line that presents a resume token.
const webResumePrefix = "resume:"

// webResume handles a resume line at the name prompt; false if raw is not
// one.
func (w *World) webResume(s *Session, raw []byte) bool {
	token, ok := bytes.CutPrefix(raw, []byte(webResumePrefix))
	if !ok {
		return false
	}
	if !w.resumeByToken(s, string(bytes.TrimSpace(token))) {
		s.println("Your earlier session has ended; please log in again.")
		s.prompt(promptName)
	}
	return true
}

// webOffer gives a playing browser session a resume token if it has none.
func (w *World) webOffer(s *Session) {
	if s.conn == nil || !s.conn.WebSocket() || s.Player == nil || s.Login.Stage != StagePlaying || s.resumeDigest != "" {
		return
	}
	if token := w.resumeToken(s); token != "" {
		s.conn.SendWebControl("resume " + token)
	}
}
