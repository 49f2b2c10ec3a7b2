package sqlstore

import (
	"context"

	"github.com/propusk/propusk/store"
)

var signingKeys = newTable("signing_keys", `id, algorithm, private, public, created_at, sign_from`,
	1, (*Store).signingKeyArgs, (*Store).signingKeyDests)

func (s *Store) signingKeyArgs(k store.SigningKey) []any {
	return []any{k.ID, k.Algorithm, k.Private, k.Public, s.timeArg(k.CreatedAt), s.timeArg(k.SignFrom)}
}

func (s *Store) signingKeyDests(k *store.SigningKey) []any {
	return []any{&k.ID, &k.Algorithm, &k.Private, &k.Public, s.d.ScanTime(&k.CreatedAt), s.d.ScanTime(&k.SignFrom)}
}

// CreateSigningKey implements store.SigningKeys.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	return signingKeys.create(ctx, s, "create signing key", k)
}

// ListSigningKeys implements store.SigningKeys.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return signingKeys.list(ctx, s, "list signing keys", signingKeys.selectAll+` ORDER BY sign_from, id`+s.d.CollateC)
}

// DeleteSigningKey implements store.SigningKeys.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return signingKeys.remove(ctx, s, "delete signing key", id)
}
