// Package postgres is the production store backend: PostgreSQL through pgx v5
// (pgxpool, no database/sql). Any number of Propusk processes may share one
// database; nothing lives only in a process.
//
// A transaction travels in the context (InTx), so several store calls can
// share one. Read-modify-write (Update…) locks the row with SELECT … FOR
// UPDATE; single-use things are enforced by conditional writes and unique
// indexes, never by a read followed by a write.
package postgres
