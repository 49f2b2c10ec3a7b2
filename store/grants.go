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
