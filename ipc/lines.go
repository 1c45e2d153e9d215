package ipc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line a LineReader accepts unless told otherwise:
// every message of the talker's line protocols is well under it (a status
// reply is about 1 KiB).
const MaxLine = 64 << 10

// ErrLineTooLong is returned for a line longer than the reader's limit.
var ErrLineTooLong = errors.New("ipc: line too long")

// WriteJSON writes v as one JSON line.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// LineReader reads JSON lines of at most a fixed size. It buffers: once a
// connection is read through one, its peer must send nothing else the
// reader could swallow (descriptors, above all) until the caller stops
// using it.
type LineReader struct{ r *bufio.Reader }

// NewLineReader reads lines of at most max bytes (MaxLine if max <= 0) from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = MaxLine
	}
	return &LineReader{bufio.NewReaderSize(r, max)}
}

// ReadJSON reads one line into v.
func (lr *LineReader) ReadJSON(v any) error {
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return ErrLineTooLong
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("ipc: %w", err)
	}
	return nil
}
