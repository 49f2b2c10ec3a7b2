package sqlstore

import (
	"context"
	"fmt"

	"github.com/propusk/propusk/store"
)

// ListSealed implements store.SealedValues.
func (s *Store) ListSealed(ctx context.Context, table, after string, limit int) ([]store.SealedValue, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return nil, err
	}
	sc, err := store.SealedColumnOf(table)
	if err != nil {
		return nil, err
	}
	key, column := sc.RowKey, sc.Column
	scan := func(s *Store, row Row) (store.SealedValue, error) {
		v := store.SealedValue{Table: table, Column: column}
		if err := row.Scan(&v.Row, &v.Sealed); err != nil {
			return store.SealedValue{}, s.d.MapErr(err)
		}
		return v, nil
	}
	// Names come from store.SealedColumns, never from input.
	return queryAll(ctx, s, "list sealed values of "+table, scan,
		fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s > $1 ORDER BY %s LIMIT $2`, key, column, table, key, key), after, limit)
}

// ReplaceSealed implements store.SealedValues.
func (s *Store) ReplaceSealed(ctx context.Context, v store.SealedValue, old []byte) error {
	sc, err := store.SealedColumnOf(v.Table)
	if err != nil {
		return err
	}
	key, column := sc.RowKey, sc.Column
	return s.exactlyOne(ctx, "re-seal a value of "+v.Table, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2 AND %s = $3`,
		v.Table, column, key, column), v.Sealed, v.Row, old)
}
