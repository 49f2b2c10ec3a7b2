package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/propusk/propusk/store"
)

var consents = newTable("consents", `account_id, client_id, scopes, created_at, updated_at`,
	2, (*Store).consentArgs, (*Store).consentDests)

// onConsentConflict follows consents.insert: the second consent of an
// account to a client updates the first.
const onConsentConflict = ` ON CONFLICT (account_id, client_id) DO UPDATE SET updated_at = excluded.updated_at, scopes = `

var putConsent = consents.insert + onConsentConflict + `excluded.scopes`

func (s *Store) consentArgs(c store.Consent) []any {
	return []any{c.AccountID, c.ClientID, s.listArg(c.Scopes), s.timeArg(c.CreatedAt), s.timeArg(c.UpdatedAt)}
}

func (s *Store) consentDests(c *store.Consent) []any {
	return []any{&c.AccountID, &c.ClientID, s.d.ScanList(&c.Scopes), s.d.ScanTime(&c.CreatedAt), s.d.ScanTime(&c.UpdatedAt)}
}

// PutConsent implements store.Consents: one upsert. Replacing keeps the
// stored CreatedAt (when consent was first given) and takes the new scopes
// and UpdatedAt.
func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	if _, err := s.conn.Exec(ctx, putConsent, s.consentArgs(c)...); err != nil {
		return fmt.Errorf("put consent: %w", s.d.MapErr(err))
	}
	return nil
}

// MergeConsent implements store.Consents: one upsert whose update takes
// the sorted union of the stored and the new scopes.
func (s *Store) MergeConsent(ctx context.Context, c store.Consent) error {
	c.Scopes = slices.Compact(slices.Sorted(slices.Values(c.Scopes)))
	if _, err := s.conn.Exec(ctx, consents.insert+onConsentConflict+s.d.MergedScopes, s.consentArgs(c)...); err != nil {
		return fmt.Errorf("merge consent: %w", s.d.MapErr(err))
	}
	return nil
}

// GetConsent implements store.Consents.
func (s *Store) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	return consents.get(ctx, s, consents.byKey, accountID, clientID)
}

// ListConsents implements store.Consents.
func (s *Store) ListConsents(ctx context.Context, accountID string) ([]store.Consent, error) {
	return consents.list(ctx, s, "list consents", consents.selectAll+` WHERE account_id = $1 ORDER BY client_id`+s.d.CollateC, accountID)
}

// DeleteConsent implements store.Consents.
func (s *Store) DeleteConsent(ctx context.Context, accountID, clientID string) error {
	return consents.remove(ctx, s, "delete consent", accountID, clientID)
}
