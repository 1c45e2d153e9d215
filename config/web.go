package config

import "slices"

// DefaultWebListen is where the browser client listens when listen_web is
// not set and listen is the default: next to the default telnet port, on
// loopback, so that a fresh `talker run` serves all its doors.
const DefaultWebListen = "127.0.0.1:4080"

// WebListenOff, as listen_web's only entry, turns the web client off.
const WebListenOff = "off"

// WebProxyListeners returns the browser client's addresses behind a proxy
// (listen_web_proxy): each connection starts with a PROXY protocol header.
func (s *Settings) WebProxyListeners() []string { return s.ListenWebProxy }

// WebListeners returns the addresses the browser client listens on:
// listen_web; if it is empty, DefaultWebListen when listen is the default
// (a talker told to listen elsewhere, a test among them, gets no web
// listener it did not ask for, which would collide with its neighbours);
// none for ["off"].
func (s *Settings) WebListeners() []string {
	switch {
	case len(s.ListenWeb) == 1 && s.ListenWeb[0] == WebListenOff:
		return nil
	case len(s.ListenWeb) > 0:
		return s.ListenWeb
	case slices.Equal(s.Listen, Default().Listen):
		return []string{DefaultWebListen}
	}
	return nil
}
