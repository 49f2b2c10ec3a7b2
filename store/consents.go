package store

import (
	"context"
	"time"
)

// Consent records that a person allowed a client some scopes, to be
// remembered for later authorizations.
type Consent struct {
	AccountID string
	ClientID  string
	Scopes    []string // sorted
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Consents stores remembered consent.
type Consents interface {
	// PutConsent creates or replaces the consent of (AccountID, ClientID).
	PutConsent(ctx context.Context, c Consent) error
	// MergeConsent adds c.Scopes to the consent of (AccountID, ClientID),
	// creating it if there is none, in one statement: two tabs consenting
	// at once both keep their scopes. CreatedAt stays the first one's;
	// UpdatedAt becomes c.UpdatedAt. Stored scopes are sorted.
	MergeConsent(ctx context.Context, c Consent) error
	// GetConsent returns ErrNotFound when the person has not consented.
	GetConsent(ctx context.Context, accountID, clientID string) (Consent, error)
	// ListConsents returns an account's consents ordered by client ID.
	ListConsents(ctx context.Context, accountID string) ([]Consent, error)
	// DeleteConsent revokes one; ErrNotFound when there is none.
	DeleteConsent(ctx context.Context, accountID, clientID string) error
}
