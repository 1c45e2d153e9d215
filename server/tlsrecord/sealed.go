package tlsrecord

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Sealing ahead of the writer, for the crash journal.
//
// TLS 1.3 record protection is deterministic: the same traffic secret,
// sequence number, content type and plaintext give the same bytes. So a
// connection under the crash journal has its output sealed into records
// when the world releases it (SealTo, under the lock that owns the write
// half then), and the journal keeps those records at their offsets on the
// wire together with the write half after them (WriteState). After a
// kill -9 the socket's own count of bytes handed to it says how much of
// the records it took; the rest is sent as it is, and the next record is
// sealed under the journal's secret and sequence number (ResumeWrite):
// nothing is sealed twice under one number, nothing is lost.

// WriteState is the write half of a session after the last record sealed:
// the traffic secret and the sequence number of the next record, the
// KeyUpdates answered, and the socket's count of bytes handed to it once
// every sealed record has been written (Offset).
type WriteState struct {
	Secret   []byte
	Seq      uint64
	Answered uint64
	Offset   uint64
}

// writeStateVersion is the first byte of an encoded WriteState.
const writeStateVersion = 1

// AppendBinary appends ws's encoding (the crash journal's payload):
// version u8 | seq u64 | answered u64 | offset u64 | secret, little-endian.
func (ws WriteState) AppendBinary(b []byte) []byte {
	// One allocation, not three: the world encodes one per TLS connection
	// per commit (BenchmarkWriteStateAppendBinary: 107 ns and 3 allocations
	// from nil before, 45-54 ns and 1 after).
	b = slices.Grow(b, 1+3*8+len(ws.Secret))
	b = append(b, writeStateVersion)
	b = binary.LittleEndian.AppendUint64(b, ws.Seq)
	b = binary.LittleEndian.AppendUint64(b, ws.Answered)
	b = binary.LittleEndian.AppendUint64(b, ws.Offset)
	return append(b, ws.Secret...)
}

// ParseWriteState decodes AppendBinary's encoding.
func ParseWriteState(b []byte) (WriteState, error) {
	if len(b) < 25 {
		return WriteState{}, errors.New("tlsrecord: write state too short")
	}
	if b[0] != writeStateVersion {
		return WriteState{}, fmt.Errorf("tlsrecord: write state version %d", b[0])
	}
	secret := b[25:]
	if n := len(secret); n != 32 && n != 48 {
		return WriteState{}, fmt.Errorf("tlsrecord: write state secret of %d bytes", n)
	}
	return WriteState{Seq: binary.LittleEndian.Uint64(b[1:]), Answered: binary.LittleEndian.Uint64(b[9:]),
		Offset: binary.LittleEndian.Uint64(b[17:]), Secret: clone(secret)}, nil
}

// Overhead is what a record adds to its plaintext on the wire: the
// header, the inner content type and the AEAD tag (the same for every
// suite this package has).
const Overhead = headerLen + 1 + 16

// SealTo appends to dst the records carrying data (one per MaxPlaintext
// bytes), after a KeyUpdate record if one is due (answering the client's,
// or asked for by RequestKeyUpdate), and moves the write half past them.
// Nothing is written. The caller owns the write half (no Write, Flush or
// Close may run meanwhile); the state is published by PublishSealed.
func (s *Session) SealTo(dst, data []byte) ([]byte, error) {
	if asked, want := s.asked.Load(), s.wantUpdate.Load(); asked != s.w.answered || want {
		request := byte(0)
		if want {
			request = 1
		}
		rec, err := s.seal(typeHandshake, []byte{hsKeyUpdate, 0, 0, keyUpdateLen, request})
		if err != nil {
			return dst, err
		}
		next := s.suite.nextSecret(s.w.secret)
		k, err := s.suite.keys(next)
		if err != nil {
			return dst, err
		}
		dst = append(dst, rec...)
		s.w.secret, s.w.k, s.w.seq = next, k, 0
		s.w.answered = asked
		if want {
			s.wantUpdate.Store(false)
		}
	}
	for len(data) > 0 {
		chunk := data[:min(len(data), maxPlaintext)]
		rec, err := s.seal(typeApplicationData, chunk)
		if err != nil {
			return dst, err
		}
		dst = append(dst, rec...)
		data = data[len(chunk):]
	}
	return dst, nil
}

// SealClose appends a close_notify record to dst (see SealTo).
func (s *Session) SealClose(dst []byte) ([]byte, error) {
	rec, err := s.seal(typeAlert, []byte{alertLevelWarning, alertCloseNotify})
	if err != nil {
		return dst, err
	}
	return append(dst, rec...), nil
}

// Idle reports whether the write half has nothing of its own to send: no
// tail of a record, no KeyUpdate due. Only then may the caller take the
// write half over from the writer (see SealTo).
func (s *Session) Idle() bool { return !s.WantsWrite() }

// WriteOffset is the published write half's socket offset: exact when the
// writer is idle and holds no tail (Idle).
func (s *Session) WriteOffset() uint64 { return s.pubWrite.Load().offset }

// PublishSealed publishes the write half as it is after SealTo, with
// offset the socket's count once every record sealed is written, and no
// tail held here (the caller keeps the records it has not written).
func (s *Session) PublishSealed(offset uint64) {
	s.w.offset, s.w.pending = offset, nil
	s.publishWrite()
}

// TakeWrite returns the write half as it is (see SealTo for who may call
// it): what the crash journal records after each seal.
func (s *Session) TakeWrite() WriteState {
	return WriteState{Secret: s.w.secret, Seq: s.w.seq, Answered: s.w.answered, Offset: s.w.offset}
}

// ResumeWrite makes the write half ws (from the crash journal), with
// pending, records sealed and not yet on the socket, to be written first
// (by Write or Flush), and the socket's count offset before them. The
// KeyUpdates asked are made at least those answered (an answer the dead
// generation sealed for a request whose record the reader had not yet
// committed: the request is read again, and answered again, which the
// protocol allows).
func (s *Session) ResumeWrite(ws WriteState, pending []byte, offset uint64) error {
	k, err := s.suite.keys(ws.Secret)
	if err != nil {
		return err
	}
	s.w.secret, s.w.k, s.w.seq, s.w.answered = clone(ws.Secret), k, ws.Seq, ws.Answered
	s.w.pending, s.w.offset = clone(pending), offset
	for {
		a := s.asked.Load()
		if a >= ws.Answered || s.asked.CompareAndSwap(a, ws.Answered) {
			break
		}
	}
	s.publishWrite()
	return nil
}

// PrependPending puts records not written (b) before the write half's
// tail, with the offset moved back over them: what a writer interrupted
// while writing records sealed ahead hands back (see SealTo for who may
// call it).
func (s *Session) PrependPending(b []byte) {
	s.w.pending = append(append([]byte(nil), b...), s.w.pending...)
	s.w.offset -= uint64(len(b))
	s.publishWrite()
}

// ReadHalf is the read half as the reader published it after its last
// Feed: the state a crash recovery continues from where the world
// committed the input up to that point (the socket's read offset Offset).
type ReadHalf struct {
	Secret  []byte
	Seq     uint64
	Partial []byte
	Offset  uint64
	Asked   uint64
}

// PublishedRead returns the read half as last published (immutable).
func (s *Session) PublishedRead() *ReadHalf {
	r := s.pubRead.Load()
	return &ReadHalf{Secret: r.secret, Seq: r.seq, Partial: r.partial, Offset: r.offset, Asked: r.asked}
}

// WithRead returns st with its read half replaced by r.
func (st State) WithRead(r *ReadHalf) State {
	st.ReadSecret, st.ReadSeq, st.ReadPartial, st.ReadOffset, st.KeyUpdatesAsked = r.Secret, r.Seq, r.Partial, r.Offset, r.Asked
	return st
}
