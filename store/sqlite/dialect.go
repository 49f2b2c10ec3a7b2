package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/propusk/propusk/store/sqlstore"
)

// dialect is how SQLite keeps what the shared statements write: times as
// Unix microseconds (the precision PostgreSQL keeps, so both backends
// round-trip the same values; the zero time is NULL), string lists as JSON
// arrays.
var dialect = sqlstore.Dialect{
	Time: func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	},
	ScanTime: func(dst *time.Time) any { return timeDst{dst} },
	List: func(l []string) any {
		if l == nil {
			l = []string{}
		}
		b, _ := json.Marshal(l) // []string always marshals
		return string(b)
	},
	ScanList: func(dst *[]string) any { return listDst{dst} },
	MapErr:   mapErr,
	// A transaction holds the write lock from its first statement (BEGIN
	// IMMEDIATE): no row locks to take.
	ForUpdate:   "",
	ForShareKey: "",
	CollateC:    "", // BINARY, the default, sorts by bytes
	Greatest:    "max",
	NoLimit:     -1,
	MergedScopes: `(SELECT json_group_array(value) FROM (
		SELECT value FROM json_each(consents.scopes) UNION SELECT value FROM json_each(excluded.scopes) ORDER BY value))`,
}

// timeDst scans Unix microseconds into a time.Time in UTC, NULL as the
// zero time.
type timeDst struct{ t *time.Time }

func (d timeDst) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case nil:
		*d.t = time.Time{}
	default:
		return fmt.Errorf("scan %T as a time", v)
	}
	return nil
}

// listDst scans a JSON array column into a []string, NULL as the empty
// list.
type listDst struct{ l *[]string }

func (d listDst) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*d.l = []string{}
		return nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return err
	}
	if l == nil {
		l = []string{}
	}
	*d.l = l
	return nil
}

// conn runs the shared statements in the transaction ctx carries; outside
// one, reads go to the reader pool and writes to the writer connection.
type conn struct{ db *DB }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return rowsOf(c.db.reader(ctx).QueryContext(ctx, query, args...))
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.db.reader(ctx).QueryRowContext(ctx, query, args...)
}

func (c conn) Returning(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return rowsOf(c.db.writer(ctx).QueryContext(ctx, query, args...))
}

func (c conn) ReturningRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.db.writer(ctx).QueryRowContext(ctx, query, args...)
}

func (c conn) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return c.db.InTx(ctx, fn)
}

// rows is *sql.Rows with the Close sqlstore.Rows has (Err reports what
// Close would).
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

func rowsOf(r *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}
