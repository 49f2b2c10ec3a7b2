package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
		micros(f.AuthTime), jsonList(f.AMR), f.ACR, f.Locale, micros(f.CreatedAt), micros(f.UpdatedAt), micros(f.ExpiresAt), f.ReturnTo, f.BrowserHash}
}

func scanFlow(row interface{ Scan(...any) error }) (store.Flow, error) {
	var f store.Flow
	var auth, created, updated, expires sql.NullInt64
	var client sql.NullString
	err := row.Scan(&f.ID, &f.State, &client, &f.Request, &f.CSRFHash, &f.AccountID, &f.SessionID,
		&auth, listScanner{&f.AMR}, &f.ACR, &f.Locale, &created, &updated, &expires, &f.ReturnTo, &f.BrowserHash)
	f.ClientID = client.String
	if err != nil {
		return store.Flow{}, mapErr(err)
	}
	f.AuthTime, f.CreatedAt, f.UpdatedAt, f.ExpiresAt = fromMicros(auth), fromMicros(created), fromMicros(updated), fromMicros(expires)
	return f, nil
}

// CreateFlow implements store.Flows.
func (db *DB) CreateFlow(ctx context.Context, f store.Flow) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO flows (`+flowColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, flowArgs(f)...)
	if err != nil {
		return fmt.Errorf("create flow: %w", mapErr(err))
	}
	return nil
}

// GetFlow implements store.Flows.
func (db *DB) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	return scanFlow(db.reader(ctx).QueryRowContext(ctx, `SELECT `+flowColumns+` FROM flows WHERE id = ?`, id))
}

// UpdateFlow implements store.Flows. The transaction holds SQLite's write
// lock from its first statement, so two updaters of one flow run one after
// the other and the second sees the first's result.
func (db *DB) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	var updated store.Flow
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := db.GetFlow(ctx, id)
		if err != nil {
			return err
		}
		f, err := fn(old)
		if err != nil {
			return err
		}
		f.ID, f.CreatedAt = old.ID, old.CreatedAt
		args := flowArgs(f)
		_, err = db.writer(ctx).ExecContext(ctx, `UPDATE flows SET
			state = ?, client_id = ?, request = ?, csrf_hash = ?, account_id = ?, session_id = ?,
			auth_time = ?, amr = ?, acr = ?, locale = ?, updated_at = ?, expires_at = ?, return_to = ?,
			browser_hash = ?
			WHERE id = ?`, append(append(args[1:11:11], args[12:]...), f.ID)...)
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
	return db.exactlyOne(ctx, "delete flow", `DELETE FROM flows WHERE id = ?`, id)
}

// DeleteExpiredFlows implements store.Flows.
func (db *DB) DeleteExpiredFlows(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired flows",
		`DELETE FROM flows WHERE rowid IN
			(SELECT rowid FROM flows WHERE expires_at < ? LIMIT ?)`, before.UnixMicro(), limit)
}

const sessionColumns = `id, public_id, account_id, auth_time, amr, acr, user_agent, remote_addr,
	created_at, last_seen_at, expires_at`

func sessionArgs(s store.BrowserSession) []any {
	return []any{s.ID, s.PublicID, s.AccountID, micros(s.AuthTime), jsonList(s.AMR), s.ACR, s.UserAgent, s.RemoteAddr,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt)}
}

func scanSession(row interface{ Scan(...any) error }) (store.BrowserSession, error) {
	var s store.BrowserSession
	var auth, created, seen, expires sql.NullInt64
	err := row.Scan(&s.ID, &s.PublicID, &s.AccountID, &auth, listScanner{&s.AMR}, &s.ACR, &s.UserAgent, &s.RemoteAddr,
		&created, &seen, &expires)
	if err != nil {
		return store.BrowserSession{}, mapErr(err)
	}
	s.AuthTime, s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(auth), fromMicros(created), fromMicros(seen), fromMicros(expires)
	return s, nil
}

// CreateBrowserSession implements store.BrowserSessions.
func (db *DB) CreateBrowserSession(ctx context.Context, s store.BrowserSession) error {
	_, err := db.writer(ctx).ExecContext(ctx,
		`INSERT INTO browser_sessions (`+sessionColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, sessionArgs(s)...)
	if err != nil {
		return fmt.Errorf("create browser session: %w", mapErr(err))
	}
	return nil
}

// GetBrowserSession implements store.BrowserSessions.
func (db *DB) GetBrowserSession(ctx context.Context, id string) (store.BrowserSession, error) {
	return scanSession(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM browser_sessions WHERE id = ?`, id))
}

// GetBrowserSessionByPublicID implements store.BrowserSessions.
func (db *DB) GetBrowserSessionByPublicID(ctx context.Context, publicID string) (store.BrowserSession, error) {
	return scanSession(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM browser_sessions WHERE public_id = ?`, publicID))
}

// UpdateBrowserSession implements store.BrowserSessions, serialised like
// UpdateFlow.
func (db *DB) UpdateBrowserSession(ctx context.Context, id string, fn func(store.BrowserSession) (store.BrowserSession, error)) (store.BrowserSession, error) {
	var updated store.BrowserSession
	err := db.InTx(ctx, func(ctx context.Context) error {
		old, err := db.GetBrowserSession(ctx, id)
		if err != nil {
			return err
		}
		s, err := fn(old)
		if err != nil {
			return err
		}
		s.ID, s.PublicID, s.AccountID, s.CreatedAt = old.ID, old.PublicID, old.AccountID, old.CreatedAt
		_, err = db.writer(ctx).ExecContext(ctx, `UPDATE browser_sessions SET
			auth_time = ?, amr = ?, acr = ?, user_agent = ?, remote_addr = ?, last_seen_at = ?, expires_at = ?
			WHERE id = ?`,
			micros(s.AuthTime), jsonList(s.AMR), s.ACR, s.UserAgent, s.RemoteAddr, micros(s.LastSeenAt), micros(s.ExpiresAt), s.ID)
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
		`UPDATE browser_sessions SET last_seen_at = ? WHERE id = ?`, micros(at), id)
}

// DeleteBrowserSession implements store.BrowserSessions.
func (db *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	return db.exactlyOne(ctx, "delete browser session", `DELETE FROM browser_sessions WHERE id = ?`, id)
}

// DeleteBrowserSessionsOfAccount implements store.BrowserSessions.
func (db *DB) DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error) {
	return db.count(ctx, "delete the account's browser sessions", `DELETE FROM browser_sessions WHERE account_id = ?`, accountID)
}

// ListBrowserSessions implements store.BrowserSessions.
func (db *DB) ListBrowserSessions(ctx context.Context, accountID string) ([]store.BrowserSession, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+sessionColumns+` FROM browser_sessions
		WHERE account_id = ? ORDER BY created_at DESC, id`, accountID)
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
		`DELETE FROM browser_sessions WHERE rowid IN
			(SELECT rowid FROM browser_sessions WHERE expires_at < ? OR last_seen_at < ? LIMIT ?)`,
		before.UnixMicro(), idleBefore.UnixMicro(), limit)
}

const consentColumns = `account_id, client_id, scopes, created_at, updated_at`

func scanConsent(row interface{ Scan(...any) error }) (store.Consent, error) {
	var c store.Consent
	var created, updated sql.NullInt64
	if err := row.Scan(&c.AccountID, &c.ClientID, listScanner{&c.Scopes}, &created, &updated); err != nil {
		return store.Consent{}, mapErr(err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// PutConsent implements store.Consents: one upsert. Replacing keeps the
// stored CreatedAt (when consent was first given) and takes the new scopes
// and UpdatedAt.
func (db *DB) PutConsent(ctx context.Context, c store.Consent) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, jsonList(c.Scopes), micros(c.CreatedAt), micros(c.UpdatedAt))
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
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (account_id, client_id) DO UPDATE SET
			scopes = (SELECT json_group_array(value) FROM (
				SELECT value FROM json_each(consents.scopes) UNION SELECT value FROM json_each(excluded.scopes) ORDER BY value)),
			updated_at = excluded.updated_at`,
		c.AccountID, c.ClientID, jsonList(slices.Compact(scopes)), micros(c.CreatedAt), micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("merge consent: %w", mapErr(err))
	}
	return nil
}

// GetConsent implements store.Consents.
func (db *DB) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	return scanConsent(db.reader(ctx).QueryRowContext(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE account_id = ? AND client_id = ?`, accountID, clientID))
}

// ListConsents implements store.Consents.
func (db *DB) ListConsents(ctx context.Context, accountID string) ([]store.Consent, error) {
	rows, err := db.reader(ctx).QueryContext(ctx,
		`SELECT `+consentColumns+` FROM consents WHERE account_id = ? ORDER BY client_id`, accountID)
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
		`DELETE FROM consents WHERE account_id = ? AND client_id = ?`, accountID, clientID)
}

// HitThrottle implements store.Throttles: one upsert that either starts a
// window or counts into the current one. SET expressions all read the old
// row, so the three CASEs agree on whether the window had ended.
func (db *DB) HitThrottle(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := db.writer(ctx).QueryRowContext(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
		VALUES (?1, 1, ?2, ?3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.window_end <= ?2 THEN 1 ELSE throttles.count + 1 END,
			window_start = CASE WHEN throttles.window_end <= ?2 THEN excluded.window_start ELSE throttles.window_start END,
			window_end = CASE WHEN throttles.window_end <= ?2 THEN excluded.window_end ELSE throttles.window_end END,
			next_at = CASE WHEN throttles.window_end <= ?2 THEN NULL ELSE throttles.next_at END
		RETURNING count`, key, now.UnixMicro(), now.Add(window).UnixMicro()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("hit throttle: %w", mapErr(err))
	}
	return n, nil
}

// HitThrottleSliding implements store.Throttles like HitThrottle, with
// the end pushed to now+window (max keeps a later end another hit set).
func (db *DB) HitThrottleSliding(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := db.writer(ctx).QueryRowContext(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
		VALUES (?1, 1, ?2, ?3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.window_end <= ?2 THEN 1 ELSE throttles.count + 1 END,
			window_start = CASE WHEN throttles.window_end <= ?2 THEN excluded.window_start ELSE throttles.window_start END,
			window_end = max(throttles.window_end, excluded.window_end),
			next_at = CASE WHEN throttles.window_end <= ?2 THEN NULL ELSE throttles.next_at END
		RETURNING count`, key, now.UnixMicro(), now.Add(window).UnixMicro()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("hit sliding throttle: %w", mapErr(err))
	}
	return n, nil
}

// UnhitThrottle implements store.Throttles.
func (db *DB) UnhitThrottle(ctx context.Context, key string, at time.Time) error {
	_, err := db.count(ctx, "take back a throttle hit", `UPDATE throttles SET count = count - 1
		WHERE key = ?1 AND count > 0 AND window_start <= ?2 AND window_end > ?2`, key, at.UnixMicro())
	return err
}

// ThrottleCount implements store.Throttles.
func (db *DB) ThrottleCount(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var n int
	var end sql.NullInt64
	err := db.reader(ctx).QueryRowContext(ctx,
		`SELECT count, window_end FROM throttles WHERE key = ? AND window_end > ?`, key, now.UnixMicro()).Scan(&n, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read throttle: %w", mapErr(err))
	}
	return n, fromMicros(end), nil
}

// HitThrottleSpaced implements store.Throttles. The transaction holds the
// write lock from its start (BEGIN IMMEDIATE), so no other hit comes
// between the read and the write.
func (db *DB) HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(n int) time.Duration) (store.ThrottleTurn, error) {
	var turn store.ThrottleTurn
	err := db.InTx(ctx, func(ctx context.Context) error {
		var n int
		var start, end int64
		var next sql.NullInt64
		err := db.writer(ctx).QueryRowContext(ctx,
			`SELECT count, window_start, window_end, next_at FROM throttles WHERE key = ?`, key).Scan(&n, &start, &end, &next)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		at := now.UnixMicro()
		if errors.Is(err, sql.ErrNoRows) || end <= at { // a new window starts
			n, start, end, next = 0, at, now.Add(window).UnixMicro(), sql.NullInt64{}
		}
		if next.Valid && at < next.Int64 {
			turn = store.ThrottleTurn{Count: n, NextAt: fromMicros(next), WindowEnd: fromMicros(sql.NullInt64{Int64: end, Valid: true})}
			return nil
		}
		n++
		end = max(end, now.Add(window).UnixMicro()) // sliding: window after this attempt
		next = sql.NullInt64{Int64: now.Add(max(pause(n), 0)).UnixMicro(), Valid: true}
		_, err = db.writer(ctx).ExecContext(ctx, `INSERT INTO throttles (key, count, window_start, window_end, next_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET count = excluded.count, window_start = excluded.window_start,
				window_end = excluded.window_end, next_at = excluded.next_at`, key, n, start, end, next)
		if err != nil {
			return mapErr(err)
		}
		turn = store.ThrottleTurn{Counted: true, Count: n, NextAt: fromMicros(next), WindowEnd: fromMicros(sql.NullInt64{Int64: end, Valid: true})}
		return nil
	})
	if err != nil {
		return store.ThrottleTurn{}, fmt.Errorf("hit spaced throttle: %w", err)
	}
	return turn, nil
}

// ResetThrottle implements store.Throttles.
func (db *DB) ResetThrottle(ctx context.Context, key string) error {
	_, err := db.count(ctx, "reset throttle", `DELETE FROM throttles WHERE key = ?`, key)
	return err
}

// DeleteExpiredThrottles implements store.Throttles.
func (db *DB) DeleteExpiredThrottles(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return 0, err
	}
	return db.count(ctx, "delete expired throttles",
		`DELETE FROM throttles WHERE rowid IN
			(SELECT rowid FROM throttles WHERE window_end < ? LIMIT ?)`, before.UnixMicro(), limit)
}

// nullIfEmpty stores "" as NULL, for optional foreign keys.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
