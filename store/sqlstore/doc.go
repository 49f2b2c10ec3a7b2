// Package sqlstore implements the store interfaces once, over SQL that
// both backends run: the column lists, the argument lists, the scanning,
// the batch and compare-and-set logic. A new column on a table is added to
// the migrations and to this package only.
//
// A backend (store/postgres, store/sqlite) hands it a Conn, which runs
// statements in the transaction a context carries or on the backend's own
// pools, and a Dialect, which says how values the two databases keep
// differently (times, string lists) are written and read, and holds the
// few fragments and statements that differ. The backend keeps what only it
// knows: opening, transactions, the grant lock, migrations and its driver's
// errors.
//
// Statements use numbered placeholders ($1, $2 …), which pgx and
// modernc.org/sqlite both bind by number.
package sqlstore
