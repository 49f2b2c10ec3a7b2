package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/migrations"
)

var all = migrations.MustLoad(migrations.Postgres)

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	return db.MigrateTo(ctx, migrations.Latest(all))
}

// MigrateTo applies pending migrations up to target. A session-level advisory
// lock, keyed by the schema, makes concurrent starts of several nodes queue:
// the first migrates, the others find nothing left to do.
func (db *DB) MigrateTo(ctx context.Context, target int) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", mapErr(err))
	}
	defer conn.Release()
	const lockKey = `hashtext('propusk.migrate:' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", mapErr(err))
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`)

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", mapErr(err))
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", mapErr(err))
	}
	pending, err := migrations.Pending(all, current, target)
	if err != nil {
		return err
	}
	for _, m := range pending {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, mapErr(err))
		}
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, mapErr(err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, mapErr(err))
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, mapErr(err))
		}
	}
	return nil
}

// SchemaVersion is the highest applied migration, 0 for an empty database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := db.q(ctx).QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", mapErr(err))
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := db.q(ctx).QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", mapErr(err))
	}
	return v, nil
}
