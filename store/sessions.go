package store

import (
	"context"
	"time"
)

// BrowserSession is a person's single sign-on session. The cookie holds a
// 256-bit random value; the store keeps only its hash (ID), so a database
// read does not give away live sessions.
type BrowserSession struct {
	ID        string // hash of the cookie value
	PublicID  string // the ID tokens' sid: random, unrelated to the cookie
	AccountID string
	AuthTime  time.Time
	AMR       []string
	ACR       string

	UserAgent  string
	RemoteAddr string

	CreatedAt  time.Time
	LastSeenAt time.Time // idle timeout counts from here
	ExpiresAt  time.Time // absolute timeout
}

// BrowserSessions stores SSO sessions.
type BrowserSessions interface {
	// CreateBrowserSession inserts s; ErrAlreadyExists when the ID or
	// PublicID is taken.
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	// GetBrowserSession returns ErrNotFound for an unknown ID.
	GetBrowserSession(ctx context.Context, id string) (BrowserSession, error)
	// GetBrowserSessionByPublicID looks a session up by its sid.
	GetBrowserSessionByPublicID(ctx context.Context, publicID string) (BrowserSession, error)
	// UpdateBrowserSession works like UpdateAccount; ID, PublicID,
	// AccountID and CreatedAt cannot change.
	UpdateBrowserSession(ctx context.Context, id string, fn func(BrowserSession) (BrowserSession, error)) (BrowserSession, error)
	// TouchBrowserSession sets LastSeenAt to at, without a transaction: it
	// runs on most requests and must stay one cheap write. ErrNotFound when
	// there is no such session.
	TouchBrowserSession(ctx context.Context, id string, at time.Time) error
	// DeleteBrowserSession removes a session (logout); ErrNotFound when
	// there is none.
	DeleteBrowserSession(ctx context.Context, id string) error
	// ListBrowserSessions returns an account's sessions, newest first.
	ListBrowserSessions(ctx context.Context, accountID string) ([]BrowserSession, error)
	// DeleteBrowserSessionsOfAccount removes every SSO session of an
	// account and says how many it removed.
	DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error)
	// DeleteExpiredBrowserSessions removes at most limit sessions whose
	// absolute expiry is before before, or whose LastSeenAt is before
	// idleBefore.
	DeleteExpiredBrowserSessions(ctx context.Context, before, idleBefore time.Time, limit int) (int, error)
}
