package state

// TLS is a TLS 1.3 session's record layer (package tlsrecord's State):
// what lets a new generation go on with the same encrypted session on the
// socket it is handed (version 7). It travels in Carried: exact at a
// reboot's pause (read with the connection's goroutines frozen), and in a
// checkpoint record as the reader and writer last published it, which a
// crash recovery continues only where the socket's byte counters are still
// ReadOffset and WriteOffset.
//
// The secrets are the session's keys: a state file or checkpoint holding
// them is as secret as the server's private key (both are 0600, in the
// data directory and the angel's memory).
type TLS struct {
	Suite              uint16 `json:"Suite"`
	ReadSecret         []byte `json:"ReadSecret"`
	ReadSeq            uint64 `json:"ReadSeq,omitempty"`
	ReadPartial        []byte `json:"ReadPartial,omitempty"`
	ReadOffset         uint64 `json:"ReadOffset,omitempty"`
	KeyUpdatesAsked    uint64 `json:"KeyUpdatesAsked,omitempty"`
	KeyUpdatesAnswered uint64 `json:"KeyUpdatesAnswered,omitempty"`
	WriteSecret        []byte `json:"WriteSecret"`
	WriteSeq           uint64 `json:"WriteSeq,omitempty"`
	WritePending       []byte `json:"WritePending,omitempty"`
	WriteOffset        uint64 `json:"WriteOffset,omitempty"`
}
