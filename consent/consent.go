package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

// Service remembers consent.
type Service struct {
	Store store.Consents
	// Grants ends a client's access when consent is withdrawn (Withdraw):
	// the same database as Store, so both happen in one transaction.
	Grants Grants
	Clock  clock.Func
}

// Grants is what Withdraw needs beyond Consents.
type Grants interface {
	store.GrantLocker
	DeactivateOAuthRecordsBySubjectAndClient(ctx context.Context, subject, clientID string) (int, error)
	store.Audit
}

// ErrNotGiven is Withdraw's answer when there is no remembered consent to
// withdraw (another tab withdrew it first).
var ErrNotGiven = errors.New("no remembered consent")

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
	now := s.Clock.Now()
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

// Withdraw forgets the person's consent to the client and ends the
// client's access: every token and code it holds for the person turns
// inactive at once (introspection says so, a refresh is refused), not at
// their expiry. Both happen in one transaction with the audit event
// consent.withdrawn, so a failure leaves neither half done; the event's
// tokens_ended counts the codes and tokens ended. ErrNotGiven
// when there is no remembered consent; nothing changes then.
func (s *Service) Withdraw(ctx context.Context, accountID, clientID, remoteAddr string) error {
	// Under the person's grant lock: the deactivation below sees what a
	// token request or a code issuance in flight wrote.
	err := store.InGrantTx(ctx, s.Grants, accountID, func(ctx context.Context) error {
		c, err := s.Store.GetConsent(ctx, accountID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotGiven
		}
		if err != nil {
			return err
		}
		// Another tab's withdrawal may commit between the read and this.
		if err := s.Store.DeleteConsent(ctx, accountID, clientID); errors.Is(err, store.ErrNotFound) {
			return ErrNotGiven
		} else if err != nil {
			return err
		}
		ended, err := s.Grants.DeactivateOAuthRecordsBySubjectAndClient(ctx, accountID, clientID)
		if err != nil {
			return err
		}
		_, err = s.Grants.AppendAudit(ctx, store.AuditEvent{
			At: s.Clock.Now(), Type: "consent.withdrawn", AccountID: accountID, ActorID: accountID,
			ClientID: clientID, RemoteAddr: remoteAddr,
			Details: map[string]string{"scopes": strings.Join(c.Scopes, " "), "tokens_ended": strconv.Itoa(ended)},
		})
		return err
	})
	if err != nil && !errors.Is(err, ErrNotGiven) {
		return fmt.Errorf("withdraw consent: %w", err)
	}
	return err
}

// WithdrawnWithin reports whether the audit log shows the person
// withdrawing consent to the client within the last d. The account page
// names a service as withdrawn only then: its notice address carries the
// client ID, and a crafted link must not make the page say that a
// service of the attacker's choosing was cut off.
func (s *Service) WithdrawnWithin(ctx context.Context, accountID, clientID string, d time.Duration) (bool, error) {
	if s.Grants == nil {
		return false, nil
	}
	ev, err := s.Grants.ListAudit(ctx, store.AuditFilter{AccountID: accountID, Type: "consent.withdrawn", Limit: 20})
	if err != nil {
		return false, fmt.Errorf("read withdrawals: %w", err)
	}
	since := s.Clock.Now().Add(-d)
	for _, e := range ev {
		if e.At.Before(since) {
			break // newest first
		}
		if e.ClientID == clientID && e.ActorID == accountID {
			return true, nil
		}
	}
	return false, nil
}
