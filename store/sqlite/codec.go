package sqlite

import (
	"database/sql"
	"encoding/json"
	"time"
)

// Times are stored as Unix microseconds (the precision PostgreSQL keeps, so
// both backends round-trip the same values); the zero time is NULL.

func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// Lists are stored as JSON arrays of strings.

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

// listScanner scans a JSON array column into a []string.
type listScanner struct{ dst *[]string }

func (s listScanner) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*s.dst = []string{}
		return nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return err
	}
	if l == nil {
		l = []string{}
	}
	*s.dst = l
	return nil
}
