package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlstore"
)

// DefaultBusyTimeout is how long a writer waits for another process's write
// lock before giving up with store.ErrConflict.
const DefaultBusyTimeout = 5 * time.Second

// Options tune Open.
type Options struct {
	BusyTimeout time.Duration // 0: DefaultBusyTimeout
}

// DB is the SQLite store: the shared statements (sqlstore.Store) over a
// writer connection and a reader pool.
type DB struct {
	*sqlstore.Store
	path  string
	write *sql.DB // one connection: SQLite's single writer
	read  *sql.DB
}

// Open opens (creating if needed) the database file at path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// The file holds personal data: create it readable by its owner only.
	// SQLite gives the -wal and -shm files the same permissions.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	readDSN := "file:" + path + "?" + q.Encode()
	q.Set("_txlock", "immediate")
	writeDSN := "file:" + path + "?" + q.Encode()

	write, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", readDSN)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	db := &DB{path: path, write: write, read: read}
	db.Store = sqlstore.New(conn{db}, dialect)
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Ping checks that the file can be read and the writer connection is alive.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return mapErr(err)
	}
	var one int
	return mapErr(db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one))
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// tx is a database/sql transaction as sqlstore.Tx.
type tx struct{ *sql.Tx }

func (t tx) Commit(context.Context) error { return t.Tx.Commit() }

func (t tx) Rollback(context.Context) error {
	if err := t.Tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader is the transaction in ctx, or the read pool.
func (db *DB) reader(ctx context.Context) querier {
	if t, ok := sqlstore.TxFrom(ctx); ok {
		return t.(tx)
	}
	return db.read
}

// writer is the transaction in ctx, or the single writer connection.
func (db *DB) writer(ctx context.Context) querier {
	if t, ok := sqlstore.TxFrom(ctx); ok {
		return t.(tx)
	}
	return db.write
}

// begin starts a transaction: BEGIN IMMEDIATE on the single writer
// connection, so transactions serialise within this process and take the
// file's write lock against other processes.
func (db *DB) begin(ctx context.Context) (sqlstore.Tx, error) {
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return tx{t}, nil
}

// LockGrants implements store.OAuthRecords. It takes no lock of its own:
// every transaction is BEGIN IMMEDIATE on the single writer connection
// (InTx, BeginTx), so transactions already run one at a time, in this
// process and against any other process on the file. It only checks that
// it is called inside one, as the contract asks.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	if _, ok := sqlstore.TxFrom(ctx); !ok {
		return errors.New("lock grants: no transaction in context")
	}
	return nil
}

// mapErr turns driver errors into store sentinels: the one place that knows
// SQLite's result codes.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%v)", store.ErrAlreadyExists, err)
		}
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: the database file is locked by another writer (%v)", store.ErrConflict, err)
		}
	}
	return err
}

var (
	_ store.Store        = (*DB)(nil)
	_ store.Migrator     = (*DB)(nil)
	_ store.TxController = (*DB)(nil)
)
