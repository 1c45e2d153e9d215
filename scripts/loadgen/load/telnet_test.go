package load

import (
	"bytes"
	"testing"
)

func feedAll(tc *telnetClient, in ...[]byte) (text, reply []byte) {
	for _, b := range in {
		var t, r []byte
		t, r = tc.feed(b, nil, nil)
		text = append(text, t...)
		reply = append(reply, r...)
	}
	return text, reply
}

func TestTelnetNegotiation(t *testing.T) {
	tc := newTelnetClient(250, 50, ttypes)
	for _, c := range []struct {
		name      string
		in, reply []byte
	}{
		{"WILL SGA", []byte{tIAC, tWILL, optSGA}, []byte{tIAC, tDO, optSGA}},
		{"WILL SGA again", []byte{tIAC, tWILL, optSGA}, nil},
		{"WILL EOR", []byte{tIAC, tWILL, optEOR}, []byte{tIAC, tDO, optEOR}},
		{"DO NAWS", []byte{tIAC, tDO, optNAWS}, []byte{tIAC, tWILL, optNAWS, tIAC, tSB, optNAWS, 0, 250, 0, 50, tIAC, tSE}},
		{"DO TTYPE", []byte{tIAC, tDO, optTType}, []byte{tIAC, tWILL, optTType}},
		{"TTYPE SEND 1", []byte{tIAC, tSB, optTType, 1, tIAC, tSE}, append(append([]byte{tIAC, tSB, optTType, 0}, "LOADGEN"...), tIAC, tSE)},
		{"TTYPE SEND 2", []byte{tIAC, tSB, optTType, 1, tIAC, tSE}, append(append([]byte{tIAC, tSB, optTType, 0}, "XTERM"...), tIAC, tSE)},
		{"TTYPE SEND 3", []byte{tIAC, tSB, optTType, 1, tIAC, tSE}, append(append([]byte{tIAC, tSB, optTType, 0}, "MTTS 5"...), tIAC, tSE)},
		{"TTYPE SEND 4 repeats", []byte{tIAC, tSB, optTType, 1, tIAC, tSE}, append(append([]byte{tIAC, tSB, optTType, 0}, "MTTS 5"...), tIAC, tSE)},
		{"WILL CHARSET refused", []byte{tIAC, tWILL, 42}, []byte{tIAC, tDONT, 42}},
		{"WILL CHARSET again: no loop", []byte{tIAC, tWILL, 42}, nil},
		{"DO MCCP refused", []byte{tIAC, tDO, 86}, []byte{tIAC, tWONT, 86}},
		{"WILL ECHO (password)", []byte{tIAC, tWILL, optEcho}, []byte{tIAC, tDO, optEcho}},
		{"WONT ECHO", []byte{tIAC, tWONT, optEcho}, []byte{tIAC, tDONT, optEcho}},
		{"WONT ECHO again", []byte{tIAC, tWONT, optEcho}, nil},
		{"DONT TTYPE", []byte{tIAC, tDONT, optTType}, []byte{tIAC, tWONT, optTType}},
	} {
		text, reply := feedAll(&tc, c.in)
		if len(text) != 0 || !bytes.Equal(reply, c.reply) {
			t.Errorf("%s: text %q reply %v, want reply %v", c.name, text, reply, c.reply)
		}
	}
}

func TestTelnetNAWSEscapesIAC(t *testing.T) {
	tc := newTelnetClient(255, 255, nil)
	_, reply := feedAll(&tc, []byte{tIAC, tDO, optNAWS})
	want := []byte{tIAC, tWILL, optNAWS, tIAC, tSB, optNAWS, 0, 255, 255, 0, 255, 255, tIAC, tSE}
	if !bytes.Equal(reply, want) {
		t.Errorf("reply %v, want %v", reply, want)
	}
}

func TestTelnetText(t *testing.T) {
	tc := newTelnetClient(250, 50, ttypes)
	in := []byte("Hi\r\nPlease enter your name: ")
	in = append(in, tIAC, tGA)
	in = append(in, "caf\xff"...)
	in = append(in, tIAC, 'x', tIAC, tIAC, '!', tIAC, tSB, 99, 1, 2, tIAC, tIAC, tIAC, tSE, '\r', 0, 'z')
	// Fed whole and byte by byte, the text is the same.
	want := []byte("Hi\nPlease enter your name: caf\xffx\xff!z")
	text, _ := feedAll(&tc, in)
	tc2 := newTelnetClient(250, 50, ttypes)
	var pieces [][]byte
	for i := range in {
		pieces = append(pieces, in[i:i+1])
	}
	text2, _ := feedAll(&tc2, pieces...)
	if !bytes.Equal(text, want) || !bytes.Equal(text2, want) {
		t.Errorf("text %q / %q, want %q", text, text2, want)
	}
	if tc.prompts != 1 {
		t.Errorf("prompts %d, want 1", tc.prompts)
	}
}
