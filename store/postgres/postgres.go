package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlstore"
)

// DB is the PostgreSQL store: the shared statements (sqlstore.Store) over
// a pgx pool, with PostgreSQL's own transactions and grant lock.
type DB struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	// grantQueues queue, in this process, the transactions that will take
	// one person's grant lock (store.WithGrantSubject), one slot per
	// stripe: a transaction waits here without a connection, so at most
	// one connection per stripe waits on the advisory lock. People who
	// share a stripe only wait for each other a little.
	grantQueues [256]chan struct{}
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and checks that it answers. It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can echo the DSN, password included: keep only ours.
		return nil, errors.New("invalid PostgreSQL connection string (want postgres://user:password@host:port/database?sslmode=…)")
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed configuration (tests set search_path).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*DB, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	db := &DB{pool: pool}
	db.Store = sqlstore.New(conn{db}, dialect)
	for i := range db.grantQueues {
		db.grantQueues[i] = make(chan struct{}, 1)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return db, nil
}

// Ping implements store.Store.
func (db *DB) Ping(ctx context.Context) error { return mapErr(db.pool.Ping(ctx)) }

// Close implements store.Store.
func (db *DB) Close() error { db.pool.Close(); return nil }

// tx is a pgx transaction with its grant queue slot.
type tx struct {
	pgx.Tx
	// release frees the transaction's grant queue slot (a no-op without
	// one); it runs once, at commit or rollback.
	release func()
}

func (t *tx) Commit(ctx context.Context) error {
	defer t.release()
	return t.Tx.Commit(ctx)
}

func (t *tx) Rollback(ctx context.Context) error {
	defer t.release()
	if err := t.Tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// q is the transaction carried in ctx, or the pool.
func (db *DB) q(ctx context.Context) querier {
	if t, ok := sqlstore.TxFrom(ctx); ok {
		return t.(*tx)
	}
	return db.pool
}

// begin takes, for a transaction marked store.WithGrantSubject, its
// person's grant queue slot first, then a connection.
func (db *DB) begin(ctx context.Context) (sqlstore.Tx, error) {
	release, err := db.queueForGrants(ctx)
	if err != nil {
		return nil, err
	}
	t, err := db.pool.Begin(ctx)
	if err != nil {
		release()
		return nil, err
	}
	return &tx{Tx: t, release: release}, nil
}

// mapErr turns driver errors into store sentinels: the one place that knows
// PostgreSQL's SQLSTATEs.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w (%s)", store.ErrAlreadyExists, pe.ConstraintName)
		case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.Message)
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			// Text PostgreSQL cannot hold (invalid UTF-8, a NUL byte), as
			// a token, client ID or flow ID from a request may be: no row
			// can have that key. SQLite answers ErrNotFound by itself.
			// Propusk never writes such text (callers make it valid first).
			return fmt.Errorf("%w: %s", store.ErrNotFound, pe.Message)
		}
	}
	return err
}

var (
	_ store.Store        = (*DB)(nil)
	_ store.Migrator     = (*DB)(nil)
	_ store.TxController = (*DB)(nil)
)
