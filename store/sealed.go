package store

import "context"

// SealedValue is one value sealed by internal/seal, with the three things
// its seal is bound to (seal.AD): the table, the column and the row's key.
// Row is the key as the owning package forms it: an oauth_records row is
// "kind:signature", every other table's row is its ID or name.
type SealedValue struct {
	Table, Column, Row string
	Sealed             []byte
}

// SealedColumns names every table that holds sealed values and its sealed
// column. Re-sealing under a new secrets key walks all of them, so a table
// that gains a sealed column must be added here (and to SealedValues).
var SealedColumns = map[string]string{
	"server_secrets": "sealed",
	"signing_keys":   "private",
	"authenticators": "secret",
	"oauth_records":  "data",
	"flows":          "request",
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
