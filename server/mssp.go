package server

import (
	"net"
	"strconv"
	"strings"

	"talker/server/telnet"
)

// MSSP (the MUD Server Status Protocol) tells listing sites' crawlers about
// the talker: over telnet (option 70, sent when a client agrees to it) and,
// for crawlers that cannot negotiate, as plain text in answer to the line
// MSSP-REQUEST at the name prompt. The values come from the configuration
// file's [mssp] section; UPTIME is the last cold start, which seamless
// reboots carry, so listings do not see a reboot as a restart.

// msspRequest is the line a crawler types at the name prompt to get the
// plain-text form (no valid name has a hyphen).
const msspRequest = "MSSP-REQUEST"

// mssp is the MSSP variables, in the order sent. A variable with several
// values (PORT) is several entries with the same name, in a row; an empty
// value is left out.
func (w *World) mssp() []telnet.MSSPVar {
	m := w.cfg.MSSP
	vars := make([]telnet.MSSPVar, 0, 48)
	add := func(name, value string) {
		if value != "" {
			vars = append(vars, telnet.MSSPVar{Name: name, Value: value})
		}
	}
	num := func(name string, n int) { add(name, strconv.Itoa(n)) }
	// Required.
	add("NAME", w.cfg.Name)
	num("PLAYERS", len(w.online))
	add("UPTIME", strconv.FormatInt(w.system.ColdStartedAt.Unix(), 10))
	// Generic.
	add("CODEBASE", "talker (Go)")
	add("CONTACT", m.Contact)
	num("CRAWL DELAY", m.CrawlDelay)
	add("CREATED", m.Created)
	add("DISCORD", m.Discord)
	add("HOSTNAME", m.Hostname)
	add("ICON", m.Icon)
	add("LANGUAGE", m.Language)
	add("LOCATION", m.Location)
	if m.MinimumAge > 0 {
		num("MINIMUM AGE", m.MinimumAge)
	}
	for _, p := range w.ports() {
		add("PORT", p)
	}
	if port := w.tlsPort(); port > 0 { // tls.go: mssp.tls_port, else our TLS listener
		// Mudlet reads TLS (or the older SSL) as the port to offer a
		// secure reconnection to; the spec lists SSL: send both.
		num("SSL", port)
		num("TLS", port)
	}
	add("WEBSITE", m.Website)
	// Categorisation.
	add("FAMILY", "Custom")
	add("GENRE", "None")
	add("SUBGENRE", "Talker")
	add("GAMEPLAY", "Social")
	add("GAMESYSTEM", "None")
	add("STATUS", m.Status)
	// World.
	num("AREAS", 0)
	num("MOBILES", 0)
	num("OBJECTS", 0)
	num("ROOMS", len(w.rooms))
	num("CLASSES", 0)
	num("LEVELS", 0)
	num("RACES", 0)
	num("SKILLS", 0)
	// Protocols.
	for _, p := range [...]struct {
		name string
		on   bool
	}{{"ANSI", true}, {"GMCP", true}, {"MCCP", !w.cfg.NoMCCP}, {"MCP", false}, {"MSDP", false}, {"MSP", false},
		{"MXP", false}, {"PUEBLO", false}, {"UTF-8", true}, {"VT100", false},
		{"XTERM 256 COLORS", false}, {"XTERM TRUE COLORS", false}} {
		add(p.name, boolString(p.on))
	}
	// Commercial, hiring.
	for _, name := range [...]string{"PAY TO PLAY", "PAY FOR PERKS", "HIRING BUILDERS", "HIRING CODERS"} {
		add(name, "0")
	}
	return vars
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ports is the telnet ports the configuration file lists, without repeats,
// in its order (MSSP wants the most important last; the file's first is the
// one a listing shows first, so the order is reversed).
func (w *World) ports() []string {
	var out []string
	seen := map[string]bool{}
	listen := w.cfg.Settings.Listen
	for i := len(listen) - 1; i >= 0; i-- {
		_, port, err := net.SplitHostPort(listen[i])
		if err != nil || port == "0" || seen[port] {
			continue
		}
		seen[port] = true
		out = append(out, port)
	}
	return out
}

// msspText is the plain-text form: MSSP-REPLY-START, a "NAME<tab>VALUE"
// line per value, MSSP-REPLY-END, every line ending in CR LF.
func msspText(vars []telnet.MSSPVar) []byte {
	var b strings.Builder
	b.WriteString("MSSP-REPLY-START\r\n")
	clean := strings.NewReplacer("\t", " ", "\r", " ", "\n", " ")
	for _, v := range vars {
		b.WriteString(clean.Replace(v.Name))
		b.WriteByte('\t')
		b.WriteString(clean.Replace(v.Value))
		b.WriteString("\r\n")
	}
	b.WriteString("MSSP-REPLY-END\r\n")
	return telnet.AppendEscaped(nil, b.String())
}

// answerMSSPRequest sends a crawler the plain-text form and closes the
// connection, as crawlers expect (they do not log in).
func (w *World) answerMSSPRequest(s *Session) {
	w.log.Info().Uint64("conn", s.ID).Str("addr", s.Addr).Msg("MSSP-REQUEST answered")
	s.send(msspText(w.mssp()))
	w.closeSession(s, closeQuitAtLogin)
}
