package state

// WebSocket is a browser client's connection framing (package conn's
// WSRead): where its reader is in the client's frames. A half-received
// frame is a half-typed line, so it travels like one (version 7).
//
// It travels twice: in Session, as the reader published it at the end of
// its last batch (the checkpoint's, for the angel's crash recovery: it
// also says the connection is a WebSocket at all), and in Carried, exact,
// read with the reader frozen (a reboot's pause).
type WebSocket struct {
	Header    []byte `json:"Header,omitempty"`    // a frame header's bytes received so far
	InFrame   bool   `json:"InFrame,omitempty"`   // a header is parsed; Remaining payload bytes follow
	OpCode    uint8  `json:"OpCode,omitempty"`    // the frame's opcode
	Fin       bool   `json:"Fin,omitempty"`       // the frame ends its message
	Remaining uint64 `json:"Remaining,omitempty"` // payload bytes still to come
	Mask      []byte `json:"Mask,omitempty"`      // the frame's 4-byte masking key
	MaskPos   uint8  `json:"MaskPos,omitempty"`   // payload bytes already unmasked, mod 4
	Control   []byte `json:"Control,omitempty"`   // a control frame's payload so far
	Message   uint8  `json:"Message,omitempty"`   // opcode of the fragmented message in progress
	Closed    bool   `json:"Closed,omitempty"`    // a Close was received
	// Line is the half-typed line, in the checkpoint's copy only (a
	// reboot carries the decoder itself).
	Line []byte `json:"Line,omitempty"`
	// ReadOffset is, in the checkpoint's copy, the socket's count of
	// bytes read when it was taken: a crash recovery trusts the copy
	// only if the socket still says the same.
	ReadOffset uint64 `json:"ReadOffset,omitempty"`
}
