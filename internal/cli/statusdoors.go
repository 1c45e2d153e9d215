package cli

import (
	"fmt"
	"strings"

	"talker/server"
)

// What `talker status` says about each kind of door (issue 12): the
// connections by kind and the addresses each kind is served on, from the
// talker's status (server/doors.go). A talker older than that sends
// neither; nothing is then said.

// doorsLine is the listening addresses by kind, one clause a kind, or ""
// when the talker did not say.
func doorsLine(st *server.Status) string {
	if st.ListeningByKind == nil {
		return ""
	}
	var parts []string
	for _, k := range server.DoorKinds() {
		addrs := st.ListeningByKind[k]
		if len(addrs) == 0 {
			parts = append(parts, server.DoorName(k)+": off")
			continue
		}
		parts = append(parts, server.DoorName(k)+": "+strings.Join(addrs, ", "))
	}
	return "doors: " + strings.Join(parts, "; ")
}

// connectionsByKind is ", N telnet, N TLS, ..." for the connections
// line, or "" when the talker did not say.
func connectionsByKind(st *server.Status) string {
	if st.ConnectionsByKind == nil {
		return ""
	}
	var parts []string
	for _, k := range server.DoorKinds() {
		parts = append(parts, fmt.Sprintf("%d %s", st.ConnectionsByKind[k], server.DoorName(k)))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// doorsJSON fills status --json's by-kind fields: every kind present,
// with 0 and [] where there is none; nil (null) when the talker did not
// say.
func doorsJSON(st *server.Status) (conns map[string]int, listening map[string][]string) {
	if st.ConnectionsByKind != nil {
		conns = map[string]int{}
		for _, k := range server.DoorKinds() {
			conns[k] = st.ConnectionsByKind[k]
		}
	}
	if st.ListeningByKind != nil {
		listening = map[string][]string{}
		for _, k := range server.DoorKinds() {
			listening[k] = append([]string{}, st.ListeningByKind[k]...)
		}
	}
	return conns, listening
}
