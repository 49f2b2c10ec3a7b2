package postgres

import (
	"context"
	"fmt"

	"github.com/propusk/propusk/store"
)

// ListSealed implements store.SealedValues.
func (db *DB) ListSealed(ctx context.Context, table, after string, limit int) ([]store.SealedValue, error) {
	if err := store.CheckBatchSize(limit); err != nil {
		return nil, err
	}
	sc, err := store.SealedColumnOf(table)
	if err != nil {
		return nil, err
	}
	key, column := sc.RowKey, sc.Column
	// Names come from store.SealedColumns, never from input.
	rows, err := db.q(ctx).Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s > $1 ORDER BY %s LIMIT $2`,
		key, column, table, key, key), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list sealed values of %s: %w", table, mapErr(err))
	}
	defer rows.Close()
	var out []store.SealedValue
	for rows.Next() {
		v := store.SealedValue{Table: table, Column: column}
		if err := rows.Scan(&v.Row, &v.Sealed); err != nil {
			return nil, fmt.Errorf("list sealed values of %s: %w", table, mapErr(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sealed values of %s: %w", table, mapErr(err))
	}
	return out, nil
}

// ReplaceSealed implements store.SealedValues.
func (db *DB) ReplaceSealed(ctx context.Context, v store.SealedValue, old []byte) error {
	sc, err := store.SealedColumnOf(v.Table)
	if err != nil {
		return err
	}
	key, column := sc.RowKey, sc.Column
	return db.exactlyOne(ctx, "re-seal a value of "+v.Table, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2 AND %s = $3`,
		v.Table, column, key, column), v.Sealed, v.Row, old)
}
