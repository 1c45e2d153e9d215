// Package telnet is the talker's byte-level telnet codec.
//
// It has four parts:
//
//   - Decoder turns raw socket bytes into lines and telnet events
//     (negotiations, subnegotiations, commands). It copes with any sequence
//     split across reads, handles CR LF / CR NUL / bare CR / bare LF, applies
//     backspace, DEL, IAC EC and IAC EL for character-at-a-time clients, and
//     bounds every buffer.
//   - Options is an RFC 1143 "Q method" option table. It is what stops
//     negotiation loops: a request that would not change state is never sent
//     and never answered.
//   - State is one connection's negotiated telnet state (window size,
//     terminal type and MTTS bits, charset, password mode) together with the
//     server's negotiation policy (State.Open, State.Handle).
//   - AppendEscaped and friends encode server output for the wire.
//
// Decoder and State are plain data: exported fields only, no pointers to
// shared objects, and they round-trip through encoding/json. The server
// serialises them to carry a connection across the exec of a new binary
// during a seamless reboot; parsing then resumes exactly where it stopped,
// even in the middle of a line or of a telnet sequence. Clients do not
// renegotiate after such a reboot, so the state must not be re-opened:
// call State.Open only for brand-new connections.
//
// The package does no I/O, starts no goroutines and has no mutable globals.
// A Decoder belongs to the connection's reader goroutine; a State must be
// guarded by its owner if more than one goroutine touches it.
//
// Typical use:
//
//	d := telnet.NewDecoder(4096, 1024)
//	st := telnet.NewState()
//	conn.Write(st.Open())
//	var evs []telnet.Event
//	for {
//		n, err := conn.Read(buf)
//		evs = d.Feed(buf[:n], evs[:0])
//		for _, ev := range evs {
//			if ev.Kind == telnet.EventLine {
//				handleLine(ev.Line)
//				continue
//			}
//			reply, changed := st.Handle(ev, msspVars)
//			conn.Write(reply)
//			_ = changed // e.g. re-wrap output on ChangedSize
//		}
//		...
//	}
package telnet

// Telnet command bytes (RFC 854, EOR from RFC 885).
const (
	IAC  byte = 255 // Interpret As Command: introduces every telnet sequence
	DONT byte = 254 // ask the peer to stop performing an option
	DO   byte = 253 // ask the peer to perform an option
	WONT byte = 252 // refuse to perform / stop performing an option
	WILL byte = 251 // offer / agree to perform an option
	SB   byte = 250 // start of subnegotiation
	GA   byte = 249 // Go Ahead: marks the end of a prompt
	EL   byte = 248 // Erase Line
	EC   byte = 247 // Erase Character
	AYT  byte = 246 // Are You There
	AO   byte = 245 // Abort Output
	IP   byte = 244 // Interrupt Process
	BRK  byte = 243 // Break
	DM   byte = 242 // Data Mark
	NOP  byte = 241 // No Operation
	SE   byte = 240 // end of subnegotiation
	EOR  byte = 239 // End Of Record: marks the end of a prompt once OptEOR is agreed
)

// Telnet option codes used by MUD clients.
const (
	OptEcho       byte = 1   // RFC 857; the server uses it only to hide password input
	OptSGA        byte = 3   // RFC 858 Suppress Go Ahead
	OptTType      byte = 24  // RFC 1091 terminal type, with the MTTS extension
	OptEOR        byte = 25  // RFC 885 End Of Record
	OptNAWS       byte = 31  // RFC 1073 window size
	OptLinemode   byte = 34  // RFC 1184; always refused
	OptNewEnviron byte = 39  // RFC 1572 (MNES); not offered
	OptCharset    byte = 42  // RFC 2066
	OptMSSP       byte = 70  // MUD Server Status Protocol
	OptMCCP2      byte = 86  // server-to-client compression; not offered
	OptMCCP3      byte = 87  // client-to-server compression; offered outside State.Open (package server's mccp3.go)
	OptGMCP       byte = 201 // Generic MUD Communication Protocol (gmcp.go)
)

// commandName names a command byte for diagnostics.
func commandName(b byte) string {
	names := [...]string{"EOR", "SE", "NOP", "DM", "BRK", "IP", "AO", "AYT", "EC", "EL", "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC"}
	if b >= EOR {
		return names[b-EOR]
	}
	return ""
}
