package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/propusk/propusk/store"
)

// CreateSigningKey implements store.SigningKeys.
func (db *DB) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO signing_keys (id, algorithm, private, public, created_at, sign_from) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Private, k.Public, micros(k.CreatedAt), micros(k.SignFrom))
	if err != nil {
		return fmt.Errorf("create signing key: %w", mapErr(err))
	}
	return nil
}

// ListSigningKeys implements store.SigningKeys.
func (db *DB) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := db.reader(ctx).QueryContext(ctx,
		`SELECT id, algorithm, private, public, created_at, sign_from FROM signing_keys ORDER BY sign_from, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created, from sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &k.Public, &created, &from); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", mapErr(err))
		}
		k.CreatedAt, k.SignFrom = fromMicros(created), fromMicros(from)
		out = append(out, k)
	}
	return out, mapErr(rows.Err())
}

// DeleteSigningKey implements store.SigningKeys.
func (db *DB) DeleteSigningKey(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = ?`, id)
}
