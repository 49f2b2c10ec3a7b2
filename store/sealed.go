package store

import (
	"context"
	"fmt"
)

// SealedValue is one value sealed by internal/seal, with the three things
// its seal is bound to (seal.AD): the table, the column and the row's key.
// Row is the key as the owning package forms it: an oauth_records row is
// "kind:signature", every other table's row is its ID or name.
type SealedValue struct {
	Table, Column, Row string
	Sealed             []byte
}

// SealedColumn is a table's sealed column and how the table forms the row
// key its seals are bound to: an SQL expression over the row, written so
// that both backends' dialects read it alike.
type SealedColumn struct {
	Column, RowKey string
}

// SealedColumns names every table that holds sealed values. Re-sealing
// under a new secrets key walks all of them, so a table that gains a
// sealed column must be added here.
var SealedColumns = map[string]SealedColumn{
	"server_secrets": {Column: "sealed", RowKey: "name"},
	"signing_keys":   {Column: "private", RowKey: "id"},
	"authenticators": {Column: "secret", RowKey: "id"},
	"oauth_records":  {Column: "data", RowKey: "kind || ':' || signature"},
	"flows":          {Column: "request", RowKey: "id"},
}

// SealedColumnOf returns table's sealed column, or an error for a table
// without one (the names are put into SQL, so only these are allowed).
func SealedColumnOf(table string) (SealedColumn, error) {
	c, ok := SealedColumns[table]
	if !ok {
		return SealedColumn{}, fmt.Errorf("no sealed column in table %q", table)
	}
	return c, nil
}

// SealedValues lists and replaces sealed values, so that they can be
// re-sealed under a new secrets key before the old one is dropped.
type SealedValues interface {
	// ListSealed returns up to limit sealed values of table (a key of
	// SealedColumns) whose row key sorts after after, in row-key order.
	ListSealed(ctx context.Context, table, after string, limit int) ([]SealedValue, error)
	// ReplaceSealed writes v.Sealed to v's row where the column still
	// holds old; ErrNotFound when it no longer does (the row changed or
	// went meanwhile: nothing is overwritten).
	ReplaceSealed(ctx context.Context, v SealedValue, old []byte) error
}

// CheckBatchSize refuses a batch size that is not positive, for every
// method that works in batches: SQLite would take a negative LIMIT as no
// limit at all, PostgreSQL as an error.
func CheckBatchSize(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("batch size %d: must be positive", limit)
	}
	return nil
}
