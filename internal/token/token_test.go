package token

import (
	"encoding/base64"
	"testing"
)

func TestTokens(t *testing.T) {
	a, b := New(), New()
	if len(a) != 43 || a == b {
		t.Fatalf("tokens %q %q: want 43 characters, distinct", a, b)
	}
	if !Matches(Hash(a), a) || Matches(Hash(a), b) || Matches(Hash(a), "") || Matches(nil, a) {
		t.Fatal("Matches")
	}
	if !Equal(a, a) || Equal(a, b) || Equal("", "") {
		t.Fatal("Equal")
	}
}

func TestFormTokens(t *testing.T) {
	token := New()
	hash := Hash(token)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", token, len(raw), err)
	}
	if len(hash) != 32 {
		t.Fatalf("hash of %d bytes", len(hash))
	}
	if !Matches(hash, token) {
		t.Error("token does not match its own hash")
	}

	other := New()
	otherHash := Hash(other)
	if other == token {
		t.Fatal("two tokens alike")
	}
	for name, c := range map[string]struct {
		hash  []byte
		token string
	}{
		"other token":     {hash, other},
		"other hash":      {otherHash, token},
		"empty token":     {hash, ""},
		"nil hash":        {nil, token},
		"short hash":      {hash[:16], token},
		"hash as token":   {hash, base64.RawURLEncoding.EncodeToString(hash)},
		"token truncated": {hash, token[:len(token)-1]},
		"token padded":    {hash, token + "="},
	} {
		if Matches(c.hash, c.token) {
			t.Errorf("%s: matches", name)
		}
	}
	// The stored hash is not the token.
	if string(hash) == token || base64.RawURLEncoding.EncodeToString(hash) == token {
		t.Error("hash reveals the token")
	}
}
