// Package token makes the random bearer values Propusk hands to browsers
// (flow IDs, form tokens, session cookies) and the hashes it keeps of
// them, so a copy of the database holds no usable value.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// New returns 256 random bits, base64url without padding: unguessable, and
// safe in URLs, forms and cookies.
func New() string {
	var b [32]byte
	rand.Read(b[:]) // never fails; crashes the program if it ever could not
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is what the server stores of a token.
func Hash(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// Matches reports, in constant time, whether t is the token whose hash is
// h. An empty token or a hash of the wrong size never matches.
func Matches(h []byte, t string) bool {
	if t == "" || len(h) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(h, Hash(t)) == 1
}

// Equal compares two presented tokens (a cookie and a form field, the
// double-submit pattern) in constant time; empty never equals.
func Equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
