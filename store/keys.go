package store

import (
	"context"
	"time"
)

// SigningKey is one of the provider's token-signing keys. Keys are
// published (JWKS) from CreatedAt, sign from SignFrom, and stop signing when
// a newer key's SignFrom arrives; package oauth decides how long a retired
// key stays published and kept.
type SigningKey struct {
	ID        string // kid
	Algorithm string // ES256 | RS256
	// Private is the private JWK, sealed (internal/seal) by package oauth.
	Private []byte
	// Public is the public JWK as JSON.
	Public    []byte
	CreatedAt time.Time
	SignFrom  time.Time
}

// SigningKeys stores signing keys. Every node reads the same set, so all
// agree on which key signs and which keys verify.
type SigningKeys interface {
	// CreateSigningKey inserts k; ErrAlreadyExists when the ID is taken.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key, oldest SignFrom first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKey removes a key; ErrNotFound when there is none.
	DeleteSigningKey(ctx context.Context, id string) error
}
