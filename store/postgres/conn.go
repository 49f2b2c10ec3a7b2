package postgres

import (
	"context"

	"github.com/propusk/propusk/store/sqlstore"
)

// conn runs the shared statements in the transaction ctx carries, or on
// the pool.
type conn struct{ db *DB }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.db.q(ctx).Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.db.q(ctx).Query(ctx, query, args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.db.q(ctx).QueryRow(ctx, query, args...)
}

// Returning and ReturningRow are Query and QueryRow: PostgreSQL has one
// pool for reads and writes.
func (c conn) Returning(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.Query(ctx, query, args...)
}

func (c conn) ReturningRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.QueryRow(ctx, query, args...)
}

func (c conn) Begin(ctx context.Context) (sqlstore.Tx, error) { return c.db.begin(ctx) }
