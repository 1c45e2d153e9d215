// Package tlsrecord is a TLS 1.3 record layer (RFC 8446 section 5) whose
// whole state is plain data, so that a TLS session can be handed to another
// process (a reboot's new generation, or the angel's crash recovery) with
// its socket, as kernel TLS does it in the kernel.
//
// Go's crypto/tls does the handshake (handshake.go): TLS 1.3 only, no
// session tickets, and a net.Conn under it that never lets it read past the
// client's Finished. Its key log gives the two application traffic
// secrets; from there this package seals and opens records itself: AEAD per
// the negotiated suite, nonce = iv XOR sequence number, the record header as
// additional data, the inner content type, KeyUpdate both ways and
// close_notify. What is carried (State) is the suite, the current traffic
// secret and sequence number each way, the bytes of a record half received,
// the unsent tail of a record half written, and the socket's stream offsets
// that say where that state is true (see Offsets).
package tlsrecord

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// The TLS 1.3 cipher suites (RFC 8446 appendix B.4) that Go negotiates.
const (
	AES128GCMSHA256        uint16 = 0x1301
	AES256GCMSHA384        uint16 = 0x1302
	CHACHA20POLY1305SHA256 uint16 = 0x1303
)

// Record content types (RFC 8446 section 5.1).
const (
	typeChangeCipherSpec byte = 20
	typeAlert            byte = 21
	typeHandshake        byte = 22
	typeApplicationData  byte = 23
)

const (
	headerLen = 5
	// maxPlaintext is the largest plaintext a record may carry (2^14).
	maxPlaintext = 1 << 14
	// maxCiphertext bounds a protected record's length field: 2^14 + 256.
	maxCiphertext = maxPlaintext + 256
	// handshake message type of KeyUpdate, and its body length.
	hsKeyUpdate  byte = 24
	keyUpdateLen      = 1
)

// suite is what a cipher suite decides: the hash of its key schedule, the
// AEAD and its key length.
type suite struct {
	id     uint16
	hash   func() hash.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error)
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func suiteByID(id uint16) (*suite, error) {
	switch id {
	case AES128GCMSHA256:
		return &suite{id, sha256.New, 16, gcm}, nil
	case AES256GCMSHA384:
		return &suite{id, sha512.New384, 32, gcm}, nil
	case CHACHA20POLY1305SHA256:
		return &suite{id, sha256.New, chacha20poly1305.KeySize, chacha20poly1305.New}, nil
	}
	return nil, fmt.Errorf("tlsrecord: unsupported cipher suite %#04x", id)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 section 7.1) with an empty
// context.
func (s *suite) expandLabel(secret []byte, label string, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 2+1+len(full)+1)
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(s.hash, secret, string(info), length)
	if err != nil {
		panic("tlsrecord: HKDF-Expand-Label: " + err.Error()) // only for lengths out of range, which are constants here
	}
	return out
}

// nextSecret is application_traffic_secret_N+1 (RFC 8446 section 7.2).
func (s *suite) nextSecret(secret []byte) []byte {
	return s.expandLabel(secret, "traffic upd", s.hash().Size())
}

// keys is one direction's traffic keys, derived from its secret.
type keys struct {
	aead cipher.AEAD
	iv   [12]byte
}

func (s *suite) keys(secret []byte) (keys, error) {
	var k keys
	if len(secret) != s.hash().Size() {
		return k, fmt.Errorf("tlsrecord: traffic secret of %d bytes for a suite whose hash has %d", len(secret), s.hash().Size())
	}
	aead, err := s.aead(s.expandLabel(secret, "key", s.keyLen))
	if err != nil {
		return k, err
	}
	k.aead = aead
	copy(k.iv[:], s.expandLabel(secret, "iv", 12))
	return k, nil
}

// nonce is the per-record nonce: the iv XOR the 64-bit sequence number,
// left-padded (RFC 8446 section 5.3).
func (k *keys) nonce(seq uint64) [12]byte {
	n := k.iv
	for i := 0; i < 8; i++ {
		n[4+i] ^= byte(seq >> (56 - 8*i))
	}
	return n
}

// Alert descriptions this package sends or names.
const (
	alertCloseNotify      byte = 0
	alertUnexpectedMsg    byte = 10
	alertBadRecordMAC     byte = 20
	alertRecordOverflow   byte = 22
	alertDecodeError      byte = 50
	alertProtocolVersion  byte = 70
	alertInternalError    byte = 80
	alertUserCanceled     byte = 90
	alertLevelWarning     byte = 1
	alertLevelFatal       byte = 2
	alertIllegalParameter byte = 47
)

// ErrCloseNotify is returned by Reader.Feed when the peer sent
// close_notify: the end of its data, an orderly EOF.
var ErrCloseNotify = errors.New("tls: the client closed the session (close_notify)")

// AlertError is an alert the peer sent, other than close_notify.
type AlertError struct{ Level, Description byte }

func (e AlertError) Error() string {
	return fmt.Sprintf("tls: the client sent alert %d (level %d)", e.Description, e.Level)
}

// ProtocolError is a record the peer sent that breaks the protocol (or was
// not protected with the key this side expects): the connection must end.
// Alert is what to tell the peer.
type ProtocolError struct {
	Alert byte
	What  string
}

func (e *ProtocolError) Error() string { return "tls: " + e.What }

func protocolErr(alert byte, format string, args ...any) error {
	return &ProtocolError{Alert: alert, What: fmt.Sprintf(format, args...)}
}
