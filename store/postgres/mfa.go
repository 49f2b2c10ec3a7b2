package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/store"
)

const authenticatorColumns = `id, account_id, name, secret, created_at, confirmed_at, last_used_at`

func scanAuthenticator(row interface{ Scan(...any) error }) (store.Authenticator, error) {
	var a store.Authenticator
	var created, confirmed, used *time.Time
	if err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Secret, &created, &confirmed, &used); err != nil {
		return store.Authenticator{}, mapErr(err)
	}
	a.CreatedAt, a.ConfirmedAt, a.LastUsedAt = fromNull(created), fromNull(confirmed), fromNull(used)
	return a, nil
}

// CreateAuthenticator implements store.Authenticators.
func (db *DB) CreateAuthenticator(ctx context.Context, a store.Authenticator) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO authenticators (`+authenticatorColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		a.ID, a.AccountID, a.Name, a.Secret, nullTime(a.CreatedAt), nullTime(a.ConfirmedAt), nullTime(a.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create authenticator: %w", mapErr(err))
	}
	return nil
}

// GetAuthenticator implements store.Authenticators.
func (db *DB) GetAuthenticator(ctx context.Context, id string) (store.Authenticator, error) {
	return scanAuthenticator(db.q(ctx).QueryRow(ctx,
		`SELECT `+authenticatorColumns+` FROM authenticators WHERE id = $1`, id))
}

// ListAuthenticators implements store.Authenticators.
func (db *DB) ListAuthenticators(ctx context.Context, accountID string) ([]store.Authenticator, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+authenticatorColumns+` FROM authenticators
		WHERE account_id = $1 ORDER BY created_at, id COLLATE "C"`, accountID)
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
// the second waits for the first's row lock, re-checks the condition and
// finds nothing to change.
func (db *DB) ConfirmAuthenticator(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("confirm authenticator: zero confirmation time")
	}
	return db.exactlyOne(ctx, "confirm authenticator",
		`UPDATE authenticators SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL`, nullTime(at), id)
}

// TouchAuthenticator implements store.Authenticators.
func (db *DB) TouchAuthenticator(ctx context.Context, id string, at time.Time) error {
	return db.exactlyOne(ctx, "touch authenticator",
		`UPDATE authenticators SET last_used_at = $1 WHERE id = $2`, nullTime(at), id)
}

// DeleteAuthenticator implements store.Authenticators.
func (db *DB) DeleteAuthenticator(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete authenticator", `DELETE FROM authenticators WHERE id = $1`, id)
}

// DeleteUnconfirmedAuthenticators implements store.Authenticators.
func (db *DB) DeleteUnconfirmedAuthenticators(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete unconfirmed authenticators", `DELETE FROM authenticators WHERE id IN
		(SELECT id FROM authenticators WHERE confirmed_at IS NULL AND created_at < $1 LIMIT $2)`, before.UTC(), limit)
}

// DeleteAuthenticators implements store.Authenticators.
func (db *DB) DeleteAuthenticators(ctx context.Context, accountID string) (int, error) {
	return db.count(ctx, "delete authenticators", `DELETE FROM authenticators WHERE account_id = $1`, accountID)
}

const mfaStateColumns = `account_id, last_step, failures, total_failures, locked_until, updated_at, enrol_required`

func scanMFAState(row pgx.Row) (store.MFAState, error) {
	var s store.MFAState
	var locked, updated *time.Time
	if err := row.Scan(&s.AccountID, &s.LastStep, &s.Failures, &s.TotalFailures, &locked, &updated, &s.EnrolRequired); err != nil {
		return store.MFAState{}, err
	}
	s.LockedUntil, s.UpdatedAt = fromNull(locked), fromNull(updated)
	return s, nil
}

// GetMFAState implements store.MFAStates.
func (db *DB) GetMFAState(ctx context.Context, accountID string) (store.MFAState, error) {
	s, err := scanMFAState(db.q(ctx).QueryRow(ctx,
		`SELECT `+mfaStateColumns+` FROM mfa_states WHERE account_id = $1`, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.MFAState{AccountID: accountID}, nil
	}
	if err != nil {
		return store.MFAState{}, fmt.Errorf("read mfa state: %w", mapErr(err))
	}
	return s, nil
}

// UseStep implements store.MFAStates: one upsert whose update applies only
// when it moves last_step forward. Of two nodes accepting one code, the
// second waits for the first's row (or its insert), re-checks the condition
// against the committed step and changes nothing.
func (db *DB) UseStep(ctx context.Context, accountID string, step int64, at time.Time) error {
	if step <= 0 { // not later than the zero state's LastStep
		return fmt.Errorf("use time step %d: %w: not later than the last step accepted", step, store.ErrStepUsed)
	}
	n, err := db.count(ctx, "use time step", `INSERT INTO mfa_states (account_id, last_step, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET last_step = excluded.last_step, updated_at = excluded.updated_at
		WHERE mfa_states.last_step < excluded.last_step`, accountID, step, nullTime(at))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("use time step %d: %w (not later than the last step accepted)", step, store.ErrStepUsed)
	}
	return nil
}

// UpdateMFAState implements store.MFAStates. A missing row is created first
// (INSERT … ON CONFLICT DO NOTHING waits for a concurrent creator instead of
// racing it), then locked with FOR UPDATE, so failures counted at once on
// several nodes all land, the first-ever ones included. An error from fn
// rolls the created row back with everything else.
func (db *DB) UpdateMFAState(ctx context.Context, accountID string, fn func(store.MFAState) (store.MFAState, error)) (store.MFAState, error) {
	var updated store.MFAState
	err := db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.q(ctx).Exec(ctx, `INSERT INTO mfa_states (account_id) VALUES ($1)
			ON CONFLICT (account_id) DO NOTHING`, accountID); err != nil {
			return mapErr(err)
		}
		old, err := scanMFAState(db.q(ctx).QueryRow(ctx,
			`SELECT `+mfaStateColumns+` FROM mfa_states WHERE account_id = $1 FOR UPDATE`, accountID))
		if err != nil {
			return mapErr(err)
		}
		s, err := fn(old)
		if err != nil {
			return err
		}
		s.AccountID, s.LastStep = old.AccountID, old.LastStep
		_, err = db.q(ctx).Exec(ctx, `UPDATE mfa_states SET
			failures = $1, total_failures = $2, locked_until = $3, updated_at = $4, enrol_required = $5
			WHERE account_id = $6`,
			s.Failures, s.TotalFailures, nullTime(s.LockedUntil), nullTime(s.UpdatedAt), s.EnrolRequired, s.AccountID)
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

// ReplaceRecoveryCodes implements store.RecoveryCodes. The account row is
// locked first, so two regenerations run one after the other and the
// account ends with exactly one set (a DELETE alone would not see the codes
// a concurrent regeneration has just inserted). ErrNotFound when the account
// does not exist.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error {
	err := db.InTx(ctx, func(ctx context.Context) error {
		var id string
		if err := db.q(ctx).QueryRow(ctx,
			`SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, accountID).Scan(&id); err != nil {
			return fmt.Errorf("account %q: %w", accountID, mapErr(err))
		}
		if _, err := db.q(ctx).Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return mapErr(err)
		}
		if len(hashes) == 0 {
			return nil
		}
		_, err := db.q(ctx).Exec(ctx, `INSERT INTO recovery_codes (account_id, hash, created_at)
			SELECT $1::text, h, $3::timestamptz FROM unnest($2::bytea[]) AS h`, accountID, hashes, nullTime(at))
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode implements store.RecoveryCodes. WHERE used_at IS NULL
// makes it a compare-and-set: of two concurrent uses, the second waits for
// the first's row lock, re-checks the condition and finds nothing.
func (db *DB) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("use recovery code: zero time of use")
	}
	return db.exactlyOne(ctx, "use recovery code",
		`UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND hash = $3 AND used_at IS NULL`,
		nullTime(at), accountID, hash)
}

// CountRecoveryCodes implements store.RecoveryCodes.
func (db *DB) CountRecoveryCodes(ctx context.Context, accountID string) (int, error) {
	var n int
	if err := db.q(ctx).QueryRow(ctx,
		`SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", mapErr(err))
	}
	return n, nil
}

// DeleteRecoveryCodes implements store.RecoveryCodes.
func (db *DB) DeleteRecoveryCodes(ctx context.Context, accountID string) error {
	_, err := db.count(ctx, "delete recovery codes", `DELETE FROM recovery_codes WHERE account_id = $1`, accountID)
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
	err = db.q(ctx).QueryRow(ctx, `INSERT INTO audit_events
		(at, type, account_id, actor_id, client_id, remote_addr, flow_id, details)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
		nullTime(e.At), e.Type, e.AccountID, e.ActorID, e.ClientID, e.RemoteAddr, e.FlowID, details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit event: %w", mapErr(err))
	}
	return id, nil
}

// ListAudit implements store.Audit. Only the filters in use go into the
// query, so the planner can use the (account_id, id) or (type, id) index
// even with a cached generic plan.
func (db *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.AccountID != "" {
		add("account_id = $%d", f.AccountID)
	}
	if f.Type != "" {
		add("type = $%d", f.Type)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.q(ctx).Query(ctx, query+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at *time.Time
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.AccountID, &e.ActorID, &e.ClientID, &e.RemoteAddr, &e.FlowID,
			&details); err != nil {
			return nil, fmt.Errorf("list audit events: %w", mapErr(err))
		}
		e.At = fromNull(at)
		if e.Details, err = fromJSONMap(details); err != nil {
			return nil, fmt.Errorf("list audit event %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// Maps are stored as JSON objects of strings in a text column (jsonb would
// refuse a string holding U+0000); nil and empty both read back as an empty
// map.

func jsonMap(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func fromJSONMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil { // the JSON null
		m = map[string]string{}
	}
	return m, nil
}
