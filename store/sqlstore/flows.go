package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

var flows = newTable("flows", `id, state, client_id, request, csrf_hash, account_id, session_id,
	auth_time, amr, acr, locale, created_at, updated_at, expires_at, return_to, browser_hash`,
	1, (*Store).flowArgs, (*Store).flowDests)

func (s *Store) flowArgs(f store.Flow) []any {
	if f.Request == nil {
		// An empty request (a local flow's) reads back as nil; written as
		// nil it would be NULL, which the column refuses.
		f.Request = []byte{}
	}
	return []any{f.ID, f.State, nullIfEmpty(f.ClientID), f.Request, f.CSRFHash, f.AccountID, f.SessionID,
		s.timeArg(f.AuthTime), s.listArg(f.AMR), f.ACR, f.Locale,
		s.timeArg(f.CreatedAt), s.timeArg(f.UpdatedAt), s.timeArg(f.ExpiresAt), f.ReturnTo, f.BrowserHash}
}

func (s *Store) flowDests(f *store.Flow) []any {
	return []any{&f.ID, &f.State, nullString{&f.ClientID}, &f.Request, &f.CSRFHash, &f.AccountID, &f.SessionID,
		s.d.ScanTime(&f.AuthTime), s.d.ScanList(&f.AMR), &f.ACR, &f.Locale,
		s.d.ScanTime(&f.CreatedAt), s.d.ScanTime(&f.UpdatedAt), s.d.ScanTime(&f.ExpiresAt), &f.ReturnTo, &f.BrowserHash}
}

// CreateFlow implements store.Flows.
func (s *Store) CreateFlow(ctx context.Context, f store.Flow) error {
	return flows.create(ctx, s, "create flow", f)
}

// GetFlow implements store.Flows.
func (s *Store) GetFlow(ctx context.Context, id string) (store.Flow, error) {
	return flows.get(ctx, s, flows.byKey, id)
}

// UpdateFlow implements store.Flows. The row is locked (or the whole
// database is, on SQLite), so two tabs posting the same step run one after
// the other and the second sees the first's result.
func (s *Store) UpdateFlow(ctx context.Context, id string, fn func(store.Flow) (store.Flow, error)) (store.Flow, error) {
	return flows.update(ctx, s, "update flow", fn, func(old store.Flow, f *store.Flow) {
		f.ID, f.CreatedAt = old.ID, old.CreatedAt
	}, id)
}

// DeleteFlow implements store.Flows.
func (s *Store) DeleteFlow(ctx context.Context, id string) error {
	return flows.remove(ctx, s, "delete flow", id)
}

// DeleteExpiredFlows implements store.Flows.
func (s *Store) DeleteExpiredFlows(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete expired flows", limit, `DELETE FROM flows WHERE id IN
		(SELECT id FROM flows WHERE expires_at < $1 LIMIT $2)`, s.timeArg(before))
}

// nullIfEmpty stores "" as NULL, for optional foreign keys; nullString
// reads NULL back as "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type nullString struct{ s *string }

// Scan implements sql.Scanner, which pgx and database/sql both call.
func (n nullString) Scan(v any) error {
	switch v := v.(type) {
	case string:
		*n.s = v
	case []byte:
		*n.s = string(v)
	case nil:
		*n.s = ""
	default:
		return fmt.Errorf("scan %T as text", v)
	}
	return nil
}
