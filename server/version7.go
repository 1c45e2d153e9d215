package server

// needsVersion7 says whether the session carries state that only state
// format version 7 reads (see package state): a build before it would drop
// that state while the player depends on it, so a reboot into such a build
// must be refused while any session needs it. Each feature that adds such
// state adds its clause here.
func (s *Session) needsVersion7() bool {
	if s.carriesMCCP() || s.carriesMCCP3() { // mccp.go, mccp3.go
		return true
	}
	if s.gmcpCarried() || s.GreetPending { // gmcp.go, greeting.go
		return true
	}
	if s.Player != nil && carriesProfile(s.Player) { // profile.go
		return true
	}
	if s.conn != nil && s.conn.WebSocket() { // webstate.go: a browser client's framing
		return true
	}
	if s.conn != nil && s.conn.TLS() { // tlsstate.go: a TLS session's record layer
		return true
	}
	if s.carriesTalk() { // converse.go
		return true
	}
	if s.linkDead != nil || s.resumeDigest != "" { // linkdead.go
		return true
	}
	return false
}
