package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

var oauthRecords = newTable("oauth_records", `kind, signature, request_id, client_id, subject, session_id, access_signature,
	active, requested_at, expires_at, data`, 2, (*Store).oauthRecordArgs, (*Store).oauthRecordDests)

func (s *Store) oauthRecordArgs(r store.OAuthRecord) []any {
	return []any{r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject, r.SessionID, r.AccessSignature,
		r.Active, s.timeArg(r.RequestedAt), s.timeArg(r.ExpiresAt), r.Data}
}

func (s *Store) oauthRecordDests(r *store.OAuthRecord) []any {
	return []any{&r.Kind, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.SessionID, &r.AccessSignature,
		&r.Active, s.d.ScanTime(&r.RequestedAt), s.d.ScanTime(&r.ExpiresAt), &r.Data}
}

// CreateOAuthRecord implements store.OAuthRecords.
func (s *Store) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	return oauthRecords.create(ctx, s, "create "+r.Kind+" record", r)
}

// GetOAuthRecord implements store.OAuthRecords.
func (s *Store) GetOAuthRecord(ctx context.Context, kind, signature string) (store.OAuthRecord, error) {
	return oauthRecords.get(ctx, s, oauthRecords.byKey, kind, signature)
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (s *Store) DeleteOAuthRecord(ctx context.Context, kind, signature string) error {
	return oauthRecords.remove(ctx, s, "delete "+kind+" record", kind, signature)
}

// DeactivateOAuthRecord implements store.OAuthRecords. The WHERE active
// makes it a compare-and-set: the second of two concurrent updates waits
// for the first (PostgreSQL's row lock under READ COMMITTED, SQLite's
// write lock), re-checks the condition and finds the row inactive.
func (s *Store) DeactivateOAuthRecord(ctx context.Context, kind, signature string) error {
	return s.exactlyOne(ctx, "deactivate "+kind+" record",
		`UPDATE oauth_records SET active = false WHERE kind = $1 AND signature = $2 AND active`, kind, signature)
}

// DeactivateOAuthRecordsByRequest implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return s.count(ctx, "deactivate "+kind+" records",
		`UPDATE oauth_records SET active = false WHERE request_id = $1 AND kind = $2 AND active`, requestID, kind)
}

// DeactivateOAuthRecordsBySubject implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRecordsBySubject(ctx context.Context, subject string) (int, error) {
	return s.countGrants(ctx, "deactivate the account's grants",
		`UPDATE oauth_records SET active = false WHERE subject = $1 AND subject <> '' AND active RETURNING kind`, subject)
}

// DeactivateOAuthRecordsBySubjectAndClient implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRecordsBySubjectAndClient(ctx context.Context, subject, clientID string) (int, error) {
	return s.countGrants(ctx, "deactivate the account's grants to a client",
		`UPDATE oauth_records SET active = false WHERE subject = $1 AND client_id = $2 AND subject <> '' AND active RETURNING kind`,
		subject, clientID)
}

// DeleteOAuthRecordsByRequest implements store.OAuthRecords.
func (s *Store) DeleteOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return s.count(ctx, "delete "+kind+" records",
		`DELETE FROM oauth_records WHERE request_id = $1 AND kind = $2`, requestID, kind)
}

// DeleteExpiredOAuthRecords implements store.OAuthRecords.
func (s *Store) DeleteExpiredOAuthRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete expired oauth records", limit, `DELETE FROM oauth_records WHERE (kind, signature) IN
		(SELECT kind, signature FROM oauth_records WHERE expires_at < $1 LIMIT $2)`, s.timeArg(before))
}

// countGrants runs a write that returns the kind of every row it changed
// and counts the codes and tokens among them.
func (s *Store) countGrants(ctx context.Context, what, query string, args ...any) (int, error) {
	rows, err := s.conn.Returning(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kind string
		if err := rows.Scan(&kind); err != nil {
			return 0, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
		}
		if store.GrantKind(kind) {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return n, nil
}

// UseClientAssertion implements store.ClientAssertions: one upsert that
// replaces only an expired record, so a replay finds nothing to change.
func (s *Store) UseClientAssertion(ctx context.Context, jti string, expiresAt, now time.Time) error {
	n, err := s.count(ctx, "record client assertion",
		`INSERT INTO client_assertions (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertions.expires_at <= $3`, jti, s.timeArg(expiresAt), s.timeArg(now))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("client assertion %q: %w", jti, store.ErrAlreadyExists)
	}
	return nil
}

// ClientAssertionExpiry implements store.ClientAssertions.
func (s *Store) ClientAssertionExpiry(ctx context.Context, jti string) (time.Time, error) {
	var exp time.Time
	if err := s.conn.QueryRow(ctx, `SELECT expires_at FROM client_assertions WHERE jti = $1`, jti).Scan(s.d.ScanTime(&exp)); err != nil {
		return time.Time{}, s.d.MapErr(err)
	}
	return exp, nil
}

// DeleteExpiredClientAssertions implements store.ClientAssertions.
func (s *Store) DeleteExpiredClientAssertions(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete expired client assertions", limit, `DELETE FROM client_assertions WHERE jti IN
		(SELECT jti FROM client_assertions WHERE expires_at < $1 LIMIT $2)`, s.timeArg(before))
}
