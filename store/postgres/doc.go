// Package postgres is the production store backend: PostgreSQL through pgx v5
// (pgxpool, no database/sql). Any number of Propusk processes may share one
// database; nothing lives only in a process.
//
// The statements are store/sqlstore's; this package gives them a pool and
// PostgreSQL's dialect (timestamptz, text[], row locks with SELECT … FOR
// UPDATE) and keeps transactions, the grant lock, migrations and the
// mapping of SQLSTATEs to store errors. A transaction travels in the
// context (InTx), so several store calls can share one. Single-use things
// are enforced by conditional writes and unique indexes, never by a read
// followed by a write.
package postgres
