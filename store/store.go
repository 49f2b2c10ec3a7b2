package store

import "context"

// Store is everything a backend offers. Consumers should depend on the
// smallest area interface they need, not on Store.
type Store interface {
	Accounts
	Clients
	ServerSecrets
	OAuthRecords
	ClientAssertions
	SigningKeys
	Flows
	BrowserSessions
	Consents
	Throttles
	Authenticators
	MFAStates
	RecoveryCodes
	Audit
	SealedValues
	Transactor
	TxController

	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases connections. The Store must not be used afterwards.
	Close() error
}

// Transactor runs several store calls as one transaction. The transaction
// travels in the context handed to fn: every store method called with that
// context joins it. A nested InTx joins the outer transaction. fn's error
// rolls everything back and is returned unchanged. After a store call
// fails inside fn, fn must return (with that error or another): on
// PostgreSQL a failed statement aborts the transaction, so later calls
// would fail too, while SQLite would carry on; the backends agree only if
// nobody continues.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// TxController is a Transactor with explicit begin, commit and rollback,
// for libraries (fosite) that drive transactions that way. BeginTx returns
// a context carrying the transaction; CommitTx and RollbackTx end it and
// are no-ops for a context whose transaction was joined rather than begun.
type TxController interface {
	BeginTx(ctx context.Context) (context.Context, error)
	CommitTx(ctx context.Context) error
	RollbackTx(ctx context.Context) error
}

// Migrator brings a database's schema to a version. Backends implement it;
// see package migrations for the files.
type Migrator interface {
	// Migrate applies every pending migration. It returns
	// migrations.ErrSchemaTooNew when the database is ahead of the binary.
	Migrate(ctx context.Context) error
	// MigrateTo applies pending migrations up to and including version.
	MigrateTo(ctx context.Context, version int) error
	// SchemaVersion is the highest applied version, 0 for an empty database.
	SchemaVersion(ctx context.Context) (int, error)
}
