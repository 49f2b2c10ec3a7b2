package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlstore"
)

// LockGrants implements store.OAuthRecords with a transaction-level
// advisory lock. The key is the first 8 bytes of SHA-256 over
// "propusk.grants:" and the subject: the same in every process and
// PostgreSQL version (hashtext's output is not promised to stay), and 64
// bits wide, so two people share a key only by a rare collision, which
// makes their grant transactions wait for each other and nothing worse.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	t, ok := sqlstore.TxFrom(ctx)
	if !ok {
		return errors.New("lock grants: no transaction in context")
	}
	sum := sha256.Sum256([]byte("propusk.grants:" + subject))
	if _, err := t.(*tx).Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
		return fmt.Errorf("lock grants: %w", mapErr(err))
	}
	return nil
}

// queueForGrants takes, for a transaction marked store.WithGrantSubject,
// its person's slot in this process's grant queues, waiting without a
// connection; the returned func gives it back.
func (db *DB) queueForGrants(ctx context.Context) (func(), error) {
	subject := store.GrantSubject(ctx)
	if subject == "" {
		return func() {}, nil
	}
	sum := sha256.Sum256([]byte(subject))
	q := db.grantQueues[sum[0]]
	select {
	case q <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the grant lock: %w", ctx.Err())
	}
	var once sync.Once
	return func() { once.Do(func() { <-q }) }, nil
}
