package tlsrecord

import (
	"encoding/binary"
	"errors"
	"io"
	"sync/atomic"
)

// State is a TLS 1.3 session's record layer as plain data: what a reboot
// carries and the angel's checkpoints hold.
//
// ReadOffset and WriteOffset are the socket's stream offsets where this
// state is true, in the kernel's own reckoning (Offsets): the bytes taken
// from the socket so far, and the bytes handed to it. A state is only used
// on a socket whose counters say the same; a socket that has moved on (a
// crash checkpoint older than the last record) cannot continue, because
// its sequence numbers would be reused.
type State struct {
	Suite uint16
	// The client's current application traffic secret, the sequence
	// number of the next record it sends, and the bytes of a record not
	// yet complete.
	ReadSecret  []byte
	ReadSeq     uint64
	ReadPartial []byte
	ReadOffset  uint64
	// KeyUpdates the client sent asking for ours (update_requested), and
	// how many of them this side has answered: an answer is due while
	// they differ.
	KeyUpdatesAsked    uint64
	KeyUpdatesAnswered uint64
	// This side's current application traffic secret, the sequence
	// number of the next record it seals, and the unsent tail of a record
	// already sealed (written first, before anything else).
	WriteSecret  []byte
	WriteSeq     uint64
	WritePending []byte
	WriteOffset  uint64
}

// readHalf is what the reader goroutine owns.
type readHalf struct {
	secret  []byte
	k       keys
	seq     uint64
	partial []byte
	offset  uint64
}

// writeHalf is what the writer goroutine owns.
type writeHalf struct {
	secret   []byte
	k        keys
	seq      uint64
	pending  []byte
	offset   uint64
	answered uint64
	buf      []byte
}

// readSnap and writeSnap are a half as last published: immutable.
type readSnap struct {
	secret  []byte
	seq     uint64
	partial []byte
	offset  uint64
	asked   uint64
}

type writeSnap struct {
	secret   []byte
	seq      uint64
	pending  []byte
	offset   uint64
	answered uint64
}

// Session is a live record layer. Feed is for one reader goroutine and
// Write/Close for one writer goroutine, which may run at the same time;
// State needs both stopped; Published, WantsWrite, RequestKeyUpdate and
// Changes are safe from any goroutine.
type Session struct {
	suite *suite
	r     readHalf
	w     writeHalf

	asked        atomic.Uint64 // KeyUpdates received with update_requested (reader writes)
	answeredPub  atomic.Uint64 // the writer's answered count, for WantsWrite
	pendingBytes atomic.Int64  // len(w.pending), for WantsWrite
	wantUpdate   atomic.Bool   // RequestKeyUpdate: send one of ours, asking for theirs

	pubRead  atomic.Pointer[readSnap]
	pubWrite atomic.Pointer[writeSnap]
	changes  atomic.Uint64 // bumped at every publish
	noted    atomic.Uint64 // changes as of the last NoteCheckpointed
}

// New builds a live session from its state.
func New(st State) (*Session, error) {
	su, err := suiteByID(st.Suite)
	if err != nil {
		return nil, err
	}
	rk, err := su.keys(st.ReadSecret)
	if err != nil {
		return nil, err
	}
	wk, err := su.keys(st.WriteSecret)
	if err != nil {
		return nil, err
	}
	if st.KeyUpdatesAnswered > st.KeyUpdatesAsked {
		return nil, errors.New("tlsrecord: more KeyUpdates answered than asked")
	}
	s := &Session{suite: su}
	s.r = readHalf{secret: clone(st.ReadSecret), k: rk, seq: st.ReadSeq, partial: clone(st.ReadPartial), offset: st.ReadOffset}
	s.w = writeHalf{secret: clone(st.WriteSecret), k: wk, seq: st.WriteSeq, pending: clone(st.WritePending),
		offset: st.WriteOffset, answered: st.KeyUpdatesAnswered}
	s.asked.Store(st.KeyUpdatesAsked)
	s.answeredPub.Store(st.KeyUpdatesAnswered)
	s.pendingBytes.Store(int64(len(st.WritePending)))
	s.publishRead()
	s.publishWrite()
	return s, nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// State returns the exact state. Call it only with the reader and the
// writer stopped (a reboot's freeze).
func (s *Session) State() State {
	return State{Suite: s.suite.id,
		ReadSecret: clone(s.r.secret), ReadSeq: s.r.seq, ReadPartial: clone(s.r.partial), ReadOffset: s.r.offset,
		KeyUpdatesAsked: s.asked.Load(), KeyUpdatesAnswered: s.w.answered,
		WriteSecret: clone(s.w.secret), WriteSeq: s.w.seq, WritePending: clone(s.w.pending), WriteOffset: s.w.offset}
}

// Published returns the state as the reader and the writer last left it at
// the end of a batch or a record, while they run: each half is consistent
// with its own offset, which is what makes it safe to use after a crash
// only where the socket's counters still say the same (see State).
func (s *Session) Published() State {
	r, w := s.pubRead.Load(), s.pubWrite.Load()
	return State{Suite: s.suite.id,
		ReadSecret: r.secret, ReadSeq: r.seq, ReadPartial: r.partial, ReadOffset: r.offset,
		KeyUpdatesAsked: r.asked, KeyUpdatesAnswered: w.answered,
		WriteSecret: w.secret, WriteSeq: w.seq, WritePending: w.pending, WriteOffset: w.offset}
}

// Changes counts the changes published so far; ChangedSinceNoted says
// whether there were any since NoteCheckpointed was last given a count
// (what the world uses to refresh the angel's checkpoint of a session
// that only exchanged records).
func (s *Session) Changes() uint64 { return s.changes.Load() }

// ChangedSinceNoted reports whether the state changed since
// NoteCheckpointed.
func (s *Session) ChangedSinceNoted() bool { return s.changes.Load() != s.noted.Load() }

// NoteCheckpointed records that the state as of changes has been
// checkpointed.
func (s *Session) NoteCheckpointed(changes uint64) { s.noted.Store(changes) }

func (s *Session) publishRead() {
	s.pubRead.Store(&readSnap{secret: s.r.secret, seq: s.r.seq, partial: clone(s.r.partial), offset: s.r.offset, asked: s.asked.Load()})
	s.changes.Add(1)
}

func (s *Session) publishWrite() {
	s.pubWrite.Store(&writeSnap{secret: s.w.secret, seq: s.w.seq, pending: clone(s.w.pending), offset: s.w.offset, answered: s.w.answered})
	s.answeredPub.Store(s.w.answered)
	s.pendingBytes.Store(int64(len(s.w.pending)))
	s.changes.Add(1)
}

// WantsWrite says whether the writer has something of its own to send
// even with no new data: the tail of a record, or a KeyUpdate.
func (s *Session) WantsWrite() bool {
	return s.pendingBytes.Load() > 0 || s.asked.Load() != s.answeredPub.Load() || s.wantUpdate.Load()
}

// RequestKeyUpdate makes the writer send a KeyUpdate of its own before its
// next record, asking the client for one too.
func (s *Session) RequestKeyUpdate() { s.wantUpdate.Store(true) }

// Feed takes bytes read from the socket and appends the application data
// of every record they complete to dst. A record not yet complete is kept.
// On error (close_notify: ErrCloseNotify) dst holds the data of the records
// before it, and the session must not be fed again.
func (s *Session) Feed(dst, raw []byte) ([]byte, error) {
	r := &s.r
	data := raw
	if len(r.partial) > 0 {
		r.partial = append(r.partial, raw...)
		data = r.partial
	}
	r.offset += uint64(len(raw))
	var err error
	for err == nil && len(data) >= headerLen {
		length := int(binary.BigEndian.Uint16(data[3:5]))
		if length > maxCiphertext {
			err = protocolErr(alertRecordOverflow, "record of %d bytes (at most %d)", length, maxCiphertext)
			break
		}
		if len(data) < headerLen+length {
			break
		}
		rec := data[:headerLen+length]
		data = data[headerLen+length:]
		dst, err = s.open(dst, rec)
	}
	if err == nil {
		// Keep the rest: memmove within partial, or a copy out of raw.
		if len(r.partial) > 0 {
			n := copy(r.partial, data)
			r.partial = r.partial[:n]
		} else {
			r.partial = append(r.partial[:0], data...)
		}
	}
	s.publishRead()
	return dst, err
}

// open decrypts one whole record and acts on it.
func (s *Session) open(dst, rec []byte) ([]byte, error) {
	r := &s.r
	if rec[0] != typeApplicationData {
		return dst, protocolErr(alertUnexpectedMsg, "unprotected record of type %d after the handshake", rec[0])
	}
	if r.seq == ^uint64(0) {
		return dst, protocolErr(alertInternalError, "read sequence number exhausted")
	}
	nonce := r.k.nonce(r.seq)
	plain, err := r.k.aead.Open(rec[headerLen:headerLen], nonce[:], rec[headerLen:], rec[:headerLen])
	if err != nil {
		return dst, protocolErr(alertBadRecordMAC, "record %d does not decrypt (bad record MAC)", r.seq)
	}
	r.seq++
	// The inner content type is the last byte that is not padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return dst, protocolErr(alertUnexpectedMsg, "record with no content type")
	}
	typ, body := plain[i], plain[:i]
	if len(body) > maxPlaintext {
		return dst, protocolErr(alertRecordOverflow, "record with %d bytes of plaintext", len(body))
	}
	switch typ {
	case typeApplicationData:
		return append(dst, body...), nil
	case typeAlert:
		if len(body) != 2 {
			return dst, protocolErr(alertDecodeError, "alert of %d bytes", len(body))
		}
		if body[1] == alertCloseNotify {
			return dst, ErrCloseNotify
		}
		return dst, AlertError{Level: body[0], Description: body[1]}
	case typeHandshake:
		return dst, s.handshakeMessage(body)
	}
	return dst, protocolErr(alertUnexpectedMsg, "record of content type %d after the handshake", typ)
}

// handshakeMessage handles a post-handshake message. The only one a client
// sends to a server that asks for no client certificate is KeyUpdate,
// which ends its record (RFC 8446 section 5.1: no handshake message spans
// a key change), so a record holding anything else is refused.
func (s *Session) handshakeMessage(body []byte) error {
	if len(body) < 4 {
		return protocolErr(alertDecodeError, "handshake message split across records")
	}
	typ, n := body[0], int(body[1])<<16|int(body[2])<<8|int(body[3])
	if typ != hsKeyUpdate {
		return protocolErr(alertUnexpectedMsg, "post-handshake message of type %d", typ)
	}
	if n != keyUpdateLen || len(body) != 4+keyUpdateLen {
		return protocolErr(alertDecodeError, "KeyUpdate of %d bytes in a record of %d", n, len(body))
	}
	switch body[4] {
	case 0: // update_not_requested
	case 1: // update_requested: ours is due before our next record
		s.asked.Add(1)
	default:
		return protocolErr(alertIllegalParameter, "KeyUpdate request %d", body[4])
	}
	r := &s.r
	next := s.suite.nextSecret(r.secret)
	k, err := s.suite.keys(next)
	if err != nil {
		return protocolErr(alertInternalError, "%v", err)
	}
	r.secret, r.k, r.seq = next, k, 0
	return nil
}

// MaxPlaintext is the most application data one record carries.
const MaxPlaintext = maxPlaintext

// Write sends data to sock as application data records, after the tail of
// an earlier record and any KeyUpdate that is due. It returns how many of
// data's bytes were sealed into records: a record cut short by an error
// (a reboot's freeze interrupts a write with a deadline) is whole in the
// state, its unsent tail first in line for the next Write or the next
// generation.
func (s *Session) Write(sock io.Writer, data []byte) (int, error) {
	if err := s.flushPending(sock); err != nil {
		return 0, err
	}
	if err := s.keyUpdatesDue(sock); err != nil {
		return 0, err
	}
	n := 0
	for n < len(data) {
		chunk := data[n:min(len(data), n+maxPlaintext)]
		rec, err := s.seal(typeApplicationData, chunk)
		if err != nil {
			return n, err
		}
		n += len(chunk)
		if err := s.writeRecord(sock, rec); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Flush sends what the writer has of its own (a record's tail, a KeyUpdate)
// with no new data.
func (s *Session) Flush(sock io.Writer) error {
	_, err := s.Write(sock, nil)
	return err
}

// Close sends close_notify (after anything pending). The session must not
// be written to after it.
func (s *Session) Close(sock io.Writer) error {
	if err := s.flushPending(sock); err != nil {
		return err
	}
	rec, err := s.seal(typeAlert, []byte{alertLevelWarning, alertCloseNotify})
	if err != nil {
		return err
	}
	return s.writeRecord(sock, rec)
}

func (s *Session) flushPending(sock io.Writer) error {
	if len(s.w.pending) == 0 {
		return nil
	}
	p := s.w.pending
	s.w.pending = nil
	return s.writeRecord(sock, p)
}

// keyUpdatesDue sends a KeyUpdate of ours if the client asked for one
// (answering every request at once: one update answers them all) or one
// was requested here, and moves the write side to the next secret.
func (s *Session) keyUpdatesDue(sock io.Writer) error {
	asked := s.asked.Load()
	want := s.wantUpdate.Load()
	if asked == s.w.answered && !want {
		return nil
	}
	request := byte(0)
	if want {
		request = 1
	}
	rec, err := s.seal(typeHandshake, []byte{hsKeyUpdate, 0, 0, keyUpdateLen, request})
	if err != nil {
		return err
	}
	// The record is sealed under the old key; everything after it under
	// the new one. The state moves on before the record is written, so
	// that what is published is never the old key with a used number.
	next := s.suite.nextSecret(s.w.secret)
	k, err := s.suite.keys(next)
	if err != nil {
		return err
	}
	s.w.secret, s.w.k, s.w.seq = next, k, 0
	s.w.answered = asked
	if want {
		s.wantUpdate.Store(false)
	}
	return s.writeRecord(sock, rec)
}

// seal protects one record of content type typ holding data (at most
// maxPlaintext bytes), using the next sequence number. The record is in
// the writer's buffer, valid until the next seal.
func (s *Session) seal(typ byte, data []byte) ([]byte, error) {
	w := &s.w
	if w.seq == ^uint64(0) {
		return nil, errors.New("tls: write sequence number exhausted")
	}
	overhead := w.k.aead.Overhead()
	total := headerLen + len(data) + 1 + overhead
	if cap(w.buf) < total {
		w.buf = make([]byte, 0, max(total, 1024))
	}
	buf := w.buf[:headerLen]
	buf[0], buf[1], buf[2] = typeApplicationData, 3, 3
	binary.BigEndian.PutUint16(buf[3:5], uint16(len(data)+1+overhead))
	buf = append(buf, data...)
	buf = append(buf, typ)
	nonce := w.k.nonce(w.seq)
	w.seq++
	out := w.k.aead.Seal(buf[headerLen:headerLen], nonce[:], buf[headerLen:], buf[:headerLen])
	return buf[:headerLen+len(out)], nil
}

// writeRecord is the one place a record (or the unsent tail of one) goes
// to the socket: a record is written whole, or what is left of it is kept
// to be written first next time, and the state is published with the
// socket offset it is true at. (Under the crash journal a connection's
// records are sealed ahead instead, and written as they are: sealed.go.)
func (s *Session) writeRecord(sock io.Writer, rec []byte) error {
	n, err := sock.Write(rec)
	if n < 0 {
		n = 0
	}
	s.w.offset += uint64(n)
	if n < len(rec) {
		s.w.pending = append([]byte(nil), rec[n:]...)
		if err == nil {
			err = io.ErrShortWrite
		}
	}
	s.publishWrite()
	return err
}
