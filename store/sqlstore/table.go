package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// table is how one entity type T is kept in one table: the statements,
// built once from the column list, and how a T becomes arguments and a
// row becomes a T. A new column goes into the list, args and scan, which
// stay in the same column order.
type table[T any] struct {
	// insert writes every column. byKey selects a row by its key (the
	// first keys columns, $1 …), selectAll has no WHERE yet. set updates
	// every other column of the row with that key; delete removes it.
	insert, selectAll, byKey, set, delete string

	// args are a T's values in column order, dests the scan destinations
	// of its fields in column order.
	args  func(*Store, T) []any
	dests func(*Store, *T) []any
}

func newTable[T any](name, columnList string, keys int, args func(*Store, T) []any, dests func(*Store, *T) []any) *table[T] {
	columns := strings.Split(columnList, ",")
	var values, key, set []string
	for i, c := range columns {
		c = strings.TrimSpace(c)
		columns[i] = c
		p := fmt.Sprintf("%s = $%d", c, i+1)
		if i < keys {
			key = append(key, p)
		} else {
			set = append(set, p)
		}
		values = append(values, fmt.Sprintf("$%d", i+1))
	}
	where := " WHERE " + strings.Join(key, " AND ")
	t := &table[T]{
		insert:    "INSERT INTO " + name + " (" + strings.Join(columns, ", ") + ") VALUES (" + strings.Join(values, ", ") + ")",
		selectAll: "SELECT " + strings.Join(columns, ", ") + " FROM " + name,
		set:       "UPDATE " + name + " SET " + strings.Join(set, ", ") + where,
		delete:    "DELETE FROM " + name + where,
		args:      args,
		dests:     dests,
	}
	t.byKey = t.selectAll + where
	return t
}

// scan reads one row.
func (t *table[T]) scan(s *Store, row Row) (T, error) {
	var v T
	if err := row.Scan(t.dests(s, &v)...); err != nil {
		var zero T
		return zero, s.d.MapErr(err)
	}
	return v, nil
}

// create inserts v.
func (t *table[T]) create(ctx context.Context, s *Store, what string, v T) error {
	if _, err := s.conn.Exec(ctx, t.insert, t.args(s, v)...); err != nil {
		return fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return nil
}

// get scans the one row query selects; query starts with t.selectAll.
func (t *table[T]) get(ctx context.Context, s *Store, query string, args ...any) (T, error) {
	return t.scan(s, s.conn.QueryRow(ctx, query, args...))
}

// list scans every row query selects; query starts with t.selectAll.
func (t *table[T]) list(ctx context.Context, s *Store, what, query string, args ...any) ([]T, error) {
	return queryAll(ctx, s, what, t.scan, query, args...)
}

// update reads the row with key, locked where the dialect locks rows,
// applies fn, puts back with keep what may not change, and writes the
// result, in one transaction. An error from fn is returned unchanged
// (wrapped in what).
func (t *table[T]) update(ctx context.Context, s *Store, what string, fn func(T) (T, error), keep func(old T, v *T), key ...any) (T, error) {
	var updated T
	err := s.InTx(ctx, func(ctx context.Context) error {
		old, err := t.get(ctx, s, t.byKey+s.d.ForUpdate, key...)
		if err != nil {
			return err
		}
		v, err := fn(old)
		if err != nil {
			return err
		}
		keep(old, &v)
		if _, err := s.conn.Exec(ctx, t.set, t.args(s, v)...); err != nil {
			return s.d.MapErr(err)
		}
		updated = v
		return nil
	})
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return updated, nil
}

// remove deletes the row with key; store.ErrNotFound when there is none.
func (t *table[T]) remove(ctx context.Context, s *Store, what string, key ...any) error {
	return s.exactlyOne(ctx, what, t.delete, key...)
}
