package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/propusk/propusk/store"
)

var authenticators = newTable("authenticators", `id, account_id, name, secret, created_at, confirmed_at, last_used_at`,
	1, (*Store).authenticatorArgs, (*Store).authenticatorDests)

func (s *Store) authenticatorArgs(a store.Authenticator) []any {
	return []any{a.ID, a.AccountID, a.Name, a.Secret, s.timeArg(a.CreatedAt), s.timeArg(a.ConfirmedAt), s.timeArg(a.LastUsedAt)}
}

func (s *Store) authenticatorDests(a *store.Authenticator) []any {
	return []any{&a.ID, &a.AccountID, &a.Name, &a.Secret,
		s.d.ScanTime(&a.CreatedAt), s.d.ScanTime(&a.ConfirmedAt), s.d.ScanTime(&a.LastUsedAt)}
}

// CreateAuthenticator implements store.Authenticators.
func (s *Store) CreateAuthenticator(ctx context.Context, a store.Authenticator) error {
	return authenticators.create(ctx, s, "create authenticator", a)
}

// GetAuthenticator implements store.Authenticators.
func (s *Store) GetAuthenticator(ctx context.Context, id string) (store.Authenticator, error) {
	return authenticators.get(ctx, s, authenticators.byKey, id)
}

// ListAuthenticators implements store.Authenticators.
func (s *Store) ListAuthenticators(ctx context.Context, accountID string) ([]store.Authenticator, error) {
	return authenticators.list(ctx, s, "list authenticators", authenticators.selectAll+
		` WHERE account_id = $1 ORDER BY created_at, id`+s.d.CollateC, accountID)
}

// ConfirmAuthenticator implements store.Authenticators. WHERE confirmed_at
// IS NULL makes it a compare-and-set: of two tabs finishing one enrolment,
// the second waits for the first's row lock (or the write lock), re-checks
// the condition and finds nothing to change.
func (s *Store) ConfirmAuthenticator(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("confirm authenticator: zero confirmation time")
	}
	return s.exactlyOne(ctx, "confirm authenticator",
		`UPDATE authenticators SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL`, s.timeArg(at), id)
}

// TouchAuthenticator implements store.Authenticators.
func (s *Store) TouchAuthenticator(ctx context.Context, id string, at time.Time) error {
	return s.exactlyOne(ctx, "touch authenticator",
		`UPDATE authenticators SET last_used_at = $1 WHERE id = $2`, s.timeArg(at), id)
}

// DeleteAuthenticator implements store.Authenticators.
func (s *Store) DeleteAuthenticator(ctx context.Context, id string) error {
	return authenticators.remove(ctx, s, "delete authenticator", id)
}

// DeleteUnconfirmedAuthenticators implements store.Authenticators.
func (s *Store) DeleteUnconfirmedAuthenticators(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete unconfirmed authenticators", limit, `DELETE FROM authenticators WHERE id IN
		(SELECT id FROM authenticators WHERE confirmed_at IS NULL AND created_at < $1 LIMIT $2)`, s.timeArg(before))
}

// DeleteAuthenticators implements store.Authenticators.
func (s *Store) DeleteAuthenticators(ctx context.Context, accountID string) (int, error) {
	return s.count(ctx, "delete authenticators", `DELETE FROM authenticators WHERE account_id = $1`, accountID)
}

var mfaStates = newTable("mfa_states", `account_id, last_step, failures, total_failures, locked_until, updated_at, enrol_required`,
	1, (*Store).mfaStateArgs, (*Store).mfaStateDests)

func (s *Store) mfaStateArgs(m store.MFAState) []any {
	return []any{m.AccountID, m.LastStep, m.Failures, m.TotalFailures, s.timeArg(m.LockedUntil), s.timeArg(m.UpdatedAt), m.EnrolRequired}
}

func (s *Store) mfaStateDests(m *store.MFAState) []any {
	return []any{&m.AccountID, &m.LastStep, &m.Failures, &m.TotalFailures,
		s.d.ScanTime(&m.LockedUntil), s.d.ScanTime(&m.UpdatedAt), &m.EnrolRequired}
}

// GetMFAState implements store.MFAStates.
func (s *Store) GetMFAState(ctx context.Context, accountID string) (store.MFAState, error) {
	m, err := mfaStates.get(ctx, s, mfaStates.byKey, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.MFAState{AccountID: accountID}, nil
	}
	if err != nil {
		return store.MFAState{}, fmt.Errorf("read mfa state: %w", err)
	}
	return m, nil
}

// UseStep implements store.MFAStates: one upsert whose update applies only
// when it moves last_step forward. Of two nodes accepting one code, the
// second waits for the first's row (or its insert), re-checks the condition
// against the committed step and changes nothing.
func (s *Store) UseStep(ctx context.Context, accountID string, step int64, at time.Time) error {
	if step <= 0 { // not later than the zero state's LastStep
		return fmt.Errorf("use time step %d: %w: not later than the last step accepted", step, store.ErrStepUsed)
	}
	n, err := s.count(ctx, "use time step", `INSERT INTO mfa_states (account_id, last_step, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET last_step = excluded.last_step, updated_at = excluded.updated_at
		WHERE mfa_states.last_step < excluded.last_step`, accountID, step, s.timeArg(at))
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
// racing it), then locked, so failures counted at once on several nodes all
// land, the first-ever ones included. An error from fn rolls the created
// row back with everything else.
func (s *Store) UpdateMFAState(ctx context.Context, accountID string, fn func(store.MFAState) (store.MFAState, error)) (store.MFAState, error) {
	var updated store.MFAState
	err := s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.conn.Exec(ctx, `INSERT INTO mfa_states (account_id) VALUES ($1)
			ON CONFLICT (account_id) DO NOTHING`, accountID); err != nil {
			return fmt.Errorf("update mfa state: %w", s.d.MapErr(err))
		}
		var err error
		updated, err = mfaStates.update(ctx, s, "update mfa state", fn, func(old store.MFAState, m *store.MFAState) {
			m.AccountID, m.LastStep = old.AccountID, old.LastStep
		}, accountID)
		return err
	})
	if err != nil {
		return store.MFAState{}, err
	}
	return updated, nil
}

// ReplaceRecoveryCodes implements store.RecoveryCodes. The account row is
// locked first, so two regenerations run one after the other and the
// account ends with exactly one set (a DELETE alone would not see the codes
// a concurrent regeneration has just inserted). ErrNotFound when the account
// does not exist.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error {
	err := s.InTx(ctx, func(ctx context.Context) error {
		var id string
		if err := s.conn.QueryRow(ctx,
			`SELECT id FROM accounts WHERE id = $1`+s.d.ForShareKey, accountID).Scan(&id); err != nil {
			return fmt.Errorf("account %q: %w", accountID, s.d.MapErr(err))
		}
		if _, err := s.conn.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return s.d.MapErr(err)
		}
		if len(hashes) == 0 {
			return nil
		}
		// One INSERT for the whole set: ($1, $3, $2), ($1, $4, $2) …
		values := make([]string, len(hashes))
		args := append(make([]any, 0, 2+len(hashes)), accountID, s.timeArg(at))
		for i, h := range hashes {
			values[i] = fmt.Sprintf("($1, $%d, $2)", i+3)
			args = append(args, h)
		}
		_, err := s.conn.Exec(ctx, `INSERT INTO recovery_codes (account_id, hash, created_at) VALUES `+
			strings.Join(values, ", "), args...)
		return s.d.MapErr(err)
	})
	if err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode implements store.RecoveryCodes. WHERE used_at IS NULL
// makes it a compare-and-set: of two concurrent uses, the second waits for
// the first's row lock (or the write lock), re-checks the condition and
// finds nothing.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time) error {
	if at.IsZero() {
		return errors.New("use recovery code: zero time of use")
	}
	return s.exactlyOne(ctx, "use recovery code",
		`UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND hash = $3 AND used_at IS NULL`,
		s.timeArg(at), accountID, hash)
}

// CountRecoveryCodes implements store.RecoveryCodes.
func (s *Store) CountRecoveryCodes(ctx context.Context, accountID string) (int, error) {
	var n int
	if err := s.conn.QueryRow(ctx,
		`SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL`, accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", s.d.MapErr(err))
	}
	return n, nil
}

// DeleteRecoveryCodes implements store.RecoveryCodes.
func (s *Store) DeleteRecoveryCodes(ctx context.Context, accountID string) error {
	_, err := s.count(ctx, "delete recovery codes", `DELETE FROM recovery_codes WHERE account_id = $1`, accountID)
	return err
}
