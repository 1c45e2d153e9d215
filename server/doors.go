package server

import (
	"net"
	"slices"
	"strings"

	"talker/server/conn"
)

// The kinds of door a player comes in by, as `talker status` counts them
// (issue 12): connections of each kind, and the addresses each kind is
// served on. A listener behind a proxy counts as its kind (telnet or web).
const (
	DoorTelnet = "telnet"  // a telnet port (listen, listen_proxy)
	DoorTLS    = "tls"     // telnet inside TLS (listen_tls)
	DoorWeb    = "web"     // the browser client over http and ws (listen_web, listen_web_proxy)
	DoorWebTLS = "web_tls" // the browser client over https and wss: the TLS ports (webtls.go)
)

// DoorKinds lists the kinds in the order status shows them.
func DoorKinds() []string { return []string{DoorTelnet, DoorTLS, DoorWeb, DoorWebTLS} }

// DoorName is how status names a kind to a person.
func DoorName(kind string) string {
	switch kind {
	case DoorTLS:
		return "TLS"
	case DoorWebTLS:
		return "web over TLS"
	}
	return kind
}

// connDoor is the kind of door c came in by.
func connDoor(c *conn.Conn) string {
	switch {
	case c.WebSocket() && c.TLS():
		return DoorWebTLS
	case c.WebSocket():
		return DoorWeb
	case c.TLS():
		return DoorTLS
	}
	return DoorTelnet
}

// connectionsByDoor counts the World's connections by kind (link-dead
// sessions have none and are not counted); every kind is present.
func (w *World) connectionsByDoor() map[string]int {
	n := map[string]int{}
	for _, k := range DoorKinds() {
		n[k] = 0
	}
	for _, s := range w.sessions {
		if s.conn != nil {
			n[connDoor(s.conn)]++
		}
	}
	return n
}

// listenerDoors is what status shows of the listeners: every address as a
// name (listenerName; a TLS port twice, as tls://ADDR and as the
// https://ADDR/ its browsers use), and the names by kind. They are in
// the order of their names, which does not change from one status to the
// next (the listeners join the server in whatever order their goroutines
// start).
func listenerDoors(lns []net.Listener) (names []string, byKind map[string][]string) {
	byKind = map[string][]string{}
	lns = slices.Clone(lns)
	slices.SortStableFunc(lns, func(a, b net.Listener) int { return strings.Compare(listenerName(a), listenerName(b)) })
	for _, ln := range lns {
		name := listenerName(ln)
		names = append(names, name)
		switch ln.(type) {
		case tlsListener:
			byKind[DoorTLS] = append(byKind[DoorTLS], name)
			https := "https://" + ln.Addr().String() + "/"
			names = append(names, https)
			byKind[DoorWebTLS] = append(byKind[DoorWebTLS], https)
		case webListener:
			byKind[DoorWeb] = append(byKind[DoorWeb], name)
		default:
			byKind[DoorTelnet] = append(byKind[DoorTelnet], name)
		}
	}
	return names, byKind
}
