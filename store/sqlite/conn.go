package sqlite

import (
	"context"
	"database/sql"

	"github.com/propusk/propusk/store/sqlstore"
)

// conn runs the shared statements in the transaction ctx carries; outside
// one, reads go to the reader pool and writes to the writer connection.
type conn struct{ db *DB }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	query, args = toPositional(query, args)
	res, err := c.db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return queryRows(ctx, c.db.reader(ctx), query, args)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return queryRow(ctx, c.db.reader(ctx), query, args)
}

func (c conn) Returning(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return queryRows(ctx, c.db.writer(ctx), query, args)
}

func (c conn) ReturningRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return queryRow(ctx, c.db.writer(ctx), query, args)
}

func (c conn) Begin(ctx context.Context) (sqlstore.Tx, error) { return c.db.begin(ctx) }

func queryRows(ctx context.Context, q querier, query string, args []any) (sqlstore.Rows, error) {
	query, args = toPositional(query, args)
	r, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func queryRow(ctx context.Context, q querier, query string, args []any) sqlstore.Row {
	query, args = toPositional(query, args)
	return q.QueryRowContext(ctx, query, args...)
}

// rows is *sql.Rows with the Close sqlstore.Rows has (Err reports what
// Close would).
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }
