package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/store"
)

const flowColumns = `id, state, client_id, request, csrf_hash, account_id, session_id,
	auth_time, amr, acr, locale, created_at, updated_at, expires_at, return_to, browser_hash`

func flowArgs(f store.Flow) []any {
	if f.Request == nil {
		// An empty request (a local flow's) reads back as nil; written as
		// nil it would be NULL, which the column refuses.
		f.Request = []byte{}
	}
	return []any{f.ID, f.State, nullIfEmpty(f.ClientID), f.Request, f.CSRFHash, f.AccountID, f.SessionID,
		nullTime(f.AuthTime), list(f.AMR), f.ACR, f.Locale, nullTime(f.CreatedAt), nullTime(f.UpdatedAt), nullTime(f.ExpiresAt), f.ReturnTo, f.BrowserHash}
}

func scanFlow(row interface{ Scan(...any) error }) (store.Flow, error) {
	var f store.Flow
	var auth, created, updated, expires *time.Time
	var client *string
	err := row.Scan(&f.ID, &f.State, &client, &f.Request, &f.CSRFHash, &f.AccountID, &f.SessionID,
		&auth, &f.AMR, &f.ACR, &f.Locale, &created, &updated, &expires, &f.ReturnTo, &f.BrowserHash)
	if client != nil {
		f.ClientID = *client
	}
	if err != nil {
		return store.Flow{}, mapErr(err)
	}
	f.AuthTime, f.CreatedAt, f.UpdatedAt, f.ExpiresAt = fromNull(auth), fromNull(created), fromNull(updated), fromNull(expires)
	return f, nil
}

// CreateFlow implements store.Flows.
func (db *DB) CreateFlow(ctx context.Context, f store.Flow) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO flows (`+flowColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`, flowArgs(f)...)
	if err != nil {
		return fmt.Errorf("create flow: %w", mapErr(err))
	}
	return nil
}

// GetFlow implements store.Flows.
func (db *DB) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	return scanFlow(db.q(ctx).QueryRow(ctx, `SELECT `+flowColumns+` FROM flows WHERE id = $1`, id))
}

// UpdateFlow implements store.Flows. FOR UPDATE locks the row, so two tabs
// posting the same step run one after the other and the second sees the
// first's result.
func (db *DB) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	var updated store.Flow
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := scanFlow(db.q(ctx).QueryRow(ctx, `SELECT `+flowColumns+` FROM flows WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		f, err := fn(old)
		if err != nil {
			return err
		}
		f.ID, f.CreatedAt = old.ID, old.CreatedAt
		args := flowArgs(f)
		_, err = db.q(ctx).Exec(ctx, `UPDATE flows SET
			state = $1, client_id = $2, request = $3, csrf_hash = $4, account_id = $5, session_id = $6,
			auth_time = $7, amr = $8, acr = $9, locale = $10, updated_at = $11, expires_at = $12, return_to = $13,
			browser_hash = $14
			WHERE id = $15`, append(append(args[1:11:11], args[12:]...), f.ID)...)
		if err != nil {
			return mapErr(err)
		}
		updated = f
		return nil
	})
	if err != nil {
		return store.Flow{}, fmt.Errorf("update flow: %w", err)
	}
	return updated, nil
}

// DeleteFlow implements store.Flows.
func (db *DB) DeleteFlow(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete flow", `DELETE FROM flows WHERE id = $1`, id)
}

// DeleteExpiredFlows implements store.Flows.
func (db *DB) DeleteExpiredFlows(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired flows",
		`DELETE FROM flows WHERE id IN
			(SELECT id FROM flows WHERE expires_at < $1 LIMIT $2)`, before.UTC(), limit)
}

const sessionColumns = `id, public_id, account_id, auth_time, amr, acr, user_agent, remote_addr,
	created_at, last_seen_at, expires_at`

func sessionArgs(s store.BrowserSession) []any {
	return []any{s.ID, s.PublicID, s.AccountID, nullTime(s.AuthTime), list(s.AMR), s.ACR, s.UserAgent, s.RemoteAddr,
		nullTime(s.CreatedAt), nullTime(s.LastSeenAt), nullTime(s.ExpiresAt)}
}

func scanSession(row interface{ Scan(...any) error }) (store.BrowserSession, error) {
	var s store.BrowserSession
	var auth, created, seen, expires *time.Time
	err := row.Scan(&s.ID, &s.PublicID, &s.AccountID, &auth, &s.AMR, &s.ACR, &s.UserAgent, &s.RemoteAddr,
		&created, &seen, &expires)
	if err != nil {
		return store.BrowserSession{}, mapErr(err)
	}
	s.AuthTime, s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromNull(auth), fromNull(created), fromNull(seen), fromNull(expires)
	return s, nil
}

// CreateBrowserSession implements store.BrowserSessions.
func (db *DB) CreateBrowserSession(ctx context.Context, s store.BrowserSession) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO browser_sessions (`+sessionColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, sessionArgs(s)...)
	if err != nil {
		return fmt.Errorf("create browser session: %w", mapErr(err))
	}
	return nil
}

// GetBrowserSession implements store.BrowserSessions.
func (db *DB) GetBrowserSession(ctx context.Context, id string) (store.BrowserSession, error) {
	return scanSession(db.q(ctx).QueryRow(ctx, `SELECT `+sessionColumns+` FROM browser_sessions WHERE id = $1`, id))
}

// GetBrowserSessionByPublicID implements store.BrowserSessions.
func (db *DB) GetBrowserSessionByPublicID(ctx context.Context, publicID string) (store.BrowserSession, error) {
	return scanSession(db.q(ctx).QueryRow(ctx, `SELECT `+sessionColumns+` FROM browser_sessions WHERE public_id = $1`, publicID))
}

// UpdateBrowserSession implements store.BrowserSessions, with the row
// locked like UpdateFlow.
func (db *DB) UpdateBrowserSession(ctx context.Context, id string, fn func(store.BrowserSession) (store.BrowserSession, error)) (store.BrowserSession, error) {
	var updated store.BrowserSession
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := scanSession(db.q(ctx).QueryRow(ctx,
			`SELECT `+sessionColumns+` FROM browser_sessions WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		s, err := fn(old)
		if err != nil {
			return err
		}
		s.ID, s.PublicID, s.AccountID, s.CreatedAt = old.ID, old.PublicID, old.AccountID, old.CreatedAt
		_, err = db.q(ctx).Exec(ctx, `UPDATE browser_sessions SET
			auth_time = $1, amr = $2, acr = $3, user_agent = $4, remote_addr = $5, last_seen_at = $6, expires_at = $7
			WHERE id = $8`,
			nullTime(s.AuthTime), list(s.AMR), s.ACR, s.UserAgent, s.RemoteAddr, nullTime(s.LastSeenAt), nullTime(s.ExpiresAt), s.ID)
		if err != nil {
			return mapErr(err)
		}
		updated = s
		return nil
	})
	if err != nil {
		return store.BrowserSession{}, fmt.Errorf("update browser session: %w", err)
	}
	return updated, nil
}

// TouchBrowserSession implements store.BrowserSessions: one UPDATE, no
// transaction of its own.
func (db *DB) TouchBrowserSession(ctx context.Context, id string, at time.Time) error {
	return db.exactlyOne(ctx, "touch browser session",
		`UPDATE browser_sessions SET last_seen_at = $1 WHERE id = $2`, nullTime(at), id)
}

// DeleteBrowserSession implements store.BrowserSessions.
func (db *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete browser session", `DELETE FROM browser_sessions WHERE id = $1`, id)
}

// DeleteBrowserSessionsOfAccount implements store.BrowserSessions.
func (db *DB) DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error) {
	return db.count(ctx, "delete the account's browser sessions", `DELETE FROM browser_sessions WHERE account_id = $1`, accountID)
}

// ListBrowserSessions implements store.BrowserSessions.
func (db *DB) ListBrowserSessions(ctx context.Context, accountID string) ([]store.BrowserSession, error) {
	rows, err := db.q(ctx).Query(ctx, `SELECT `+sessionColumns+` FROM browser_sessions
		WHERE account_id = $1 ORDER BY created_at DESC, id COLLATE "C"`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list browser sessions: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.BrowserSession
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list browser sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, mapErr(rows.Err())
}

// DeleteExpiredBrowserSessions implements store.BrowserSessions.
func (db *DB) DeleteExpiredBrowserSessions(ctx context.Context, before, idleBefore time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired browser sessions",
		`DELETE FROM browser_sessions WHERE id IN
			(SELECT id FROM browser_sessions WHERE expires_at < $1 OR last_seen_at < $2 LIMIT $3)`,
		before.UTC(), idleBefore.UTC(), limit)
}

const consentColumns = `account_id, client_id, scopes, created_at, updated_at`

func scanConsent(row interface{ Scan(...any) error }) (store.Consent, error) {
	var c store.Consent
	var created, updated *time.Time
	if err := row.Scan(&c.AccountID, &c.ClientID, &c.Scopes, &created, &updated); err != nil {
		return store.Consent{}, mapErr(err)
	}
	c.CreatedAt, c.UpdatedAt = fromNull(created), fromNull(updated)
	return c, nil
}

// PutConsent implements store.Consents: one upsert. Replacing keeps the
// stored CreatedAt (when consent was first given) and takes the new scopes
// and UpdatedAt.
func (db *DB) PutConsent(ctx context.Context, c store.Consent) error {
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, list(c.Scopes), nullTime(c.CreatedAt), nullTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put consent: %w", mapErr(err))
	}
	return nil
}

// MergeConsent implements store.Consents: one upsert whose update takes
// the sorted union of the stored and the new scopes.
func (db *DB) MergeConsent(ctx context.Context, c store.Consent) error {
	scopes := slices.Clone(c.Scopes)
	slices.Sort(scopes)
	_, err := db.q(ctx).Exec(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, client_id) DO UPDATE SET
			scopes = ARRAY(SELECT s FROM (SELECT DISTINCT s COLLATE "C" AS s FROM unnest(consents.scopes || excluded.scopes) AS s) d ORDER BY s),
			updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, list(slices.Compact(scopes)), nullTime(c.CreatedAt), nullTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("merge consent: %w", mapErr(err))
	}
	return nil
}

// GetConsent implements store.Consents.
func (db *DB) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	return scanConsent(db.q(ctx).QueryRow(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID))
}

// ListConsents implements store.Consents.
func (db *DB) ListConsents(ctx context.Context, accountID string) ([]store.Consent, error) {
	rows, err := db.q(ctx).Query(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE account_id = $1 ORDER BY client_id COLLATE "C"`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// DeleteConsent implements store.Consents.
func (db *DB) DeleteConsent(ctx context.Context, accountID, clientID string) error {
	return db.exactlyOne(ctx, "delete consent",
		`DELETE FROM consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID)
}

// HitThrottle implements store.Throttles: one upsert that either starts a
// window or counts into the current one. Concurrent hits on one key queue on
// the row lock and each re-reads the row the previous one wrote, so none is
// lost. SET expressions all read the old row, so the three CASEs agree on
// whether the window had ended.
func (db *DB) HitThrottle(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := db.q(ctx).QueryRow(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
		VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.window_end <= $2 THEN 1 ELSE throttles.count + 1 END,
			window_start = CASE WHEN throttles.window_end <= $2 THEN excluded.window_start ELSE throttles.window_start END,
			window_end = CASE WHEN throttles.window_end <= $2 THEN excluded.window_end ELSE throttles.window_end END,
			next_at = CASE WHEN throttles.window_end <= $2 THEN NULL ELSE throttles.next_at END
		RETURNING count`, key, now.UTC(), now.Add(window).UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("hit throttle: %w", mapErr(err))
	}
	return n, nil
}

// HitThrottleSliding implements store.Throttles like HitThrottle, with
// the end pushed to now+window (GREATEST keeps a later end another hit
// set).
func (db *DB) HitThrottleSliding(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := db.q(ctx).QueryRow(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
		VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.window_end <= $2 THEN 1 ELSE throttles.count + 1 END,
			window_start = CASE WHEN throttles.window_end <= $2 THEN excluded.window_start ELSE throttles.window_start END,
			window_end = GREATEST(throttles.window_end, excluded.window_end),
			next_at = CASE WHEN throttles.window_end <= $2 THEN NULL ELSE throttles.next_at END
		RETURNING count`, key, now.UTC(), now.Add(window).UTC()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("hit sliding throttle: %w", mapErr(err))
	}
	return n, nil
}

// UnhitThrottle implements store.Throttles.
func (db *DB) UnhitThrottle(ctx context.Context, key string, at time.Time) error {
	_, err := db.count(ctx, "take back a throttle hit", `UPDATE throttles SET count = count - 1
		WHERE key = $1 AND count > 0 AND window_start <= $2 AND window_end > $2`, key, at.UTC())
	return err
}

// ThrottleCount implements store.Throttles.
func (db *DB) ThrottleCount(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var n int
	var end time.Time
	err := db.q(ctx).QueryRow(ctx,
		`SELECT count, window_end FROM throttles WHERE key = $1 AND window_end > $2`, key, now.UTC()).Scan(&n, &end)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read throttle: %w", mapErr(err))
	}
	return n, end.UTC(), nil
}

// HitThrottleSpaced implements store.Throttles. One upsert inserts key's
// row (a placeholder that looks like an ended window and never outlives
// the transaction as such) or locks the existing one, and returns it, so
// the first hits on a new key take turns too and nothing can take the row
// away in between: with an insert-if-missing and then a SELECT … FOR
// UPDATE the sweeper could delete an ended row between the two, and the
// sign-in failed.
func (db *DB) HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(n int) time.Duration) (store.ThrottleTurn, error) {
	var turn store.ThrottleTurn
	now = now.UTC().Truncate(time.Microsecond) // what the column keeps
	err := db.InTx(ctx, func(ctx context.Context) error {
		var n int
		var start, end time.Time
		var next *time.Time
		err := db.q(ctx).QueryRow(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
			VALUES ($1, 0, $2, $2)
			ON CONFLICT (key) DO UPDATE SET count = throttles.count
			RETURNING count, window_start, window_end, next_at`, key, now).Scan(&n, &start, &end, &next)
		if err != nil {
			return mapErr(err)
		}
		if !end.After(now) { // a new window starts
			n, start, end, next = 0, now, now.Add(window), nil
		}
		if next != nil && now.Before(*next) {
			turn = store.ThrottleTurn{Count: n, NextAt: next.UTC(), WindowEnd: end.UTC()}
			return nil
		}
		n++
		if e := now.Add(window); e.After(end) { // sliding: window after this attempt
			end = e
		}
		at := now.Add(max(pause(n), 0)).Truncate(time.Microsecond)
		_, err = db.q(ctx).Exec(ctx, `UPDATE throttles SET count = $2, window_start = $3, window_end = $4, next_at = $5
			WHERE key = $1`, key, n, start, end, at)
		if err != nil {
			return mapErr(err)
		}
		turn = store.ThrottleTurn{Counted: true, Count: n, NextAt: at, WindowEnd: end.UTC()}
		return nil
	})
	if err != nil {
		return store.ThrottleTurn{}, fmt.Errorf("hit spaced throttle: %w", err)
	}
	return turn, nil
}

// ResetThrottle implements store.Throttles.
func (db *DB) ResetThrottle(ctx context.Context, key string) error {
	_, err := db.count(ctx, "reset throttle", `DELETE FROM throttles WHERE key = $1`, key)
	return err
}

// DeleteExpiredThrottles implements store.Throttles.
func (db *DB) DeleteExpiredThrottles(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	// The outer window_end test is re-checked on a row a hit renewed while
	// the DELETE waited for its lock (READ COMMITTED re-reads it); without
	// it the subquery's stale answer would wipe a live count.
	return db.count(ctx, "delete expired throttles",
		`DELETE FROM throttles WHERE key IN
			(SELECT key FROM throttles WHERE window_end < $1 LIMIT $2) AND window_end < $1`, before.UTC(), limit)
}

// nullIfEmpty stores "" as NULL, for optional foreign keys.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
