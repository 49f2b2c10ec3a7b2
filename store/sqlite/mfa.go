package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/propusk/propusk/store"
)

const authenticatorColumns = `id, account_id, name, secret, created_at, confirmed_at, last_used_at`

func scanAuthenticator(row interface{ Scan(...any) error }) (store.Authenticator, error) {
	var a store.Authenticator
	var created, confirmed, used sql.NullInt64
	if err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Secret, &created, &confirmed, &used); err != nil {
		return store.Authenticator{}, mapErr(err)
	}
	a.CreatedAt, a.ConfirmedAt, a.LastUsedAt = fromMicros(created), fromMicros(confirmed), fromMicros(used)
	return a, nil
}

// CreateAuthenticator implements store.Authenticators.
func (db *DB) CreateAuthenticator(ctx context.Context, a store.Authenticator) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO authenticators (`+authenticatorColumns+`)
		VALUES (?,?,?,?,?,?,?)`,
		a.ID, a.AccountID, a.Name, a.Secret, micros(a.CreatedAt), micros(a.ConfirmedAt), micros(a.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create authenticator: %w", mapErr(err))
	}
	return nil
}

// GetAuthenticator implements store.Authenticators.
func (db *DB) GetAuthenticator(ctx context.Context, id string) (store.Authenticator, error) {
	return scanAuthenticator(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+authenticatorColumns+` FROM authenticators WHERE id = ?`, id))
}

// ListAuthenticators implements store.Authenticators.
func (db *DB) ListAuthenticators(ctx context.Context, accountID string) ([]store.Authenticator, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+authenticatorColumns+` FROM authenticators
		WHERE account_id = ? ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list authenticators: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Authenticator
	for rows.Next() {
		a, err := scanAuthenticator(rows)
		if err != nil {
			return nil, fmt.Errorf("list authenticators: %w", err)
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// ConfirmAuthenticator implements store.Authenticators. WHERE confirmed_at
// IS NULL makes it a compare-and-set: of two tabs finishing one enrolment,
// one confirms and the other finds nothing to change.
func (db *DB) ConfirmAuthenticator(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("confirm authenticator: zero confirmation time")
	}
	return db.exactlyOne(ctx, "confirm authenticator",
		`UPDATE authenticators SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL`, micros(at), id)
}

// TouchAuthenticator implements store.Authenticators.
func (db *DB) TouchAuthenticator(ctx context.Context, id string, at time.Time) error {
	return db.exactlyOne(ctx, "touch authenticator",
		`UPDATE authenticators SET last_used_at = ? WHERE id = ?`, micros(at), id)
}

// DeleteAuthenticator implements store.Authenticators.
func (db *DB) DeleteAuthenticator(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete authenticator", `DELETE FROM authenticators WHERE id = ?`, id)
}

// DeleteUnconfirmedAuthenticators implements store.Authenticators.
func (db *DB) DeleteUnconfirmedAuthenticators(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete unconfirmed authenticators", `DELETE FROM authenticators WHERE rowid IN
		(SELECT rowid FROM authenticators WHERE confirmed_at IS NULL AND created_at < ? LIMIT ?)`, before.UnixMicro(), limit)
}

// DeleteAuthenticators implements store.Authenticators.
func (db *DB) DeleteAuthenticators(ctx context.Context, accountID string) (int, error) {
	return db.count(ctx, "delete authenticators", `DELETE FROM authenticators WHERE account_id = ?`, accountID)
}

const mfaStateColumns = `account_id, last_step, failures, total_failures, locked_until, updated_at, enrol_required`

// GetMFAState implements store.MFAStates.
func (db *DB) GetMFAState(ctx context.Context, accountID string) (store.MFAState, error) {
	s := store.MFAState{AccountID: accountID}
	var locked, updated sql.NullInt64
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT `+mfaStateColumns+` FROM mfa_states WHERE account_id = ?`,
		accountID).Scan(&s.AccountID, &s.LastStep, &s.Failures, &s.TotalFailures, &locked, &updated, &s.EnrolRequired)
	if errors.Is(err, sql.ErrNoRows) {
		return store.MFAState{AccountID: accountID}, nil
	}
	if err != nil {
		return store.MFAState{}, fmt.Errorf("read mfa state: %w", mapErr(err))
	}
	s.LockedUntil, s.UpdatedAt = fromMicros(locked), fromMicros(updated)
	return s, nil
}

// UseStep implements store.MFAStates: one upsert whose update applies only
// when it moves last_step forward, so of two nodes accepting one code, one
// writes and the other changes nothing.
func (db *DB) UseStep(ctx context.Context, accountID string, step int64, at time.Time) error {
	if step <= 0 { // not later than the zero state's LastStep
		return fmt.Errorf("use time step %d: %w: not later than the last step accepted", step, store.ErrStepUsed)
	}
	n, err := db.count(ctx, "use time step", `INSERT INTO mfa_states (account_id, last_step, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET last_step = excluded.last_step, updated_at = excluded.updated_at
		WHERE mfa_states.last_step < excluded.last_step`, accountID, step, micros(at))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("use time step %d: %w (not later than the last step accepted)", step, store.ErrStepUsed)
	}
	return nil
}

// UpdateMFAState implements store.MFAStates. The transaction holds SQLite's
// write lock from its first statement, so concurrent updaters run one after
// the other and each sees the previous one's result.
func (db *DB) UpdateMFAState(ctx context.Context, accountID string, fn func(store.MFAState) (store.MFAState, error)) (store.MFAState, error) {
	var updated store.MFAState
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := db.GetMFAState(ctx, accountID)
		if err != nil {
			return err
		}
		s, err := fn(old)
		if err != nil {
			return err
		}
		s.AccountID, s.LastStep = old.AccountID, old.LastStep
		_, err = db.writer(ctx).ExecContext(ctx, `INSERT INTO mfa_states (`+mfaStateColumns+`) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT (account_id) DO UPDATE SET failures = excluded.failures, total_failures = excluded.total_failures,
				locked_until = excluded.locked_until, updated_at = excluded.updated_at, enrol_required = excluded.enrol_required`,
			s.AccountID, s.LastStep, s.Failures, s.TotalFailures, micros(s.LockedUntil), micros(s.UpdatedAt), s.EnrolRequired)
		if err != nil {
			return mapErr(err)
		}
		updated = s
		return nil
	})
	if err != nil {
		return store.MFAState{}, fmt.Errorf("update mfa state: %w", err)
	}
	return updated, nil
}

// ReplaceRecoveryCodes implements store.RecoveryCodes. ErrNotFound when the
// account does not exist.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error {
	err := db.InTx(ctx, func(ctx context.Context) error {
		var one int
		if err := db.writer(ctx).QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = ?`, accountID).Scan(&one); err != nil {
			return fmt.Errorf("account %q: %w", accountID, mapErr(err))
		}
		if _, err := db.writer(ctx).ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return mapErr(err)
		}
		for _, h := range hashes {
			if _, err := db.writer(ctx).ExecContext(ctx,
				`INSERT INTO recovery_codes (account_id, hash, created_at) VALUES (?, ?, ?)`, accountID, h, micros(at)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode implements store.RecoveryCodes. WHERE used_at IS NULL
// makes it a compare-and-set: a code is used once.
func (db *DB) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("use recovery code: zero time of use")
	}
	return db.exactlyOne(ctx, "use recovery code",
		`UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND hash = ? AND used_at IS NULL`,
		micros(at), accountID, hash)
}

// CountRecoveryCodes implements store.RecoveryCodes.
func (db *DB) CountRecoveryCodes(ctx context.Context, accountID string) (int, error) {
	var n int
	if err := db.reader(ctx).QueryRowContext(ctx,
		`SELECT count(*) FROM recovery_codes WHERE account_id = ? AND used_at IS NULL`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", mapErr(err))
	}
	return n, nil
}

// DeleteRecoveryCodes implements store.RecoveryCodes.
func (db *DB) DeleteRecoveryCodes(ctx context.Context, accountID string) error {
	_, err := db.count(ctx, "delete recovery codes", `DELETE FROM recovery_codes WHERE account_id = ?`, accountID)
	return err
}

const auditColumns = `id, at, type, account_id, actor_id, client_id, remote_addr, flow_id, details`

// AppendAudit implements store.Audit.
func (db *DB) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	details, err := jsonMap(e.Details)
	if err != nil {
		return 0, fmt.Errorf("append audit event: %w", err)
	}
	var id int64
	err = db.writer(ctx).QueryRowContext(ctx, `INSERT INTO audit_events
		(at, type, account_id, actor_id, client_id, remote_addr, flow_id, details)
		VALUES (?,?,?,?,?,?,?,?) RETURNING id`,
		micros(e.At), e.Type, e.AccountID, e.ActorID, e.ClientID, e.RemoteAddr, e.FlowID, details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit event: %w", mapErr(err))
	}
	return id, nil
}

// ListAudit implements store.Audit. Only the filters in use go into the
// query, so it can use the (account_id, id) or (type, id) index.
func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.reader(ctx).QueryContext(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.AccountID, &e.ActorID, &e.ClientID, &e.RemoteAddr, &e.FlowID,
			mapScanner{&e.Details}); err != nil {
			return nil, fmt.Errorf("list audit events: %w", mapErr(err))
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// Maps are stored as JSON objects of strings; nil and empty both read back
// as an empty map.

func jsonMap(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// mapScanner scans a JSON object column into a map[string]string.
type mapScanner struct{ dst *map[string]string }

func (s mapScanner) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*s.dst = map[string]string{}
		return nil
	}
	m := map[string]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if m == nil { // the JSON null
		m = map[string]string{}
	}
	*s.dst = m
	return nil
}
