package server

import (
	"talker/server/conn"
	"talker/state"
)

// The browser client's framing state to and from the state format: a
// WebSocket connection's reader state travels exact in a reboot's carried
// state and, as of the last checkpoint, in the checkpoint record, which is
// also what tells a crash recovery that the socket speaks WebSocket at all
// (server/conn/websocket.go has the rule for a crash mid-frame).

func wsToWire(r *conn.WSRead) *state.WebSocket {
	if r == nil {
		return nil
	}
	return &state.WebSocket{Header: r.Header, InFrame: r.InFrame, OpCode: r.OpCode, Fin: r.Fin,
		Remaining: r.Remaining, Mask: append([]byte(nil), r.Mask[:]...), MaskPos: r.MaskPos,
		Control: r.Control, Message: r.Message, Closed: r.Closed, Line: r.Line, ReadOffset: r.ReadOffset}
}

func wsFromWire(w *state.WebSocket) *conn.WSRead {
	if w == nil {
		return nil
	}
	r := &conn.WSRead{Header: w.Header, InFrame: w.InFrame, OpCode: w.OpCode, Fin: w.Fin,
		Remaining: w.Remaining, MaskPos: w.MaskPos % 4, Control: w.Control, Message: w.Message, Closed: w.Closed, Line: w.Line, ReadOffset: w.ReadOffset}
	copy(r.Mask[:], w.Mask)
	return r
}

// sessionCarried is the carried connection state to attach to a restored
// session's socket: the record's Conn, or, for a checkpoint record (a
// crash recovery, which has no Conn), the WebSocket framing as of the
// checkpoint.
func sessionCarried(r *state.Session) conn.Carried {
	c := carriedFromWire(&r.Conn)
	if c.WebSocket == nil && r.WebSocket != nil {
		c.WebSocket = wsFromWire(r.WebSocket)
		c.WebSocket.Checkpoint = true // to be checked against the socket (conn.attachWebSocket)
	}
	if c.Decompress == nil && r.Inflate != nil { // mccp3.go: likewise MCCP3 input
		c.Decompress = inflateFromWire(r.Inflate)
		c.Decompress.Checkpoint = true
	}
	return c
}

// webSocketCheckpoint is the framing state for s's checkpoint record.
func (s *Session) webSocketCheckpoint() *state.WebSocket {
	if s.conn == nil {
		return nil
	}
	return wsToWire(s.conn.WebSocketCheckpoint())
}
