package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

// CreateServerSecret implements store.ServerSecrets.
func (db *DB) CreateServerSecret(ctx context.Context, s store.ServerSecret) error {
	_, err := db.q(ctx).Exec(ctx,
		`INSERT INTO server_secrets (name, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
		s.Name, s.Sealed, nullTime(s.CreatedAt), nullTime(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create server secret: %w", mapErr(err))
	}
	return nil
}

// GetServerSecret implements store.ServerSecrets.
func (db *DB) GetServerSecret(ctx context.Context, name string) (store.ServerSecret, error) {
	s := store.ServerSecret{Name: name}
	var created, updated *time.Time
	err := db.q(ctx).QueryRow(ctx,
		`SELECT sealed, created_at, updated_at FROM server_secrets WHERE name = $1`, name).Scan(&s.Sealed, &created, &updated)
	if err != nil {
		return store.ServerSecret{}, mapErr(err)
	}
	s.CreatedAt, s.UpdatedAt = fromNull(created), fromNull(updated)
	return s, nil
}

// UpdateServerSecret implements store.ServerSecrets.
func (db *DB) UpdateServerSecret(ctx context.Context, name string, sealed []byte, now time.Time) error {
	tag, err := db.q(ctx).Exec(ctx,
		`UPDATE server_secrets SET sealed = $1, updated_at = $2 WHERE name = $3`, sealed, nullTime(now), name)
	if err != nil {
		return fmt.Errorf("update server secret: %w", mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
