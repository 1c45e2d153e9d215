package load

// Telnet bytes and options the load clients understand.
const (
	tIAC  = 255
	tDONT = 254
	tDO   = 253
	tWONT = 252
	tWILL = 251
	tSB   = 250
	tGA   = 249
	tSE   = 240
	tEOR  = 239

	optEcho  = 1
	optSGA   = 3
	optTType = 24
	optEOR   = 25
	optNAWS  = 31

	maxSB = 256 // longest subnegotiation kept; the rest is ignored
)

// telnetClient is the client side of one connection's telnet: it strips
// commands from what the server sends and answers negotiation like a MUD
// client would (NAWS and TTYPE offered; SGA, EOR and ECHO accepted from the
// server; everything else refused). It is owned by the connection's reader
// and allocates nothing per byte.
type telnetClient struct {
	state    uint8 // 0 data, 1 IAC, 2 verb, 3 SB, 4 SB-IAC
	verb     byte
	sb       []byte
	him, us  [256]bool // options agreed: server side (him) and ours (us)
	refused  [256]bool // options we already refused once (answer only once)
	ttypeIdx int
	width    int
	height   int
	ttypes   []string
	prompts  int // IAC GA / IAC EOR seen
}

func newTelnetClient(width, height int, ttypes []string) telnetClient {
	return telnetClient{width: width, height: height, ttypes: ttypes, sb: make([]byte, 0, 64)}
}

// feed decodes in. Text bytes (without CR and NUL, with doubled IAC undone)
// are appended to text, negotiation answers to reply.
func (t *telnetClient) feed(in, text, reply []byte) ([]byte, []byte) {
	for _, x := range in {
		switch t.state {
		case 0:
			switch x {
			case tIAC:
				t.state = 1
			case '\r', 0:
			default:
				text = append(text, x)
			}
		case 1:
			switch x {
			case tIAC:
				text = append(text, tIAC)
				t.state = 0
			case tWILL, tWONT, tDO, tDONT:
				t.verb, t.state = x, 2
			case tSB:
				t.sb, t.state = t.sb[:0], 3
			case tGA, tEOR:
				t.prompts++
				t.state = 0
			default:
				t.state = 0
			}
		case 2:
			reply = t.negotiate(reply, t.verb, x)
			t.state = 0
		case 3:
			if x == tIAC {
				t.state = 4
			} else if len(t.sb) < maxSB {
				t.sb = append(t.sb, x)
			}
		case 4:
			switch x {
			case tSE:
				reply = t.subneg(reply, t.sb)
				t.state = 0
			case tIAC:
				if len(t.sb) < maxSB {
					t.sb = append(t.sb, tIAC)
				}
				t.state = 3
			default:
				// IAC <other> inside SB: malformed; keep going as the
				// server's own decoder would.
				t.state = 3
			}
		}
	}
	return text, reply
}

func (t *telnetClient) negotiate(reply []byte, verb, opt byte) []byte {
	switch verb {
	case tWILL:
		switch opt {
		case optSGA, optEOR, optEcho:
			if !t.him[opt] {
				t.him[opt] = true
				reply = append(reply, tIAC, tDO, opt)
			}
		default:
			if !t.refused[opt] || t.him[opt] {
				t.refused[opt] = true
				t.him[opt] = false
				reply = append(reply, tIAC, tDONT, opt)
			}
		}
	case tWONT:
		if t.him[opt] {
			t.him[opt] = false
			reply = append(reply, tIAC, tDONT, opt)
		}
	case tDO:
		switch {
		case opt == optNAWS && t.width > 0:
			if !t.us[opt] {
				t.us[opt] = true
				reply = append(reply, tIAC, tWILL, optNAWS)
			}
			reply = appendNAWS(reply, t.width, t.height)
		case opt == optTType && len(t.ttypes) > 0:
			if !t.us[opt] {
				t.us[opt] = true
				t.ttypeIdx = 0
				reply = append(reply, tIAC, tWILL, optTType)
			}
		default:
			if !t.refused[opt] {
				t.refused[opt] = true
				reply = append(reply, tIAC, tWONT, opt)
			}
		}
	case tDONT:
		if t.us[opt] {
			t.us[opt] = false
			if opt == optTType {
				t.ttypeIdx = 0 // a new cycle starts if it is enabled again
			}
			reply = append(reply, tIAC, tWONT, opt)
		}
	}
	return reply
}

func appendNAWS(b []byte, w, h int) []byte {
	b = append(b, tIAC, tSB, optNAWS)
	for _, v := range [4]byte{byte(w >> 8), byte(w), byte(h >> 8), byte(h)} {
		b = append(b, v)
		if v == tIAC {
			b = append(b, tIAC)
		}
	}
	return append(b, tIAC, tSE)
}

func (t *telnetClient) subneg(reply, data []byte) []byte {
	// TTYPE SEND: answer with the next name of the cycle; the last one
	// repeats, which tells the server the cycle is over (MTTS).
	if len(data) >= 2 && data[0] == optTType && data[1] == 1 && t.us[optTType] {
		i := min(t.ttypeIdx, len(t.ttypes)-1)
		t.ttypeIdx++
		reply = append(reply, tIAC, tSB, optTType, 0)
		for j := 0; j < len(t.ttypes[i]); j++ {
			c := t.ttypes[i][j]
			reply = append(reply, c)
			if c == tIAC {
				reply = append(reply, tIAC)
			}
		}
		reply = append(reply, tIAC, tSE)
	}
	return reply
}
