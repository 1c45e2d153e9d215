package tlsrecord

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Offsets asks the kernel, for the TCP socket fd, how many bytes the
// application has taken from it and handed to it, counted from the
// connection's start (see shared reference exactly-once.md; measured
// exact on loopback):
//
//	read    = tcpi_bytes_received - SIOCINQ
//	written = tcpi_bytes_acked + SIOCOUTQ
//
// (The reference subtracts 1 from written for the SYN that bytes_acked
// counts; only differences between two answers on the same socket matter
// here, so that constant is left in.) The counters belong to the socket,
// not the process: they answer the same through a duplicate held by
// another process, and after the writer died.
//
// The three answers come from three system calls, and an ACK or a segment
// arriving between them would make the sums wrong (an ACK between TCP_INFO
// and SIOCOUTQ makes written too small, which could pass a stale state's
// check and reuse a nonce). So TCP_INFO is read again after the ioctls and
// the answer is taken only when bytes_acked and bytes_received did not
// move meanwhile; after maxOffsetTries an error says so.
func Offsets(fd int) (read, written uint64, err error) {
	for try := 0; try < maxOffsetTries; try++ {
		before, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return 0, 0, fmt.Errorf("TCP_INFO: %w", err)
		}
		inq, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
		if err != nil {
			return 0, 0, fmt.Errorf("SIOCINQ: %w", err)
		}
		outq, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		if err != nil {
			return 0, 0, fmt.Errorf("SIOCOUTQ: %w", err)
		}
		after, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return 0, 0, fmt.Errorf("TCP_INFO: %w", err)
		}
		if before.Bytes_acked == after.Bytes_acked && before.Bytes_received == after.Bytes_received &&
			before.State == after.State {
			finIn, finOut := FINs(after.State)
			return after.Bytes_received - uint64(inq) - finIn, after.Bytes_acked + uint64(outq) - finOut, nil
		}
	}
	return 0, 0, fmt.Errorf("the socket's counters kept moving over %d reads", maxOffsetTries)
}

// FINs says, from a TCP socket's state (tcpi_state), whether the counts
// above hold a FIN: 1 each for the peer's (received) and this end's (sent).
// A FIN takes a sequence number, and the kernel's counters follow the
// sequence numbers: the peer's FIN is in tcpi_bytes_received from when it
// arrives in order (SIOCINQ leaves it out, and reading the EOF moves
// nothing), this end's in SIOCOUTQ from when it is queued and in
// tcpi_bytes_acked once acknowledged. Without this, a socket whose peer
// has closed its half reads one byte more consumed than the application
// took (seen: "+1" under every TLS reader as the load generator's clients
// closed; a crash recovery then refused the TLS session, "1 bytes read
// since this TLS state"). TCP_CLOSE (both FINs done, or a reset) cannot
// tell, and counts none: such a socket has nothing more to carry.
func FINs(state uint8) (received, sent uint64) {
	switch state {
	case tcpCloseWait:
		return 1, 0
	case tcpFinWait1, tcpFinWait2:
		return 0, 1
	case tcpClosing, tcpLastAck, tcpTimeWait:
		return 1, 1
	}
	return 0, 0
}

// TCP states (include/net/tcp_states.h) as tcpi_state reports them.
const (
	tcpFinWait1  = 4
	tcpFinWait2  = 5
	tcpTimeWait  = 6
	tcpCloseWait = 8
	tcpLastAck   = 9
	tcpClosing   = 11
)

// maxOffsetTries bounds Offsets' retries: a counter moves between two
// reads microseconds apart only under a stream of ACKs; 100 tries is far
// beyond what loopback needed.
const maxOffsetTries = 100

// CheckOffsets says whether a state may be continued on the socket whose
// counters are read and written: only where both are exactly the state's.
// A socket that has taken more input has lost a part of a record (a crash
// after the read); one that has been handed more output carries records
// sealed with sequence numbers the state would use again, which must never
// happen (a nonce reused under AES-GCM or ChaCha20-Poly1305 gives the
// key away).
func (st *State) CheckOffsets(read, written uint64) error {
	switch {
	case written != st.WriteOffset:
		return fmt.Errorf("%d bytes written since this TLS state (sequence numbers would be reused)", int64(written-st.WriteOffset))
	case read != st.ReadOffset:
		return fmt.Errorf("%d bytes read since this TLS state (a record was lost with the process)", int64(read-st.ReadOffset))
	}
	return nil
}
