package flow

import (
	"bytes"
	"crypto/sha256"
	tokens "github.com/propusk/propusk/internal/token"
	"testing"
)

// FuzzTokenMatches checks that a CSRF token matches exactly the hash
// made from it: never another token, a truncated or empty hash, or a hash
// given as the token.
func FuzzTokenMatches(f *testing.F) {
	sum := sha256.Sum256([]byte("token"))
	for _, s := range []struct {
		h            []byte
		token, other string
	}{
		{nil, "", ""},
		{[]byte{}, "token", "token"},
		{sum[:], "token", "token "},
		{sum[:31], "token", "tokeN"},
		{append(sum[:], 0), "token", ""},
		{sum[:], string(sum[:]), "token\x00"},
		{bytes.Repeat([]byte{0}, 32), "\x00", "\xff\xfe"},
	} {
		f.Add(s.h, s.token, s.other)
	}
	f.Fuzz(func(t *testing.T, h []byte, token, other string) {
		want := sha256.Sum256([]byte(token))
		if got := TokenMatches(h, token); got != (token != "" && bytes.Equal(h, want[:])) {
			t.Fatalf("TokenMatches(%x, %q) = %v", h, token, got)
		}
		mine := tokens.Hash(token)
		if !bytes.Equal(mine, want[:]) {
			t.Fatalf("hash(%q) = %x, want SHA-256", token, mine)
		}
		if got := TokenMatches(mine, other); got != (other != "" && other == token) {
			t.Fatalf("hash of %q matches %q: %v", token, other, got)
		}
		if token != "" && !TokenMatches(mine, token) {
			t.Fatalf("hash of %q does not match it", token)
		}
	})
}
