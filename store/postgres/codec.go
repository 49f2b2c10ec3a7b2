package postgres

import "time"

// Times are kept with PostgreSQL's microsecond precision; the zero time is
// NULL.

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// list keeps NOT NULL array columns from receiving a nil slice (NULL).
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
