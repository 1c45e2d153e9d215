package conn

// A WebSocket connection (RFC 6455) is a telnet connection in frames: the
// browser client (package server's web.go) speaks to the same World as a
// telnet client, and this file is the only place that knows the
// difference.
//
// Client to server: a text message is one typed line (its payload escaped
// for telnet, CR LF appended at the end of the message); a binary message
// is raw telnet bytes, which is how the page answers negotiations (it
// agrees to ECHO, which hides what is typed at a password prompt, and
// refuses every other option). Server to client: the talker's text,
// colours as ANSI escapes, goes in text frames; telnet commands (IAC ...)
// in binary frames, so the page can tell them apart without parsing.
//
// Every piece of framing state is plain data, carried across a reboot:
//   - read side (WSRead): a partly received header, the opcode, FIN,
//     remaining payload length, mask key and mask offset of a frame being
//     received, a control frame's payload so far, and whether a fragmented
//     message is open. A half-received frame is a half-typed line.
//   - write side: frames are built whole when output is queued (Send), so
//     the outbox holds wire bytes that begin on a frame boundary; a write
//     interrupted by a freeze puts back exactly its unwritten tail, and the
//     next generation writes that tail first. Output frames carry at most
//     wsMaxPayload bytes.
//
// Crash recovery (kill -9) rule: the angel's checkpoint (every 200 ms)
// carries the read-side state the reader published at the end of its last
// batch, and a reader that ends a batch with changed framing state asks
// for a checkpoint (an Input with no events). So a connection idle since
// the checkpoint, mid-frame or not, continues exactly. One that received
// bytes after the last checkpoint and before the kill resumes from the
// checkpoint's framing state against a later stream position: a page
// sends each line as one small frame (tens of bytes, one segment), so this
// is nearly always at a frame boundary anyway; when it is not, the header
// checks (mask bit, reserved bits, opcode, control frame length) fail and
// the connection is closed with 1002, and the page reconnects.

import (
	"bytes"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"talker/server/telnet"
	"talker/server/tlsrecord"
)

// wsMaxPayload bounds an output frame's payload: 4 KiB keeps a frame
// within one or two TCP segments, so a write rarely stops mid-frame.
const wsMaxPayload = 4096

// WSRead is the WebSocket reader's framing state: plain data, carried.
type WSRead struct {
	Header    []byte  // bytes of a frame header received so far (at most 14)
	InFrame   bool    // a header is parsed: Remaining payload bytes follow
	OpCode    uint8   // the frame's opcode
	Fin       bool    // the frame ends its message
	Remaining uint64  // payload bytes of the frame still to come
	Mask      [4]byte // the frame's masking key
	MaskPos   uint8   // payload bytes of the frame already unmasked, mod 4
	Control   []byte  // a control frame's payload so far (at most 125 bytes)
	Message   uint8   // opcode of the data message in progress (0: none)
	Closed    bool    // a Close was received: nothing more is read
	// Line is the decoder's half-typed line, only in the published copy
	// (the checkpoint's): after a crash a frame split at the kill
	// continues the line it began. (A reboot carries the decoder itself.)
	Line []byte
	// ReadOffset is, in the published copy, how many bytes had been
	// read from the socket when it was published (the kernel's count,
	// tlsrecord.Offsets): a crash recovery continues the checkpoint's
	// framing only if the socket says the same, i.e. nothing was read
	// after it. Checkpoint marks a state taken from a checkpoint record,
	// to be checked so at Attach.
	ReadOffset uint64
	Checkpoint bool
}

// wsConn is a connection's WebSocket state.
type wsConn struct {
	In WSRead // owned like Conn.Decoder: by the reader while it runs

	// published is a copy of In at the end of the reader's last batch: the
	// checkpoint's (the world reads it while the reader runs).
	published atomic.Pointer[WSRead]
	// changed: the last batch changed the framing state (see readLoop).
	changed bool

	mu        sync.Mutex // serialises building frames and queuing them
	pending   []byte     // an incomplete telnet command or UTF-8 sequence at the end of the last Send
	closeSent bool       // a Close frame has been queued: no data frames follow it
}

// SetWebSocket makes c a WebSocket connection (its handshake is done).
// Call it before Start.
func (c *Conn) SetWebSocket() {
	c.ws = &wsConn{}
	c.ws.publish(nil, c.readOffset())
}

// WebSocket reports whether c is a WebSocket connection.
func (c *Conn) WebSocket() bool { return c.ws != nil }

// WebSocketCheckpoint returns the reader's framing state as of its last
// batch (nil for a telnet connection): what the angel's checkpoint carries.
// Safe from any goroutine.
func (c *Conn) WebSocketCheckpoint() *WSRead {
	if c.ws == nil {
		return nil
	}
	return c.ws.published.Load()
}

func (w *wsConn) publish(line []byte, readOffset uint64) {
	cp := w.In.clone()
	cp.Line = append([]byte(nil), line...)
	cp.ReadOffset = readOffset
	w.published.Store(&cp)
}

// readOffset is the kernel's count of bytes read from the socket so far
// (0 if it cannot tell: then a crash recovery will not trust the
// checkpoint's framing).
func (c *Conn) readOffset() uint64 {
	fd, err := c.RawFD()
	if err != nil {
		return 0
	}
	read, _, err := tlsrecord.Offsets(fd)
	if err != nil {
		return 0
	}
	return read
}

// attachWebSocket takes a carried framing state: exact from a reboot; from
// a checkpoint (a crash recovery), only if the socket has not been read
// since it was published. Otherwise the stream has moved on by an unknown
// amount: the half-typed line is dropped (it would come again, doubled, in
// front of what follows) and reading resumes as at a frame boundary, which
// a page's one-frame lines nearly always leave; a header that does not
// check out then closes the connection with 1002, and the page reconnects.
func (c *Conn) attachWebSocket(st *WSRead) {
	c.ws = &wsConn{In: st.clone()}
	in := &c.ws.In
	if in.Checkpoint {
		if read := c.readOffset(); read == 0 || read != in.ReadOffset {
			*in = WSRead{}
		} else if len(in.Line) > 0 && len(c.Decoder.Line) == 0 {
			c.Decoder.Line = in.Line
		}
	}
	in.Line, in.ReadOffset, in.Checkpoint = nil, 0, false
	c.ws.publish(c.Decoder.Line, c.readOffset())
}

func (r *WSRead) midFrame() bool {
	return r != nil && (r.InFrame || len(r.Header) > 0 || r.Message != 0 || len(r.Line) > 0)
}

func (r WSRead) clone() WSRead {
	r.Header = append([]byte(nil), r.Header...)
	r.Control = append([]byte(nil), r.Control...)
	r.Line = append([]byte(nil), r.Line...)
	return r
}

// wsChanged reports (and forgets) whether the last batch changed the
// framing state: the reader then delivers an Input even without events,
// so that the world checkpoints the session.
func (c *Conn) wsChanged() bool {
	if c.ws == nil || !c.ws.changed {
		return false
	}
	c.ws.changed = false
	return true
}

// feed decodes a batch of bytes from the socket into telnet events: for a
// telnet connection straight into the Decoder, for a WebSocket one first
// out of its frames (answering pings and closes on the way).
func (c *Conn) feed(p []byte, evs []telnet.Event) []telnet.Event {
	if c.ws == nil {
		return c.Decoder.Feed(p, evs)
	}
	w := c.ws
	data, acts := w.In.deframe(p, nil)
	evs = c.Decoder.Feed(data, evs)
	for _, a := range acts {
		switch a.kind {
		case wsActPong:
			c.sendFrame(ws.OpPong, a.payload)
		case wsActClose:
			c.closeWebSocket(a.code, "")
		}
	}
	// Mid-frame now, or at the last publication: the checkpoint's copy
	// must follow (at a boundary both times, it is the same either way).
	if w.In.midFrame() || w.published.Load().midFrame() {
		w.changed = true
	}
	w.publish(c.Decoder.Line, c.readOffset())
	return evs
}

type wsActKind int

const (
	wsActPong  wsActKind = iota // answer a ping with this payload
	wsActClose                  // send a Close with this code and end the connection
)

type wsAction struct {
	kind    wsActKind
	payload []byte
	code    ws.StatusCode
}

// deframe takes raw bytes from the socket and appends the telnet bytes
// they carry to dst; what must be answered comes back as actions. It never
// fails: a protocol error is a Close action, after which nothing more is
// read.
func (r *WSRead) deframe(p []byte, dst []byte) ([]byte, []wsAction) {
	var acts []wsAction
	fail := func(code ws.StatusCode) {
		r.Closed = true
		acts = append(acts, wsAction{kind: wsActClose, code: code})
	}
	for len(p) > 0 && !r.Closed {
		if !r.InFrame {
			need := 2
			if len(r.Header) < need {
				k := min(need-len(r.Header), len(p))
				r.Header = append(r.Header, p[:k]...)
				p = p[k:]
				if len(r.Header) < need {
					break
				}
			}
			need = wsHeaderSize(r.Header[0], r.Header[1])
			if k := min(need-len(r.Header), len(p)); k > 0 {
				r.Header = append(r.Header, p[:k]...)
				p = p[k:]
			}
			if len(r.Header) < need {
				break
			}
			h, err := ws.ReadHeader(bytes.NewReader(r.Header))
			r.Header = r.Header[:0]
			if err != nil {
				fail(ws.StatusProtocolError)
				break
			}
			if code := r.begin(h); code != 0 {
				fail(code)
				break
			}
			if r.Remaining > 0 {
				continue
			}
		} else {
			k := int(min(uint64(len(p)), r.Remaining))
			chunk := append([]byte(nil), p[:k]...)
			p = p[k:]
			ws.Cipher(chunk, r.Mask, int(r.MaskPos))
			r.MaskPos = uint8((int(r.MaskPos) + k) % 4)
			r.Remaining -= uint64(k)
			if ws.OpCode(r.OpCode).IsControl() {
				r.Control = append(r.Control, chunk...)
			} else {
				dst = r.appendData(dst, chunk)
			}
			if r.Remaining > 0 {
				continue
			}
		}
		// The frame is complete.
		dst, acts = r.end(dst, acts)
	}
	return dst, acts
}

// wsHeaderSize is the length of a client frame's header from its first
// two bytes: 2, the extended length, and the 4-byte mask key if present.
func wsHeaderSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// begin starts a frame whose header has been read, or returns the status
// code to close with.
func (r *WSRead) begin(h ws.Header) ws.StatusCode {
	switch {
	case !h.Masked:
		return ws.StatusProtocolError // every client frame is masked (RFC 6455 5.1)
	case h.Rsv != 0:
		return ws.StatusProtocolError // no extension was negotiated
	case h.OpCode.IsReserved():
		return ws.StatusProtocolError
	case h.OpCode.IsControl() && (h.Length > 125 || !h.Fin):
		return ws.StatusProtocolError
	case h.OpCode == ws.OpContinuation && r.Message == 0:
		return ws.StatusProtocolError
	case h.OpCode.IsData() && h.OpCode != ws.OpContinuation && r.Message != 0:
		return ws.StatusProtocolError // a new message inside a fragmented one
	case h.Length > 1<<40:
		return ws.StatusMessageTooBig
	}
	r.InFrame, r.OpCode, r.Fin, r.Remaining, r.Mask, r.MaskPos = true, uint8(h.OpCode), h.Fin, uint64(h.Length), h.Mask, 0
	r.Control = r.Control[:0]
	if h.OpCode == ws.OpText || h.OpCode == ws.OpBinary {
		r.Message = uint8(h.OpCode)
	}
	return 0
}

// appendData appends a data frame's unmasked payload as telnet input: a
// text message's bytes with IAC doubled, a binary message's as they are.
func (r *WSRead) appendData(dst, chunk []byte) []byte {
	if ws.OpCode(r.Message) == ws.OpBinary {
		return append(dst, chunk...)
	}
	for _, b := range chunk {
		if b == telnet.IAC {
			dst = append(dst, telnet.IAC)
		}
		dst = append(dst, b)
	}
	return dst
}

// end finishes a frame whose payload is all in.
func (r *WSRead) end(dst []byte, acts []wsAction) ([]byte, []wsAction) {
	op := ws.OpCode(r.OpCode)
	r.InFrame = false
	switch {
	case op == ws.OpPing:
		acts = append(acts, wsAction{kind: wsActPong, payload: append([]byte(nil), r.Control...)})
	case op == ws.OpClose:
		code, _ := ws.ParseCloseFrameData(r.Control)
		if code.Empty() {
			code = ws.StatusNormalClosure
		}
		r.Closed = true
		acts = append(acts, wsAction{kind: wsActClose, code: code})
	case op == ws.OpPong:
		// A heartbeat: nothing to do.
	case r.Fin:
		if ws.OpCode(r.Message) == ws.OpText {
			dst = append(dst, '\r', '\n')
		}
		r.Message = 0
	}
	if op.IsControl() {
		r.Control = r.Control[:0]
	}
	return dst, acts
}

// sendFrame queues one frame (a pong or a close) for the client.
func (c *Conn) sendFrame(op ws.OpCode, payload []byte) bool {
	w := c.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return true
	}
	if op == ws.OpClose {
		w.closeSent = true
	}
	return c.out.add(appendFrame(nil, op, payload))
}

// SendWebControl queues a control message for the page: a binary frame
// whose payload starts with a NUL byte (telnet commands, the other binary
// frames, start with IAC), then msg. Ordered with the rest of the output.
func (c *Conn) SendWebControl(msg string) bool {
	if c.ws == nil {
		return true
	}
	return c.sendFrame(ws.OpBinary, append([]byte{0}, msg...))
}

// closeWebSocket sends a Close (echoing the client's, or saying why) and
// ends the connection once it is written.
func (c *Conn) closeWebSocket(code ws.StatusCode, reason string) {
	if code == ws.StatusNoStatusRcvd || code == ws.StatusAbnormalClosure || code == ws.StatusTLSHandshake {
		code = ws.StatusNormalClosure // never sent on the wire (RFC 6455 7.4.1)
	}
	c.sendFrame(ws.OpClose, ws.NewCloseFrameBody(code, reason))
	c.Close()
}

// appendFrame appends one unmasked server frame.
func appendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	var hdr [10]byte
	hdr[0] = 0x80 | byte(op) // FIN: the server never fragments
	n := 2
	switch l := len(payload); {
	case l < 126:
		hdr[1] = byte(l)
	case l <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(l))
		n = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(l))
		n = 10
	}
	dst = append(dst, hdr[:n]...)
	return append(dst, payload...)
}

// sendWebSocket turns telnet output into frames and queues them, as Send
// does for telnet.
func (c *Conn) sendWebSocket(b []byte) bool {
	w := c.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		c.out.sends.Add(1)
		return true
	}
	in := b
	if len(w.pending) > 0 {
		in = append(w.pending, b...)
		w.pending = nil
	}
	frames, rest := telnetToFrames(nil, in)
	if len(rest) > 0 {
		w.pending = append([]byte(nil), rest...)
	}
	if len(frames) == 0 {
		c.out.sends.Add(1)
		return true
	}
	return c.out.add(frames)
}

// wsFrameLen is the length of the server frame at the start of b (header
// and payload), or len(b) if b does not start with a whole one: the writer
// (compress.go's emit) writes output a frame at a time. The outbox always
// starts on a frame boundary, since an interrupted frame's tail is kept
// apart (writeWhole).
func wsFrameLen(b []byte) int {
	if len(b) < 2 || b[1]&0x80 != 0 {
		return len(b)
	}
	hdr, n := 2, uint64(b[1]&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return len(b)
		}
		hdr, n = 4, uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if len(b) < 10 {
			return len(b)
		}
		hdr, n = 10, binary.BigEndian.Uint64(b[2:])
	}
	if n > uint64(len(b)-hdr) {
		return len(b)
	}
	return hdr + int(n)
}

// telnetToFrames converts telnet output into frames: text runs into text
// frames of at most wsMaxPayload bytes (split between characters, invalid
// UTF-8 replaced), telnet commands into binary frames. An incomplete
// command or character at the end is returned as rest, to be completed by
// the next output.
func telnetToFrames(dst, p []byte) (frames, rest []byte) {
	var text, cmds []byte
	flushText := func() {
		for len(text) > 0 {
			k := min(len(text), wsMaxPayload)
			for k < len(text) && k > 0 && !utf8.RuneStart(text[k]) {
				k--
			}
			if k == 0 {
				k = min(len(text), wsMaxPayload)
			}
			dst = appendFrame(dst, ws.OpText, bytes.ToValidUTF8(text[:k], []byte("\uFFFD")))
			text = text[k:]
		}
		text = nil
	}
	flushCmds := func() {
		if len(cmds) > 0 {
			dst = appendFrame(dst, ws.OpBinary, cmds)
			cmds = nil
		}
	}
	i := 0
	for i < len(p) {
		if p[i] != telnet.IAC {
			j := i
			for j < len(p) && p[j] != telnet.IAC {
				j++
			}
			flushCmds()
			text = append(text, p[i:j]...)
			i = j
			continue
		}
		n := telnetCommandLen(p[i:])
		if n == 0 {
			break // incomplete: wait for the rest
		}
		if p[i+1] == telnet.IAC {
			// An escaped 0xFF data byte: never valid UTF-8, so it would
			// only become U+FFFD; leave it out.
			i += n
			continue
		}
		flushText()
		cmds = append(cmds, p[i:i+n]...)
		if len(cmds) >= wsMaxPayload {
			flushCmds()
		}
		i += n
	}
	// Keep an incomplete UTF-8 sequence at the end of the text for the
	// next output, so that a character is never split between frames.
	if i == len(p) && len(text) > 0 {
		cut := len(text)
		for back := 1; back <= 3 && back <= len(text); back++ {
			b := text[len(text)-back]
			if utf8.RuneStart(b) {
				if !utf8.FullRune(text[len(text)-back:]) {
					cut = len(text) - back
				}
				break
			}
		}
		rest = append(rest, text[cut:]...)
		text = text[:cut]
	}
	flushText()
	flushCmds()
	if i < len(p) {
		rest = append(rest, p[i:]...)
	}
	return dst, rest
}

// telnetCommandLen is the length of the telnet command at the start of p
// (which starts with IAC), or 0 if it is not complete yet.
func telnetCommandLen(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	switch p[1] {
	case telnet.WILL, telnet.WONT, telnet.DO, telnet.DONT:
		if len(p) < 3 {
			return 0
		}
		return 3
	case telnet.SB:
		for j := 2; j+1 < len(p); j++ {
			if p[j] == telnet.IAC {
				if p[j+1] == telnet.SE {
					return j + 2
				}
				j++ // IAC IAC inside the subnegotiation
			}
		}
		return 0
	}
	return 2
}
