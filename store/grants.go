package store

import "context"

type grantSubjectKey struct{}

// WithGrantSubject marks ctx for a transaction that will take subject's
// grant lock (OAuthRecords.LockGrants). A backend whose lock wait holds a
// pooled connection (PostgreSQL) queues such transactions for one person
// inside the process before it takes a connection: otherwise a few
// requests of one person waiting on each other's lock could hold every
// connection of the pool and stall everyone else.
func WithGrantSubject(ctx context.Context, subject string) context.Context {
	return context.WithValue(ctx, grantSubjectKey{}, subject)
}

// GrantSubject is the subject WithGrantSubject put in ctx, "" when none.
func GrantSubject(ctx context.Context) string {
	s, _ := ctx.Value(grantSubjectKey{}).(string)
	return s
}

// GrantLocker is a store whose transactions can take a person's grant
// lock (OAuthRecords.LockGrants).
type GrantLocker interface {
	Transactor
	LockGrants(ctx context.Context, subject string) error
}

// InGrantTx runs fn in a transaction that takes subject's grant lock
// before anything else: a token request or a code issuance in flight for
// the person holds that lock until it commits, so what fn reads and ends
// includes what those wrote, and what they write afterwards sees what fn
// did. Inside a transaction already open, fn joins it (the lock is taken
// there).
func InGrantTx(ctx context.Context, db GrantLocker, subject string, fn func(ctx context.Context) error) error {
	return db.InTx(WithGrantSubject(ctx, subject), func(ctx context.Context) error {
		if err := db.LockGrants(ctx, subject); err != nil {
			return err
		}
		return fn(ctx)
	})
}
