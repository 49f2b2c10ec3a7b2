package sqlite

import (
	"reflect"
	"testing"
)

func TestToPositional(t *testing.T) {
	for _, tc := range []struct {
		query, want    string
		args, wantArgs []any
	}{
		{"SELECT a FROM t WHERE b = $1 AND c = $2", "SELECT a FROM t WHERE b = ? AND c = ?", []any{1, 2}, []any{1, 2}},
		{"VALUES ($1, $3, $2), ($1, $4, $2)", "VALUES (?, ?, ?), (?, ?, ?)", []any{"a", "t", "h1", "h2"}, []any{"a", "h1", "t", "a", "h2", "t"}},
		{"SELECT '$1', $10", "SELECT '$1', ?", []any{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []any{9}},
		{"CREATE TABLE x (a TEXT DEFAULT '$1')", "CREATE TABLE x (a TEXT DEFAULT '$1')", nil, nil},
	} {
		q, args := toPositional(tc.query, tc.args)
		if q != tc.want || !reflect.DeepEqual(args, tc.wantArgs) {
			t.Errorf("toPositional(%q, %v) = %q, %v; want %q, %v", tc.query, tc.args, q, args, tc.want, tc.wantArgs)
		}
	}
}
