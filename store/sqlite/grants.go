package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/propusk/propusk/store"
)

// count runs a write and returns the rows it affected.
func (db *DB) count(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return int(n), nil
}

// LockGrants implements store.OAuthRecords. It takes no lock of its own:
// every transaction is BEGIN IMMEDIATE on the single writer connection
// (InTx, BeginTx), so transactions already run one at a time, in this
// process and against any other process on the file. It only checks that
// it is called inside one, as the contract asks.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	if _, ok := txFrom(ctx); !ok {
		return errors.New("lock grants: no transaction in context")
	}
	return nil
}

// exactlyOne runs a write that must affect one row; none is ErrNotFound.
func (db *DB) exactlyOne(ctx context.Context, what, query string, args ...any) error {
	n, err := db.count(ctx, what, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
