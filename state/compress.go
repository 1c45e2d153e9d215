package state

// Compress is a connection's MCCP2 output compression (package conn's
// Compression; version 7). It travels twice, like the WebSocket framing:
//
//   - in Carried, exact, read with the writer frozen (a reboot's pause):
//     whether the stream is on, its running Adler-32, the compressed rest
//     of a unit a freeze cut short (Wire, written first) and the switches
//     still queued in Unsent (Marks);
//   - in Session, as the angel's checkpoint saw it (the writer running):
//     the state after the writer's last whole write and the socket's count
//     of bytes written there (Offset), which a crash recovery compares with
//     the socket's own count (server/mccp.go).
type Compress struct {
	On           bool           `json:"On,omitempty"`
	Adler        uint32         `json:"Adler,omitempty"`
	AdlerUnknown bool           `json:"AdlerUnknown,omitempty"`
	Wire         []byte         `json:"Wire,omitempty"`
	Marks        []CompressMark `json:"Marks,omitempty"`
	Offset       uint64         `json:"Offset,omitempty"`
	OffsetKnown  bool           `json:"OffsetKnown,omitempty"`
}

// CompressMark is a compression switch queued in the unsent output: at
// byte At the stream starts (On) or ends.
type CompressMark struct {
	At int  `json:"At"`
	On bool `json:"On,omitempty"`
}
