package sqlite

import (
	"context"
	"fmt"

	"github.com/propusk/propusk/store"
)

// sealedRowKeys is how each table of store.SealedColumns forms the row key
// its seal is bound to.
var sealedRowKeys = map[string]string{
	"server_secrets": "name",
	"signing_keys":   "id",
	"authenticators": "id",
	"oauth_records":  "kind || ':' || signature",
	"flows":          "id",
}

// checkBatch refuses a batch size that is not positive: SQLite would take
// a negative LIMIT as no limit at all, PostgreSQL as an error.
func checkBatch(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("batch size %d: must be positive", limit)
	}
	return nil
}

func sealedTable(table string) (key, column string, err error) {
	key, ok := sealedRowKeys[table]
	column, ok2 := store.SealedColumns[table]
	if !ok || !ok2 {
		return "", "", fmt.Errorf("no sealed column in table %q", table)
	}
	return key, column, nil
}

// ListSealed implements store.SealedValues.
func (db *DB) ListSealed(ctx context.Context, table, after string, limit int) ([]store.SealedValue, error) {
	if err := checkBatch(limit); err != nil {
		return nil, err
	}
	key, column, err := sealedTable(table)
	if err != nil {
		return nil, err
	}
	// Names come from the fixed maps above, never from input.
	rows, err := db.reader(ctx).QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s > ? ORDER BY %s LIMIT ?`,
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
	key, column, err := sealedTable(v.Table)
	if err != nil {
		return err
	}
	return db.exactlyOne(ctx, "re-seal a value of "+v.Table, fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = ? AND %s = ?`,
		v.Table, column, key, column), v.Sealed, v.Row, old)
}
