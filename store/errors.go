package store

import "errors"

// Sentinel errors. Backends map their driver errors to these in one place;
// callers test with errors.Is.
var (
	// ErrNotFound: no row has the given key.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a row with the same unique key (ID, username,
	// client ID …) is already there. Nothing was written.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a concurrent writer won (serialization failure, deadlock,
	// SQLite busy). Nothing was written; the caller may retry.
	ErrConflict = errors.New("conflict with a concurrent change")
	// ErrStepUsed: UseStep's step is not later than the last one accepted
	// (the code was used already). Kept apart from ErrConflict, so that a
	// busy database is never taken for a replayed code.
	ErrStepUsed = errors.New("time step already used")
)
