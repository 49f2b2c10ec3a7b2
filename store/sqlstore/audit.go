package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/propusk/propusk/store"
)

const auditColumns = `id, at, type, account_id, actor_id, client_id, remote_addr, flow_id, details`

// AppendAudit implements store.Audit.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	details, err := jsonMap(e.Details)
	if err != nil {
		return 0, fmt.Errorf("append audit event: %w", err)
	}
	var id int64
	err = s.conn.ReturningRow(ctx, `INSERT INTO audit_events
		(at, type, account_id, actor_id, client_id, remote_addr, flow_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		s.timeArg(e.At), e.Type, e.AccountID, e.ActorID, e.ClientID, e.RemoteAddr, e.FlowID, details).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append audit event: %w", s.d.MapErr(err))
	}
	return id, nil
}

// ListAudit implements store.Audit. Only the filters in use go into the
// query, so the planner can use the (account_id, id) or (type, id) index
// (on PostgreSQL even with a cached generic plan).
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
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
	return queryAll(ctx, s, "list audit events", (*Store).scanAudit,
		query+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
}

func (s *Store) scanAudit(row Row) (store.AuditEvent, error) {
	var e store.AuditEvent
	var details string
	if err := row.Scan(&e.ID, s.d.ScanTime(&e.At), &e.Type, &e.AccountID, &e.ActorID, &e.ClientID, &e.RemoteAddr, &e.FlowID,
		&details); err != nil {
		return store.AuditEvent{}, s.d.MapErr(err)
	}
	var err error
	if e.Details, err = fromJSONMap(details); err != nil {
		return store.AuditEvent{}, fmt.Errorf("audit event %d: %w", e.ID, err)
	}
	return e, nil
}

// Maps are stored as JSON objects of strings in a text column (PostgreSQL's
// jsonb would refuse a string holding U+0000); nil and empty both read back
// as an empty map.

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
