package telnet

// AppendEscaped appends text to dst in NVT form for the wire: every 0xFF is
// doubled (so it is not read as IAC), "\n" becomes "\r\n", a "\r\n" already
// present is kept as is, and a lone "\r" becomes "\r\0" (RFC 854's bare
// carriage return). A "\r" at the very end of text is treated as lone, so do
// not split a "\r\n" across calls.
func AppendEscaped(dst []byte, text string) []byte {
	start := 0 // text[start:i] is pending verbatim output
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != IAC && c != '\r' && c != '\n' {
			continue
		}
		dst = append(dst, text[start:i]...)
		switch {
		case c == IAC:
			dst = append(dst, IAC, IAC)
		case c == '\r' && i+1 < len(text) && text[i+1] == '\n':
			i++
			dst = append(dst, '\r', '\n')
		case c == '\r':
			dst = append(dst, '\r', 0)
		default: // '\n'
			dst = append(dst, '\r', '\n')
		}
		start = i + 1
	}
	return append(dst, text[start:]...)
}

// AppendNegotiation appends IAC verb opt to dst.
func AppendNegotiation(dst []byte, verb, opt byte) []byte {
	return append(dst, IAC, verb, opt)
}

// AppendSubneg appends IAC SB opt <data> IAC SE to dst, doubling every 0xFF
// in data. For example AppendSubneg(dst, OptMCCP2, nil) is the MCCP2 start
// marker.
func AppendSubneg(dst []byte, opt byte, data []byte) []byte {
	dst = append(dst, IAC, SB, opt)
	for _, c := range data {
		if c == IAC {
			dst = append(dst, IAC)
		}
		dst = append(dst, c)
	}
	return append(dst, IAC, SE)
}

// AppendMSSP appends one MSSP subnegotiation carrying vars to dst:
// IAC SB MSSP { MSSP_VAR name MSSP_VAL value } IAC SE. Bytes that would
// break the framing (0, MSSP_VAR, MSSP_VAL and 0xFF, which never occurs in
// UTF-8 anyway) are stripped from names and values; variables whose name
// ends up empty are skipped.
func AppendMSSP(dst []byte, vars []MSSPVar) []byte {
	dst = append(dst, IAC, SB, OptMSSP)
	for i, v := range vars {
		if i > 0 && v.Name == vars[i-1].Name && v.Name != "" {
			// Another value of the same variable (an array, e.g. PORT):
			// one MSSP_VAR, several MSSP_VALs.
			dst = appendMSSPText(append(dst, msspVal), v.Value)
			continue
		}
		n := len(dst)
		dst = appendMSSPText(append(dst, msspVar), v.Name)
		if len(dst) == n+1 {
			dst = dst[:n]
			continue
		}
		dst = appendMSSPText(append(dst, msspVal), v.Value)
	}
	return append(dst, IAC, SE)
}

func appendMSSPText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, msspVar, msspVal, IAC:
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
