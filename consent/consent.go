package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/propusk/propusk/store"
)

// Service remembers consent.
type Service struct {
	Store store.Consents
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Covers reports whether the person has already allowed the client every
// one of scopes.
func (s *Service) Covers(ctx context.Context, accountID, clientID string, scopes []string) (bool, error) {
	c, err := s.Store.GetConsent(ctx, accountID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read consent: %w", err)
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return false, nil
		}
	}
	return true, nil
}

// Split divides scopes into those the person has already allowed the
// client and those not yet allowed, each in the order given. Only what was
// allowed counts: a request for more is asked about again, for the new
// part.
func (s *Service) Split(ctx context.Context, accountID, clientID string, scopes []string) (allowed, missing []string, err error) {
	c, err := s.Store.GetConsent(ctx, accountID, clientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("read consent: %w", err)
	}
	for _, sc := range scopes {
		if slices.Contains(c.Scopes, sc) {
			allowed = append(allowed, sc)
		} else {
			missing = append(missing, sc)
		}
	}
	return allowed, missing, nil
}

// Remember records that the person allowed the client scopes, adding to
// what was allowed before (a narrower request later is still covered). It
// is one atomic merge in the store, so two tabs consenting at once both
// keep their scopes.
func (s *Service) Remember(ctx context.Context, accountID, clientID string, scopes []string) error {
	now := s.now()
	err := s.Store.MergeConsent(ctx, store.Consent{AccountID: accountID, ClientID: clientID, Scopes: scopes, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return fmt.Errorf("remember consent: %w", err)
	}
	return nil
}

// List returns the person's remembered consents.
func (s *Service) List(ctx context.Context, accountID string) ([]store.Consent, error) {
	return s.Store.ListConsents(ctx, accountID)
}

// Revoke forgets the person's consent for a client: the next authorization
// asks again. Revoking what was never given is not an error.
func (s *Service) Revoke(ctx context.Context, accountID, clientID string) error {
	err := s.Store.DeleteConsent(ctx, accountID, clientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke consent: %w", err)
	}
	return nil
}
