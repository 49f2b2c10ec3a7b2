package sqlstore

import (
	"context"
	"time"

	"github.com/propusk/propusk/store"
)

var serverSecrets = newTable("server_secrets", `name, sealed, created_at, updated_at`,
	1, (*Store).serverSecretArgs, (*Store).serverSecretDests)

func (s *Store) serverSecretArgs(v store.ServerSecret) []any {
	return []any{v.Name, v.Sealed, s.timeArg(v.CreatedAt), s.timeArg(v.UpdatedAt)}
}

func (s *Store) serverSecretDests(v *store.ServerSecret) []any {
	return []any{&v.Name, &v.Sealed, s.d.ScanTime(&v.CreatedAt), s.d.ScanTime(&v.UpdatedAt)}
}

// CreateServerSecret implements store.ServerSecrets.
func (s *Store) CreateServerSecret(ctx context.Context, v store.ServerSecret) error {
	return serverSecrets.create(ctx, s, "create server secret", v)
}

// GetServerSecret implements store.ServerSecrets.
func (s *Store) GetServerSecret(ctx context.Context, name string) (store.ServerSecret, error) {
	return serverSecrets.get(ctx, s, serverSecrets.byKey, name)
}

// UpdateServerSecret implements store.ServerSecrets.
func (s *Store) UpdateServerSecret(ctx context.Context, name string, sealed []byte, now time.Time) error {
	return s.exactlyOne(ctx, "update server secret",
		`UPDATE server_secrets SET sealed = $1, updated_at = $2 WHERE name = $3`, sealed, s.timeArg(now), name)
}
