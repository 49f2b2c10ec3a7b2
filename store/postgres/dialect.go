package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/propusk/propusk/store/sqlstore"
)

// dialect is how PostgreSQL keeps what the shared statements write: times
// as timestamptz (microseconds; the zero time is NULL), string lists as
// text[].
var dialect = sqlstore.Dialect{
	Time: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC()
	},
	ScanTime: func(dst *time.Time) any { return timeDst{dst} },
	List: func(l []string) any {
		if l == nil { // a NOT NULL column
			return []string{}
		}
		return l
	},
	ScanList:    func(dst *[]string) any { return dst },
	MapErr:      mapErr,
	ForUpdate:   " FOR UPDATE",
	ForShareKey: " FOR NO KEY UPDATE",
	CollateC:    ` COLLATE "C"`,
	Greatest:    "GREATEST",
	NoLimit:     nil,
	MergedScopes: `ARRAY(SELECT s FROM (SELECT DISTINCT s COLLATE "C" AS s
		FROM unnest(consents.scopes || excluded.scopes) AS s) d ORDER BY s)`,
}

// timeDst scans a timestamptz into a time.Time in UTC, NULL as the zero
// time. pgx hands it the decoded value directly (no driver.Value on the
// way, no allocation).
type timeDst struct{ t *time.Time }

func (d timeDst) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*d.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("infinite timestamp")
	default:
		*d.t = v.Time.UTC()
	}
	return nil
}

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

func (c conn) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return c.db.InTx(ctx, fn)
}
