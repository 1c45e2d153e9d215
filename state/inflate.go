package state

// Inflate is a connection's MCCP3 input state (package conn's
// InflateState; version 7): the client's compressed stream at a flush
// boundary plus what came after it. It travels twice, like Compress:
//
//   - in Carried (Decompress), exact, read with the reader frozen (a
//     reboot's pause);
//   - in Session (Inflate), as the reader last published it, with the
//     socket's count of bytes read then (ReadOffset), which a crash
//     recovery compares with the socket's own count (server/mccp3.go).
//
// Window is at most 32 KiB (the last inflated input, DEFLATE's history);
// Rest the compressed bytes since the last flush boundary, usually none.
// Absent when MCCP3 is neither offered nor on.
type Inflate struct {
	Offered    bool   `json:"Offered,omitempty"`
	Phase      uint8  `json:"Phase,omitempty"` // 0 plain, 1 zlib header, 2 DEFLATE data, 3 trailer, 4 broken
	Window     []byte `json:"Window,omitempty"`
	Rest       []byte `json:"Rest,omitempty"`
	Adler      uint32 `json:"Adler,omitempty"`
	ReadOffset uint64 `json:"ReadOffset,omitempty"`
}
