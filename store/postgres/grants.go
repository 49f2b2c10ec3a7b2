package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/propusk/propusk/store"
)

// count runs a write and returns the rows it affected.
func (db *DB) count(ctx context.Context, what, query string, args ...any) (int, error) {
	tag, err := db.q(ctx).Exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// LockGrants implements store.OAuthRecords with a transaction-level
// advisory lock. The key is the first 8 bytes of SHA-256 over
// "propusk.grants:" and the subject: the same in every process and
// PostgreSQL version (hashtext's output is not promised to stay), and 64
// bits wide, so two people share a key only by a rare collision, which
// makes their grant transactions wait for each other and nothing worse.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	st, ok := txFrom(ctx)
	if !ok {
		return errors.New("lock grants: no transaction in context")
	}
	sum := sha256.Sum256([]byte("propusk.grants:" + subject))
	if _, err := st.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
		return fmt.Errorf("lock grants: %w", mapErr(err))
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
