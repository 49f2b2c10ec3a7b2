package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/store"
)

const oauthColumns = `kind, signature, request_id, client_id, subject, session_id, access_signature,
	active, requested_at, expires_at, data`

// CreateOAuthRecord implements store.OAuthRecords.
func (db *DB) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO oauth_records (`+oauthColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject, r.SessionID, r.AccessSignature,
		r.Active, nullTime(r.RequestedAt), nullTime(r.ExpiresAt), r.Data)
	if err != nil {
		return fmt.Errorf("create %s record: %w", r.Kind, mapErr(err))
	}
	return nil
}

// GetOAuthRecord implements store.OAuthRecords.
func (db *DB) GetOAuthRecord(ctx context.Context, kind, signature string) (store.OAuthRecord, error) {
	var r store.OAuthRecord
	err := db.q(ctx).QueryRow(ctx, `SELECT `+oauthColumns+` FROM oauth_records
		WHERE kind = $1 AND signature = $2`, kind, signature).Scan(
		&r.Kind, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.SessionID, &r.AccessSignature,
		&r.Active, &r.RequestedAt, &r.ExpiresAt, &r.Data)
	if err != nil {
		return store.OAuthRecord{}, mapErr(err)
	}
	r.RequestedAt, r.ExpiresAt = r.RequestedAt.UTC(), r.ExpiresAt.UTC()
	return r, nil
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (db *DB) DeleteOAuthRecord(ctx context.Context, kind, signature string) error {
	return db.exactlyOne(ctx, "delete "+kind+" record",
		`DELETE FROM oauth_records WHERE kind = $1 AND signature = $2`, kind, signature)
}

// DeactivateOAuthRecord implements store.OAuthRecords. The WHERE active
// makes it a compare-and-set: under READ COMMITTED the second of two
// concurrent updates waits for the first, re-checks the condition and finds
// the row inactive.
func (db *DB) DeactivateOAuthRecord(ctx context.Context, kind, signature string) error {
	return db.exactlyOne(ctx, "deactivate "+kind+" record",
		`UPDATE oauth_records SET active = false WHERE kind = $1 AND signature = $2 AND active`, kind, signature)
}

// DeactivateOAuthRecordsByRequest implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return db.count(ctx, "deactivate "+kind+" records",
		`UPDATE oauth_records SET active = false WHERE request_id = $1 AND kind = $2 AND active`, requestID, kind)
}

// DeactivateOAuthRecordsBySubject implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsBySubject(ctx context.Context, subject string) (int, error) {
	return db.countGrants(ctx, "deactivate the account's grants",
		`UPDATE oauth_records SET active = false WHERE subject = $1 AND subject <> '' AND active RETURNING kind`, subject)
}

// DeactivateOAuthRecordsBySubjectAndClient implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsBySubjectAndClient(ctx context.Context, subject, clientID string) (int, error) {
	return db.countGrants(ctx, "deactivate the account's grants to a client",
		`UPDATE oauth_records SET active = false WHERE subject = $1 AND client_id = $2 AND subject <> '' AND active RETURNING kind`, subject, clientID)
}

// DeleteOAuthRecordsByRequest implements store.OAuthRecords.
func (db *DB) DeleteOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return db.count(ctx, "delete "+kind+" records",
		`DELETE FROM oauth_records WHERE request_id = $1 AND kind = $2`, requestID, kind)
}

// DeleteExpiredOAuthRecords implements store.OAuthRecords.
func (db *DB) DeleteExpiredOAuthRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired oauth records",
		`DELETE FROM oauth_records WHERE (kind, signature) IN
			(SELECT kind, signature FROM oauth_records WHERE expires_at < $1 LIMIT $2)`, before.UTC(), limit)
}

// UseClientAssertion implements store.ClientAssertions: one upsert that
// replaces only an expired record, so a replay finds nothing to change.
func (db *DB) UseClientAssertion(ctx context.Context, jti string, expiresAt, now time.Time) error {
	n, err := db.count(ctx, "record client assertion",
		`INSERT INTO client_assertions (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertions.expires_at <= $3`, jti, expiresAt.UTC(), now.UTC())
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("client assertion %q: %w", jti, store.ErrAlreadyExists)
	}
	return nil
}

// ClientAssertionExpiry implements store.ClientAssertions.
func (db *DB) ClientAssertionExpiry(ctx context.Context, jti string) (time.Time, error) {
	var exp time.Time
	if err := db.q(ctx).QueryRow(ctx, `SELECT expires_at FROM client_assertions WHERE jti = $1`, jti).Scan(&exp); err != nil {
		return time.Time{}, mapErr(err)
	}
	return exp.UTC(), nil
}

// DeleteExpiredClientAssertions implements store.ClientAssertions.
func (db *DB) DeleteExpiredClientAssertions(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired client assertions",
		`DELETE FROM client_assertions WHERE jti IN
			(SELECT jti FROM client_assertions WHERE expires_at < $1 LIMIT $2)`, before.UTC(), limit)
}

// count runs a write and returns the rows it affected.
func (db *DB) count(ctx context.Context, what, query string, args ...any) (int, error) {
	tag, err := db.q(ctx).Exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// countGrants runs a write that returns the kind of every row it changed
// and counts the codes and tokens among them.
func (db *DB) countGrants(ctx context.Context, what, query string, args ...any) (int, error) {
	rows, err := db.q(ctx).Query(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	kinds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	n := 0
	for _, k := range kinds {
		if store.GrantKind(k) {
			n++
		}
	}
	return n, nil
}

// LockGrants implements store.OAuthRecords with a transaction-level
// advisory lock. The key is the first 8 bytes of SHA-256 over
// "propusk.grants:" and the subject: the same in every process and
// PostgreSQL version (hashtext's output is not promised to stay), and 64
// bits wide, so two people share a key only by a rare collision, which
// makes their grant transactions wait for each other and nothing worse.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	st, ok := txFrom(ctx)
	if !ok {
		return errors.New("lock grants: no transaction in context")
	}
	sum := sha256.Sum256([]byte("propusk.grants:" + subject))
	if _, err := st.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
		return fmt.Errorf("lock grants: %w", mapErr(err))
	}
	return nil
}

// exactlyOne runs a write that must affect one row; none is ErrNotFound.
func (db *DB) exactlyOne(ctx context.Context, what, query string, args ...any) error {
	n, err := db.count(ctx, what, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
