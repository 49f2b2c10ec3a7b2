package sqlstore

import (
	"context"
	"time"

	"github.com/propusk/propusk/store"
)

var browserSessions = newTable("browser_sessions", `id, public_id, account_id, auth_time, amr, acr, user_agent, remote_addr,
	created_at, last_seen_at, expires_at`, 1, (*Store).sessionArgs, (*Store).sessionDests)

var sessionByPublicID = browserSessions.selectAll + ` WHERE public_id = $1`

func (s *Store) sessionArgs(b store.BrowserSession) []any {
	return []any{b.ID, b.PublicID, b.AccountID, s.timeArg(b.AuthTime), s.listArg(b.AMR), b.ACR, b.UserAgent, b.RemoteAddr,
		s.timeArg(b.CreatedAt), s.timeArg(b.LastSeenAt), s.timeArg(b.ExpiresAt)}
}

func (s *Store) sessionDests(b *store.BrowserSession) []any {
	return []any{&b.ID, &b.PublicID, &b.AccountID, s.d.ScanTime(&b.AuthTime), s.d.ScanList(&b.AMR), &b.ACR, &b.UserAgent, &b.RemoteAddr,
		s.d.ScanTime(&b.CreatedAt), s.d.ScanTime(&b.LastSeenAt), s.d.ScanTime(&b.ExpiresAt)}
}

// CreateBrowserSession implements store.BrowserSessions.
func (s *Store) CreateBrowserSession(ctx context.Context, b store.BrowserSession) error {
	return browserSessions.create(ctx, s, "create browser session", b)
}

// GetBrowserSession implements store.BrowserSessions.
func (s *Store) GetBrowserSession(ctx context.Context, id string) (store.BrowserSession, error) {
	return browserSessions.get(ctx, s, browserSessions.byKey, id)
}

// GetBrowserSessionByPublicID implements store.BrowserSessions.
func (s *Store) GetBrowserSessionByPublicID(ctx context.Context, publicID string) (store.BrowserSession, error) {
	return browserSessions.get(ctx, s, sessionByPublicID, publicID)
}

// UpdateBrowserSession implements store.BrowserSessions, with the row
// locked like UpdateFlow.
func (s *Store) UpdateBrowserSession(ctx context.Context, id string, fn func(store.BrowserSession) (store.BrowserSession, error)) (store.BrowserSession, error) {
	return browserSessions.update(ctx, s, "update browser session", fn, func(old store.BrowserSession, b *store.BrowserSession) {
		b.ID, b.PublicID, b.AccountID, b.CreatedAt = old.ID, old.PublicID, old.AccountID, old.CreatedAt
	}, id)
}

// TouchBrowserSession implements store.BrowserSessions: one UPDATE, no
// transaction of its own.
func (s *Store) TouchBrowserSession(ctx context.Context, id string, at time.Time) error {
	return s.exactlyOne(ctx, "touch browser session",
		`UPDATE browser_sessions SET last_seen_at = $1 WHERE id = $2`, s.timeArg(at), id)
}

// DeleteBrowserSession implements store.BrowserSessions.
func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	return browserSessions.remove(ctx, s, "delete browser session", id)
}

// DeleteBrowserSessionsOfAccount implements store.BrowserSessions.
func (s *Store) DeleteBrowserSessionsOfAccount(ctx context.Context, accountID string) (int, error) {
	return s.count(ctx, "delete the account's browser sessions", `DELETE FROM browser_sessions WHERE account_id = $1`, accountID)
}

// ListBrowserSessions implements store.BrowserSessions.
func (s *Store) ListBrowserSessions(ctx context.Context, accountID string) ([]store.BrowserSession, error) {
	return browserSessions.list(ctx, s, "list browser sessions", browserSessions.selectAll+
		` WHERE account_id = $1 ORDER BY created_at DESC, id`+s.d.CollateC, accountID)
}

// DeleteExpiredBrowserSessions implements store.BrowserSessions.
func (s *Store) DeleteExpiredBrowserSessions(ctx context.Context, before, idleBefore time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete expired browser sessions", limit, `DELETE FROM browser_sessions WHERE id IN
		(SELECT id FROM browser_sessions WHERE expires_at < $1 OR last_seen_at < $2 LIMIT $3)`,
		s.timeArg(before), s.timeArg(idleBefore))
}
