package talkertest

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"net"
)

// MCCP2 in the test client (Options.MCCP): after IAC SB COMPRESS2 IAC SE
// the rest of the input is a zlib stream, inflated with Go's zlib reader
// until it ends (then plain again). Any inflate error is kept for
// InflateError: a test that reboots or kills the talker asserts there was
// none.

// startInflating switches the reader to the zlib stream that begins with
// rest (bytes already read after the start marker), then plain.
func (c *Client) startInflating(rest []byte, plain *bufio.Reader) (*bufio.Reader, io.ReadCloser, error) {
	// The inflater must not read past the stream's end: flate reads a
	// ByteReader (the bufio.Reader) byte by byte as it needs, so what
	// follows the trailer stays in plain.
	plain = bufio.NewReader(io.MultiReader(bytes.NewReader(append([]byte(nil), rest...)), plain))
	c.mu.Lock()
	c.mccpStarts++
	c.mu.Unlock()
	zr, err := zlib.NewReader(plain)
	if err != nil {
		c.inflateFailed(err)
		return plain, nil, err
	}
	return plain, zr, nil
}

// endInflating handles the inflater's error: the stream's proper end (back
// to plain), or a real error.
func (c *Client) endInflating(err error) (io.ReadCloser, error) {
	if err == io.EOF {
		c.mu.Lock()
		c.mccpEnds++
		c.mu.Unlock()
		return nil, nil
	}
	// The connection ending inside a stream (the talker closed it, or the
	// test did) is not an inflate error; corrupt data, a bad header or a
	// wrong Adler-32 is.
	var ne net.Error
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !errors.As(err, &ne) && !c.isClosing() {
		c.inflateFailed(err)
	}
	return nil, err
}

func (c *Client) inflateFailed(err error) {
	c.mu.Lock()
	if c.inflateErr == nil {
		c.inflateErr = err
	}
	c.mu.Unlock()
}

func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// InflateError is the first error inflating the MCCP2 stream, if any.
func (c *Client) InflateError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflateErr
}

// MCCPStreams reports how many MCCP2 streams started and ended.
func (c *Client) MCCPStreams() (started, ended int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mccpStarts, c.mccpEnds
}

// StopMCCP asks the talker to stop compressing (IAC DONT COMPRESS2).
func (c *Client) StopMCCP() { c.SendRaw([]byte{iac, dont, optMCCP2}) }
