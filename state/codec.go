package state

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Record is one session's encoded record, in the encoding of its snapshot's
// version (CBOR from version 3, JSON before). It is opaque to whoever only
// carries it, as the angel does. In JSON it is embedded as is (like
// json.RawMessage, so a JSON record travels as an object); in CBOR it is a
// byte string.
type Record []byte

// MarshalJSON writes a JSON record as itself (an empty one as null).
func (r Record) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of the raw JSON.
func (r *Record) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// The CBOR codec. Times keep their sub-second part (a float of Unix
// seconds). Map keys are sorted, so that the same session always encodes to
// the same bytes: a reboot compares a session's record at the pause with the
// one it staged. Decoding is strict about nothing but well-formedness, so
// that a field added by a newer build is simply ignored.
type cborCodec struct {
	enc cbor.UserBufferEncMode
	dec cbor.DecMode
}

func newCBOR() cborCodec {
	em, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, Sort: cbor.SortBytewiseLexical}.UserBufferEncMode()
	if err != nil {
		panic(err) // the options are constants: only a bug gets here
	}
	dm, err := cbor.DecOptions{}.DecMode()
	if err != nil {
		panic(err)
	}
	return cborCodec{enc: em, dec: dm}
}

// records is the CBOR codec, built once: the options never change.
var records = newCBOR()

// EncodeSession encodes a session record for a snapshot of version v.
func EncodeSession(v int, s *Session) (Record, error) {
	if v >= VersionCBOR {
		return records.enc.Marshal(s)
	}
	return json.Marshal(s)
}

// EncodeSessionTo encodes a session record for a snapshot of version v into
// buf (which it resets): for a record that is only compared, not kept, with
// no allocation for the result.
func EncodeSessionTo(buf *bytes.Buffer, v int, s *Session) error {
	buf.Reset()
	if v >= VersionCBOR {
		return records.enc.MarshalToBuffer(s, buf)
	}
	b, err := json.Marshal(s)
	buf.Write(b)
	return err
}

// DecodeSession decodes a session record of a snapshot of version v. A
// null record (a connection the angel holds but never got a checkpoint
// of) decodes to the zero Session.
func DecodeSession(v int, r Record) (Session, error) {
	var s Session
	var err error
	if v >= VersionCBOR {
		err = records.dec.Unmarshal(r, &s)
	} else {
		err = json.Unmarshal(r, &s)
	}
	return s, err
}

// NullRecord is the record of a session nothing is known about, in version
// v's encoding: the new generation keeps the connection and sends it to the
// login prompt.
func NullRecord(v int) Record {
	if v >= VersionCBOR {
		return Record{0xf6} // CBOR null
	}
	return Record("null")
}

// Transcode re-encodes a record from version from's encoding to version
// to's. Keys this build does not know are lost.
func Transcode(r Record, from, to int) (Record, error) {
	if (from >= VersionCBOR) == (to >= VersionCBOR) {
		return r, nil
	}
	s, err := DecodeSession(from, r)
	if err != nil {
		return nil, err
	}
	if s.ID == 0 {
		return NullRecord(to), nil
	}
	return EncodeSession(to, &s)
}

// StageChunk describes one batch of sockets a reboot stages before its
// pause: each one's connection id and its session's record as it was then
// (a checkpoint record: see Session). It travels in CBOR.
type StageChunk struct {
	IDs     []uint64 `json:"IDs"`
	Records []Record `json:"Records"`
}

// EncodeStageChunk encodes a stage chunk.
func EncodeStageChunk(c *StageChunk) ([]byte, error) { return records.enc.Marshal(c) }

// DecodeStageChunk decodes a stage chunk and checks that it describes n
// sockets.
func DecodeStageChunk(b []byte, n int) (*StageChunk, error) {
	var c StageChunk
	if err := records.dec.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if len(c.IDs) != n || len(c.Records) != n {
		return nil, fmt.Errorf("%d ids and %d records for %d sockets", len(c.IDs), len(c.Records), n)
	}
	return &c, nil
}
