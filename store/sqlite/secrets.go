package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

// CreateServerSecret implements store.ServerSecrets.
func (db *DB) CreateServerSecret(ctx context.Context, s store.ServerSecret) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO server_secrets (name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		s.Name, s.Sealed, micros(s.CreatedAt), micros(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create server secret: %w", mapErr(err))
	}
	return nil
}

// GetServerSecret implements store.ServerSecrets.
func (db *DB) GetServerSecret(ctx context.Context, name string) (store.ServerSecret, error) {
	s := store.ServerSecret{Name: name}
	var created, updated sql.NullInt64
	err := db.reader(ctx).QueryRowContext(ctx,
		`SELECT sealed, created_at, updated_at FROM server_secrets WHERE name = ?`, name).Scan(&s.Sealed, &created, &updated)
	if err != nil {
		return store.ServerSecret{}, mapErr(err)
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	return s, nil
}

// UpdateServerSecret implements store.ServerSecrets.
func (db *DB) UpdateServerSecret(ctx context.Context, name string, sealed []byte, now time.Time) error {
	res, err := db.writer(ctx).ExecContext(ctx,
		`UPDATE server_secrets SET sealed = ?, updated_at = ? WHERE name = ?`, sealed, micros(now), name)
	if err != nil {
		return fmt.Errorf("update server secret: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update server secret: %w", mapErr(err))
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
