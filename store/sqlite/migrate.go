package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/migrations"
)

var all = migrations.MustLoad(migrations.SQLite)

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	return db.MigrateTo(ctx, migrations.Latest(all))
}

// MigrateTo applies pending migrations up to target, each in its own
// transaction. BEGIN IMMEDIATE makes a second process wait for the first, and
// the version is read again inside each transaction, so two processes
// starting at once apply every step exactly once.
func (db *DB) MigrateTo(ctx context.Context, target int) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY NOT NULL,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", mapErr(err))
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	pending, err := migrations.Pending(all, current, target)
	if err != nil {
		return err
	}
	for _, m := range pending {
		err := db.InTx(ctx, func(ctx context.Context) error {
			now, err := db.SchemaVersion(ctx)
			if err != nil || now >= m.Version {
				return err
			}
			if _, err := db.writer(ctx).ExecContext(ctx, m.SQL); err != nil {
				return mapErr(err)
			}
			_, err = db.writer(ctx).ExecContext(ctx,
				`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro())
			return mapErr(err)
		})
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion is the highest applied migration, 0 for an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists int
	if err := db.reader(ctx).QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", mapErr(err))
	}
	if exists == 0 {
		return 0, nil
	}
	var v int
	if err := db.reader(ctx).QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", mapErr(err))
	}
	return v, nil
}
