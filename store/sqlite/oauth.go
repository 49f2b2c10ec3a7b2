package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

const oauthColumns = `kind, signature, request_id, client_id, subject, session_id, access_signature,
	active, requested_at, expires_at, data`

// CreateOAuthRecord implements store.OAuthRecords.
func (db *DB) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO oauth_records (`+oauthColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		r.Kind, r.Signature, r.RequestID, r.ClientID, r.Subject, r.SessionID, r.AccessSignature,
		r.Active, micros(r.RequestedAt), micros(r.ExpiresAt), r.Data)
	if err != nil {
		return fmt.Errorf("create %s record: %w", r.Kind, mapErr(err))
	}
	return nil
}

// GetOAuthRecord implements store.OAuthRecords.
func (db *DB) GetOAuthRecord(ctx context.Context, kind, signature string) (store.OAuthRecord, error) {
	var r store.OAuthRecord
	var requested, expires sql.NullInt64
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT `+oauthColumns+` FROM oauth_records
		WHERE kind = ? AND signature = ?`, kind, signature).Scan(
		&r.Kind, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.SessionID, &r.AccessSignature,
		&r.Active, &requested, &expires, &r.Data)
	if err != nil {
		return store.OAuthRecord{}, mapErr(err)
	}
	r.RequestedAt, r.ExpiresAt = fromMicros(requested), fromMicros(expires)
	return r, nil
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (db *DB) DeleteOAuthRecord(ctx context.Context, kind, signature string) error {
	return db.exactlyOne(ctx, "delete "+kind+" record",
		`DELETE FROM oauth_records WHERE kind = ? AND signature = ?`, kind, signature)
}

// DeactivateOAuthRecord implements store.OAuthRecords. The WHERE active
// makes it a compare-and-set: of two concurrent callers, one changes the
// row and the other finds nothing to change.
func (db *DB) DeactivateOAuthRecord(ctx context.Context, kind, signature string) error {
	return db.exactlyOne(ctx, "deactivate "+kind+" record",
		`UPDATE oauth_records SET active = 0 WHERE kind = ? AND signature = ? AND active`, kind, signature)
}

// DeactivateOAuthRecordsByRequest implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return db.count(ctx, "deactivate "+kind+" records",
		`UPDATE oauth_records SET active = 0 WHERE request_id = ? AND kind = ? AND active`, requestID, kind)
}

// DeactivateOAuthRecordsBySubject implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsBySubject(ctx context.Context, subject string) (int, error) {
	return db.countGrants(ctx, "deactivate the account's grants",
		`UPDATE oauth_records SET active = 0 WHERE subject = ? AND subject <> '' AND active RETURNING kind`, subject)
}

// DeactivateOAuthRecordsBySubjectAndClient implements store.OAuthRecords.
func (db *DB) DeactivateOAuthRecordsBySubjectAndClient(ctx context.Context, subject, clientID string) (int, error) {
	return db.countGrants(ctx, "deactivate the account's grants to a client",
		`UPDATE oauth_records SET active = 0 WHERE subject = ? AND client_id = ? AND subject <> '' AND active RETURNING kind`, subject, clientID)
}

// DeleteOAuthRecordsByRequest implements store.OAuthRecords.
func (db *DB) DeleteOAuthRecordsByRequest(ctx context.Context, kind, requestID string) (int, error) {
	return db.count(ctx, "delete "+kind+" records",
		`DELETE FROM oauth_records WHERE request_id = ? AND kind = ?`, requestID, kind)
}

// DeleteExpiredOAuthRecords implements store.OAuthRecords.
func (db *DB) DeleteExpiredOAuthRecords(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired oauth records",
		`DELETE FROM oauth_records WHERE rowid IN
			(SELECT rowid FROM oauth_records WHERE expires_at < ? LIMIT ?)`, before.UnixMicro(), limit)
}

// UseClientAssertion implements store.ClientAssertions: one upsert that
// replaces only an expired record, so a replay finds nothing to change.
func (db *DB) UseClientAssertion(ctx context.Context, jti string, expiresAt, now time.Time) error {
	n, err := db.count(ctx, "record client assertion",
		`INSERT INTO client_assertions (jti, expires_at) VALUES (?, ?)
		ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertions.expires_at <= ?`, jti, expiresAt.UnixMicro(), now.UnixMicro())
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
	var exp sql.NullInt64
	if err := db.reader(ctx).QueryRowContext(ctx,
		`SELECT expires_at FROM client_assertions WHERE jti = ?`, jti).Scan(&exp); err != nil {
		return time.Time{}, mapErr(err)
	}
	return fromMicros(exp), nil
}

// DeleteExpiredClientAssertions implements store.ClientAssertions.
func (db *DB) DeleteExpiredClientAssertions(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired client assertions",
		`DELETE FROM client_assertions WHERE rowid IN
			(SELECT rowid FROM client_assertions WHERE expires_at < ? LIMIT ?)`, before.UnixMicro(), limit)
}

// count runs a write and returns the rows it affected.
func (db *DB) count(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := db.writer(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return int(n), nil
}

// countGrants runs a write that returns the kind of every row it changed
// and counts the codes and tokens among them.
func (db *DB) countGrants(ctx context.Context, what, query string, args ...any) (int, error) {
	rows, err := db.writer(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kind string
		if err := rows.Scan(&kind); err != nil {
			return 0, fmt.Errorf("%s: %w", what, mapErr(err))
		}
		if store.GrantKind(kind) {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, mapErr(err))
	}
	return n, nil
}

// LockGrants implements store.OAuthRecords. It takes no lock of its own:
// every transaction is BEGIN IMMEDIATE on the single writer connection
// (InTx, BeginTx), so transactions already run one at a time, in this
// process and against any other process on the file. It only checks that
// it is called inside one, as the contract asks.
func (db *DB) LockGrants(ctx context.Context, subject string) error {
	if _, ok := txFrom(ctx); !ok {
		return errors.New("lock grants: no transaction in context")
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
