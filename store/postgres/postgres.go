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

type txKey struct{}

// txState is the transaction a context carries. joined marks a context that
// entered an already open transaction (BeginTx inside a transaction):
// committing or rolling back through it is left to the owner.
type txState struct {
	tx     pgx.Tx
	joined bool
	// release frees the transaction's grant queue slot (a no-op without
	// one); it runs once, at commit or rollback.
	release func()
}

func txFrom(ctx context.Context) (*txState, bool) {
	st, ok := ctx.Value(txKey{}).(*txState)
	return st, ok
}

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// q is the transaction carried in ctx, or the pool.
func (db *DB) q(ctx context.Context) querier {
	if st, ok := txFrom(ctx); ok {
		return st.tx
	}
	return db.pool
}

// InTx implements store.Transactor.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, ok := txFrom(ctx); ok {
		return fn(ctx)
	}
	ctx, err = db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			db.RollbackTx(ctx)
			panic(p)
		}
	}()
	if err := fn(ctx); err != nil {
		db.RollbackTx(ctx)
		return err
	}
	return db.CommitTx(ctx)
}

// BeginTx implements store.TxController.
func (db *DB) BeginTx(ctx context.Context) (context.Context, error) {
	if st, ok := txFrom(ctx); ok {
		return context.WithValue(ctx, txKey{}, &txState{tx: st.tx, joined: true}), nil
	}
	release, err := db.queueForGrants(ctx)
	if err != nil {
		return ctx, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		release()
		return ctx, fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	return context.WithValue(ctx, txKey{}, &txState{tx: tx, release: release}), nil
}

// CommitTx implements store.TxController.
func (db *DB) CommitTx(ctx context.Context) error {
	st, ok := txFrom(ctx)
	if !ok {
		return errors.New("commit: no transaction in context")
	}
	if st.joined {
		return nil
	}
	defer st.release()
	if err := st.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// RollbackTx implements store.TxController. Rolling back a finished
// transaction is not an error, so a deferred rollback after a commit is safe.
// It runs even when ctx is cancelled: the connection must go back clean.
func (db *DB) RollbackTx(ctx context.Context) error {
	st, ok := txFrom(ctx)
	if !ok {
		return errors.New("rollback: no transaction in context")
	}
	if st.joined {
		return nil
	}
	defer st.release()
	if err := st.tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("rollback: %w", mapErr(err))
	}
	return nil
}

// ExecScript runs SQL text (several statements) in one transaction. Tests use
// it to seed rows.
func (db *DB) ExecScript(ctx context.Context, script string) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		_, err := db.q(ctx).Exec(ctx, script, pgx.QueryExecModeSimpleProtocol)
		return mapErr(err)
	})
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
