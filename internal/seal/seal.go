package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length of every key in bytes (AES-256).
const KeySize = 32

const (
	version1   byte = 1
	keyIDSize       = 4
	nonceSize       = 12
	tagSize         = 16
	headerSize      = 1 + keyIDSize + nonceSize
	minSealed       = headerSize + tagSize

	// Domain-separation labels: the key ID hash and the GCM additional data
	// must never collide with any other use of the same bytes.
	keyIDLabel = "propusk/seal key-id v1\x00"
	adLabel    = "propusk/seal ad v1\x00"
)

var (
	// ErrUnknownKey means the sealed value names a key ID the ring does not
	// hold, typically because a key was removed from configuration too early.
	ErrUnknownKey = errors.New("seal: sealed with a key that is not among the configured secrets keys")
	// ErrOpen means authentication failed: wrong key material, tampered
	// ciphertext, or an AD that differs from the one used to seal.
	ErrOpen = errors.New("seal: cannot open sealed value (wrong key, tampered data, or wrong table/column/row)")
	// ErrMalformed means the value is too short or has an unknown version.
	ErrMalformed = errors.New("seal: malformed sealed value")
)

// unknownKeyError carries the key ID so the operator can tell which key is
// missing; it matches ErrUnknownKey with errors.Is.
type unknownKeyError struct{ id string }

func (e unknownKeyError) Error() string {
	return "seal: sealed with key " + e.id + ", which is not among the configured secrets keys"
}

func (e unknownKeyError) Is(target error) bool { return target == ErrUnknownKey }

// AD binds a ciphertext to where it is stored, so a sealed value copied to
// another row/column does not open.
type AD struct{ Table, Column, Row string }

type keyID [keyIDSize]byte

func (id keyID) String() string { return hex.EncodeToString(id[:]) }

// deriveKeyID hashes the key with a label rather than using a key prefix, so
// the ID stored next to every ciphertext reveals nothing about the key.
func deriveKeyID(key []byte) keyID {
	h := sha256.New()
	h.Write([]byte(keyIDLabel))
	h.Write(key)
	var id keyID
	copy(id[:], h.Sum(nil))
	return id
}

// Ring is an ordered set of keys: the first seals, all open. It is
// immutable after construction and safe for concurrent use. It keeps no raw
// key bytes, only the initialised AEADs.
type Ring struct {
	ids   []keyID // ids[0] is the primary
	aeads map[keyID]cipher.AEAD
}

// NewRing builds a ring from one or more 32-byte keys; the first encrypts.
// Duplicate keys are rejected because they usually mean a copy-paste error
// during rotation.
func NewRing(keys ...[]byte) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: no keys given")
	}
	r := &Ring{ids: make([]keyID, 0, len(keys)), aeads: make(map[keyID]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("seal: key #%d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		for j := range i {
			if subtle.ConstantTimeCompare(k, keys[j]) == 1 {
				return nil, fmt.Errorf("seal: key #%d duplicates key #%d", i+1, j+1)
			}
		}
		id := deriveKeyID(k)
		if _, dup := r.aeads[id]; dup {
			// Distinct keys with equal IDs (chance 2^-32): Open could not
			// tell them apart, so refuse rather than fail later.
			return nil, fmt.Errorf("seal: key #%d has the same key ID %s as an earlier key; generate a new key", i+1, id)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("seal: key #%d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: key #%d: %w", i+1, err)
		}
		r.ids = append(r.ids, id)
		r.aeads[id] = aead
	}
	return r, nil
}

// appendAD encodes the additional data with length prefixes so that field
// boundaries are unambiguous: ("a","bc") and ("ab","c") differ. Version and
// key ID are included so the header is authenticated too.
func appendAD(dst []byte, v byte, id keyID, ad AD) []byte {
	dst = append(dst, adLabel...)
	dst = append(dst, v)
	dst = append(dst, id[:]...)
	for _, f := range [...]string{ad.Table, ad.Column, ad.Row} {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// Seal encrypts plaintext with the primary key, bound to ad.
// Layout: version(1) | keyID(4) | nonce(12) | ciphertext+tag.
func (r *Ring) Seal(plaintext []byte, ad AD) ([]byte, error) {
	if r == nil || len(r.ids) == 0 {
		return nil, errors.New("seal: nil or empty ring")
	}
	id := r.ids[0]
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = version1
	copy(out[1:], id[:])
	nonce := out[1+keyIDSize : headerSize]
	// Random 96-bit nonces are safe well beyond the number of values this
	// service will seal under one key.
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: reading random nonce: %w", err)
	}
	return r.aeads[id].Seal(out, nonce, plaintext, appendAD(nil, version1, id, ad)), nil
}

// Open authenticates and decrypts a value produced by Seal with the same ad.
// Errors match ErrMalformed, ErrUnknownKey or ErrOpen.
func (r *Ring) Open(sealed []byte, ad AD) ([]byte, error) {
	if r == nil || len(r.ids) == 0 {
		return nil, errors.New("seal: nil or empty ring")
	}
	if len(sealed) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if sealed[0] != version1 {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, sealed[0])
	}
	if len(sealed) < minSealed {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(sealed), minSealed)
	}
	var id keyID
	copy(id[:], sealed[1:])
	aead, ok := r.aeads[id]
	if !ok {
		return nil, unknownKeyError{id: id.String()}
	}
	pt, err := aead.Open(nil, sealed[1+keyIDSize:headerSize], sealed[headerSize:], appendAD(nil, version1, id, ad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// PrimaryKeyID returns the 8-hex-digit ID of the key that Seal uses.
func (r *Ring) PrimaryKeyID() string { return r.ids[0].String() }

// SealedWithPrimary reports whether sealed names the primary key. False means
// an older key (or garbage) sealed it and the caller should re-seal it.
// It does not authenticate; Open does.
func (r *Ring) SealedWithPrimary(sealed []byte) bool {
	if len(sealed) < minSealed || sealed[0] != version1 {
		return false
	}
	return keyID(sealed[1:1+keyIDSize]) == r.ids[0]
}

// keyIDs lists the IDs in ring order, primary first.
func (r *Ring) keyIDs() []string {
	s := make([]string, len(r.ids))
	for i, id := range r.ids {
		s[i] = id.String()
	}
	return s
}

// LogValue shows only key IDs, never key material.
func (r *Ring) LogValue() slog.Value {
	if r == nil || len(r.ids) == 0 {
		return slog.StringValue("<empty ring>")
	}
	return slog.GroupValue(
		slog.String("primary", r.ids[0].String()),
		slog.Any("keys", r.keyIDs()),
	)
}

// String and GoString keep fmt verbs (including %#v) from dumping the
// expanded AES key schedules held inside the AEADs.
func (r *Ring) String() string {
	if r == nil || len(r.ids) == 0 {
		return "seal.Ring{}"
	}
	return "seal.Ring{keys: " + strings.Join(r.keyIDs(), ",") + "}"
}

func (r *Ring) GoString() string { return r.String() }

// GenerateKey returns a fresh random 32-byte key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("seal: generating key: %w", err)
	}
	return k, nil
}
