package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"
)

func testHasher(t *testing.T) *SecretHasher {
	t.Helper()
	h, err := NewSecretHasher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGenerateSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 43 {
			t.Fatalf("secret %q is %d characters, want 43", s, len(s))
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("secret %q is not 32 bytes of base64url: %v", s, err)
		}
		if seen[s] {
			t.Fatalf("secret %q generated twice", s)
		}
		seen[s] = true
	}
}

func TestNewSecretHasherKeyLength(t *testing.T) {
	if _, err := NewSecretHasher(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := NewSecretHasher(nil); err == nil {
		t.Error("nil key accepted")
	}
	key := bytes.Repeat([]byte{1}, 32)
	h, err := NewSecretHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	before := h.HashSecret("s")
	key[0] = 2 // the hasher must have copied the key
	if !bytes.Equal(before, h.HashSecret("s")) {
		t.Error("hasher shares the caller's key slice")
	}
}

func TestSecretHasher(t *testing.T) {
	h := testHasher(t)
	secret, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	hash := h.HashSecret(secret)
	if len(hash) != 32 {
		t.Errorf("hash is %d bytes, want 32", len(hash))
	}
	if bytes.Contains(hash, []byte(secret)) {
		t.Error("hash contains the secret")
	}
	if !h.Matches(hash, secret) {
		t.Error("secret does not match its own hash")
	}
	if h.Matches(hash, secret+"x") || h.Matches(hash, "") || h.Matches(hash, secret[:42]) {
		t.Error("wrong secret matches")
	}
	if h.Matches(nil, "") || h.Matches([]byte{}, secret) {
		t.Error("empty hash matches")
	}
	if h.Matches(hash[:16], secret) {
		t.Error("truncated hash matches")
	}

	other, err := NewSecretHasher(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.HashSecret(secret), hash) {
		t.Error("different keys give the same hash")
	}
	if other.Matches(hash, secret) {
		t.Error("hash verifies under another key")
	}
}

// fositeHasher is fosite's Hasher interface, restated so this package need
// not import fosite.
type fositeHasher interface {
	Compare(ctx context.Context, hash, data []byte) error
	Hash(ctx context.Context, data []byte) ([]byte, error)
}

var _ fositeHasher = (*SecretHasher)(nil)

func TestSecretHasherFositeMethods(t *testing.T) {
	ctx := context.Background()
	h := testHasher(t)
	hash, err := h.Hash(ctx, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, h.HashSecret("s3cret")) {
		t.Error("Hash and HashSecret disagree")
	}
	if err := h.Compare(ctx, hash, []byte("s3cret")); err != nil {
		t.Errorf("Compare(right) = %v", err)
	}
	if err := h.Compare(ctx, hash, []byte("wrong")); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("Compare(wrong) = %v, want ErrSecretMismatch", err)
	}
}
