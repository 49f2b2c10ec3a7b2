// Package sqlite is the embedded store backend: pure-Go SQLite
// (modernc.org/sqlite, no cgo) in one file, Propusk's zero-set-up default.
// The statements are store/sqlstore's; this package gives them its pools
// and SQLite's dialect (Unix microseconds, JSON arrays) and keeps
// transactions, migrations and the mapping of result codes to store errors.
//
// SQLite allows one writer at a time. The backend makes that explicit: writes
// and transactions go through a pool of one connection whose transactions
// start with BEGIN IMMEDIATE (taking the write lock up front, so a
// read-then-write never fails half-way on lock upgrade), and reads outside a
// transaction go through a separate pool in WAL mode, where they never wait
// for the writer. Another process holding the lock longer than the busy
// timeout surfaces as store.ErrConflict.
package sqlite
