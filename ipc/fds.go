package ipc

// Frames: a payload with open file descriptors (SCM_RIGHTS).
//
// The kernel accepts at most 253 descriptors in one message (SCM_MAX_FD), so
// SendFrame splits a list into chunks and RecvFrame reassembles it. Every
// descriptor received is close-on-exec, so a process that execs later does
// not leak it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// MaxPerMessage is the kernel's limit on descriptors in one message.
const MaxPerMessage = 253

// header precedes every message: the number of descriptors still to come in
// the whole transfer (this message included) and the payload length.
const headerLen = 8

// SendFrame sends data and fds over c. The data goes with the first message;
// fds follow in chunks of at most MaxPerMessage. The descriptors stay open
// in the sender.
func SendFrame(c *net.UnixConn, data []byte, fds []int) error {
	remaining := len(fds)
	first := true
	for first || remaining > 0 {
		n := min(remaining, MaxPerMessage)
		chunk := fds[len(fds)-remaining : len(fds)-remaining+n]
		var payload []byte
		if first {
			payload = data
		}
		msg := make([]byte, headerLen+len(payload))
		binary.BigEndian.PutUint32(msg[0:4], uint32(remaining))
		binary.BigEndian.PutUint32(msg[4:8], uint32(len(payload)))
		copy(msg[headerLen:], payload)
		var oob []byte
		if n > 0 {
			oob = unix.UnixRights(chunk...)
		}
		if err := writeMsg(c, msg, oob); err != nil {
			return err
		}
		remaining -= n
		first = false
	}
	return nil
}

func writeMsg(c *net.UnixConn, msg, oob []byte) error {
	for len(msg) > 0 || oob != nil {
		n, _, err := c.WriteMsgUnix(msg, oob, nil)
		if err != nil {
			return fmt.Errorf("ipc: send: %w", err)
		}
		// The descriptors went with the first byte; the rest of a long
		// payload is ordinary stream data.
		oob = nil
		msg = msg[n:]
	}
	return nil
}

// RecvFrame receives what SendFrame sent: the data and every descriptor, in order.
// maxData bounds the payload it will accept.
func RecvFrame(c *net.UnixConn, maxData int) (data []byte, fds []int, err error) {
	defer func() {
		if err != nil {
			CloseAll(fds)
			fds = nil
		}
	}()
	first := true
	total := -1
	for first || len(fds) < total {
		before := len(fds)
		hdr := make([]byte, headerLen)
		oob := make([]byte, unix.CmsgSpace(MaxPerMessage*4))
		n, oobn, flags, _, rerr := c.ReadMsgUnix(hdr, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil {
				return nil, fds, perr
			}
		}
		if rerr != nil {
			return nil, fds, fmt.Errorf("ipc: receive: %w", rerr)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return nil, fds, errors.New("ipc: descriptors truncated (process out of descriptors?)")
		}
		if n == 0 {
			return nil, fds, errors.New("ipc: connection closed mid-transfer")
		}
		if n < headerLen {
			if err := readFull(c, hdr[n:]); err != nil {
				return nil, fds, err
			}
		}
		remaining := int(binary.BigEndian.Uint32(hdr[0:4]))
		size := int(binary.BigEndian.Uint32(hdr[4:8]))
		if first {
			total = remaining
			if size > maxData {
				return nil, fds, fmt.Errorf("ipc: payload of %d bytes exceeds the limit of %d", size, maxData)
			}
			data = make([]byte, size)
			if err := readFull(c, data); err != nil {
				return nil, fds, err
			}
			first = false
		} else if size != 0 {
			return nil, fds, errors.New("ipc: unexpected payload in a later message")
		}
		if before+remaining != total {
			return nil, fds, fmt.Errorf("ipc: expected %d more descriptors, peer says %d", total-before, remaining)
		}
	}
	if len(fds) != total {
		return nil, fds, fmt.Errorf("ipc: received %d descriptors, expected %d", len(fds), total)
	}
	return data, fds, nil
}

func readFull(c *net.UnixConn, b []byte) error {
	for len(b) > 0 {
		n, err := c.Read(b)
		if err != nil {
			return fmt.Errorf("ipc: receive: %w", err)
		}
		b = b[n:]
	}
	return nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("ipc: control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range got {
			unix.CloseOnExec(fd)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// CloseAll closes every descriptor in fds (errors are of no use here: the
// descriptors are being given up either way).
func CloseAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
