package store

import (
	"context"
	"time"
)

// AuditEvent is one line of the append-only audit log.
type AuditEvent struct {
	ID         int64 // assigned by the store, increasing
	At         time.Time
	Type       string // e.g. mfa.enrolled, mfa.failed, mfa.locked, mfa.recovery_used, mfa.reset
	AccountID  string // whose account it concerns; may be empty
	ActorID    string // who acted: the person's account ID, "admin:<name>", or empty
	ClientID   string // the relying party whose flow it happened in, if any
	RemoteAddr string
	FlowID     string
	// Details are event-specific facts; never secrets.
	Details map[string]string
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	AccountID string // empty: every account
	Type      string // empty: every type
	BeforeID  int64  // 0: from the newest
	Limit     int    // <= 0: 100
}

// Audit is the append-only audit log. The database refuses updates and
// deletes of audit rows (triggers), so not even a bug can rewrite history.
type Audit interface {
	// AppendAudit stores e and returns its ID.
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
