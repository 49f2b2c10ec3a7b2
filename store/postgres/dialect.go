package postgres

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/propusk/propusk/store/sqlstore"
)

// dialect is how PostgreSQL keeps what the shared statements write: times
// as timestamptz (microseconds; the zero time is NULL), string lists as
// text[].
var dialect = sqlstore.Dialect{
	Time:        func(t time.Time) any { return t.UTC() },
	ScanTime:    func(dst *time.Time) any { return timeDst{dst} },
	List:        func(l []string) any { return l },
	ScanList:    func(dst *[]string) any { return dst },
	MapErr:      mapErr,
	ForUpdate:   " FOR UPDATE",
	ForShareKey: " FOR NO KEY UPDATE",
	CollateC:    ` COLLATE "C"`,
	Greatest:    "GREATEST",
	NoLimit:     nil,
	MergedScopes: `ARRAY(SELECT s FROM (SELECT DISTINCT s COLLATE "C" AS s
		FROM unnest(consents.scopes || excluded.scopes) AS s) d ORDER BY s)`,
}

// timeDst scans a timestamptz into a time.Time in UTC, NULL as the zero
// time. pgx hands it the decoded value directly (no driver.Value on the
// way, no allocation).
type timeDst struct{ t *time.Time }

func (d timeDst) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*d.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("infinite timestamp")
	default:
		*d.t = v.Time.UTC()
	}
	return nil
}
