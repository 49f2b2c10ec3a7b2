package store

import (
	"context"
	"time"
)

// Flow is a pending authorization request between /oauth2/auth and the
// redirect back to the client: the browser carries only its ID. Package
// flow owns its states and transitions; the store keeps it as given.
type Flow struct {
	ID       string // 256-bit random, URL-safe
	State    string
	ClientID string // "" for Propusk's own pages (a local flow)
	// ReturnTo is where a local flow goes when it is done: a local path.
	ReturnTo string
	// Request is the sealed authorization request (package oauth).
	Request []byte
	// CSRFHash is a hash of the flow's form token; every POST of a step
	// must carry the token.
	CSRFHash []byte
	// BrowserHash is a hash of the sign-in cookie set when the flow's first
	// page was shown: it keeps every step of the flow to that browser.
	BrowserHash []byte

	AccountID string    // who signed in, once known
	SessionID string    // the browser session (its hash) the flow was completed in
	AuthTime  time.Time // when the person authenticated in this flow or SSO session
	AMR       []string  // how (pwd, otp, fed …)
	ACR       string    // assurance achieved
	Locale    string    // language chosen for the flow's pages

	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// Flows stores pending authorization requests.
type Flows interface {
	// CreateFlow inserts f; ErrAlreadyExists when the ID is taken.
	CreateFlow(ctx context.Context, f Flow) error
	// GetFlow returns ErrNotFound for an unknown ID, expired or not (the
	// caller decides what an expired flow means).
	GetFlow(ctx context.Context, id string) (Flow, error)
	// UpdateFlow reads, applies fn and writes in one transaction with the
	// row locked, so two tabs posting the same step cannot both move the
	// flow. fn may run more than once. ID and CreatedAt cannot change.
	UpdateFlow(ctx context.Context, id string, fn func(Flow) (Flow, error)) (Flow, error)
	// DeleteFlow removes a flow; ErrNotFound when there is none.
	DeleteFlow(ctx context.Context, id string) error
	// DeleteExpiredFlows removes at most limit flows that expired before
	// before.
	DeleteExpiredFlows(ctx context.Context, before time.Time, limit int) (int, error)
}
