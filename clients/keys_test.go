package clients

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Test keys are generated once: RSA key generation is slow under -race.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	keys := map[string]crypto.Signer{}
	mustEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustRSA := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	keys["p256"] = mustEC(elliptic.P256())
	keys["p384"] = mustEC(elliptic.P384())
	keys["rsa2048"] = mustRSA(2048)
	keys["rsa1024"] = mustRSA(1024)
	return keys
})

// jwk returns one JWK (public unless private is set) as JSON.
func jwk(t *testing.T, name string, private bool, use string) json.RawMessage {
	t.Helper()
	k := testKeys()[name]
	var key any = k.Public()
	if private {
		key = k
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: name, Use: use})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwks wraps keys in a key set.
func jwks(t *testing.T, keys ...json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
