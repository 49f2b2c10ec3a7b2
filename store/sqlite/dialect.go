package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/propusk/propusk/store/sqlstore"
)

// dialect is how SQLite keeps what the shared statements write: times as
// Unix microseconds (the precision PostgreSQL keeps, so both backends
// round-trip the same values; the zero time is NULL), string lists as JSON
// arrays.
var dialect = sqlstore.Dialect{
	Time:     func(t time.Time) any { return t.UnixMicro() },
	ScanTime: func(dst *time.Time) any { return timeDst{dst} },
	List: func(l []string) any {
		b, _ := json.Marshal(l) // []string always marshals
		return string(b)
	},
	ScanList: func(dst *[]string) any { return listDst{dst} },
	MapErr:   mapErr,
	// A transaction holds the write lock from its first statement (BEGIN
	// IMMEDIATE): no row locks to take.
	ForUpdate:   "",
	ForShareKey: "",
	CollateC:    "", // BINARY, the default, sorts by bytes
	Greatest:    "max",
	NoLimit:     -1,
	MergedScopes: `(SELECT json_group_array(value) FROM (
		SELECT value FROM json_each(consents.scopes) UNION SELECT value FROM json_each(excluded.scopes) ORDER BY value))`,
}

// timeDst scans Unix microseconds into a time.Time in UTC, NULL as the
// zero time.
type timeDst struct{ t *time.Time }

func (d timeDst) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case nil:
		*d.t = time.Time{}
	default:
		return fmt.Errorf("scan %T as a time", v)
	}
	return nil
}

// listDst scans a JSON array column into a []string, NULL as the empty
// list.
type listDst struct{ l *[]string }

func (d listDst) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*d.l = []string{}
		return nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return err
	}
	if l == nil {
		l = []string{}
	}
	*d.l = l
	return nil
}
