package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

// Conn is the database as a backend hands it over. Every method runs in
// the transaction ctx carries, if any; outside one a backend may send
// reads and writes to different pools (SQLite reads from a pool of its
// own, so that reads never wait for the one writer).
type Conn interface {
	// Exec runs a statement that writes and says how many rows it
	// affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a read.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a read of one row; its error comes from Scan.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Returning runs a statement that writes and returns rows
	// (… RETURNING).
	Returning(ctx context.Context, query string, args ...any) (Rows, error)
	// ReturningRow runs a statement that writes and returns one row.
	ReturningRow(ctx context.Context, query string, args ...any) Row
	// Begin opens a transaction, which the Store carries in a context
	// (TxFrom).
	Begin(ctx context.Context) (Tx, error)
}

// Row is one result row: pgx.Row and *sql.Row both are one.
type Row interface {
	Scan(dest ...any) error
}

// Rows are a result's rows: pgx.Rows is one as it is, *sql.Rows once its
// Close drops the error (which Err reports).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Dialect is what the shared statements need to know about a database.
type Dialect struct {
	// Time is t, never the zero time, as a timestamp column takes it.
	Time func(t time.Time) any
	// ScanTime is a scan destination that stores a timestamp column in
	// *dst, in UTC; NULL is the zero time.
	ScanTime func(dst *time.Time) any
	// List is l, never nil, as a string-list column takes it.
	List func(l []string) any
	// ScanList is a scan destination that stores a string-list column in
	// *dst; NULL is the empty list.
	ScanList func(dst *[]string) any
	// MapErr turns the driver's errors into store sentinels. A read that
	// found no row must come back as store.ErrNotFound.
	MapErr func(err error) error

	// ForUpdate ends a SELECT that reads a row to update it in the same
	// transaction: " FOR UPDATE" where rows are locked one by one, ""
	// where a transaction holds the write lock from its first statement.
	ForUpdate string
	// ForShareKey ends a SELECT that keeps a row from changing its key or
	// going away until the transaction ends (" FOR NO KEY UPDATE"), and
	// serialises transactions that take it; "" as for ForUpdate.
	ForShareKey string
	// CollateC follows a text column that must sort by bytes
	// (` COLLATE "C"`), "" where that is the default.
	CollateC string
	// Greatest names the two-argument maximum function.
	Greatest string
	// NoLimit is the LIMIT argument that means no limit.
	NoLimit any
	// MergedScopes is the expression that sets consents.scopes to the
	// sorted union of the stored (consents.scopes) and the new
	// (excluded.scopes) scopes, without duplicates.
	MergedScopes string
}

// Store implements the store interfaces over a Conn, transactions
// included, but for what only a backend can do (the grant lock,
// migrations, Ping and Close): a backend embeds it.
type Store struct {
	conn Conn
	d    Dialect
}

// New returns the store that runs its statements on c, written for d.
func New(c Conn, d Dialect) *Store {
	return &Store{conn: c, d: d}
}

// timeArg is t as an argument: the zero time is NULL.
func (s *Store) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.Time(t)
}

// listArg is l as an argument: nil is the empty list (the list columns
// are NOT NULL).
func (s *Store) listArg(l []string) any {
	if l == nil {
		l = []string{}
	}
	return s.d.List(l)
}

// count runs a write and says how many rows it affected.
func (s *Store) count(ctx context.Context, what, query string, args ...any) (int, error) {
	n, err := s.conn.Exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return int(n), nil
}

// exactlyOne runs a write that must affect one row; none is
// store.ErrNotFound.
func (s *Store) exactlyOne(ctx context.Context, what, query string, args ...any) error {
	n, err := s.count(ctx, what, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// sweep deletes at most limit rows of a batch; query takes the limit as
// its last argument.
func (s *Store) sweep(ctx context.Context, what string, limit int, query string, args ...any) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return s.count(ctx, what, query, append(args, limit)...)
}

// queryAll runs a read and scans every row with scan, whose errors are
// mapped already.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(*Store, Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(s, rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return out, nil
}
