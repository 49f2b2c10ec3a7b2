// Package migratetest holds seed rows for migration tests: one file per
// dialect and version, inserted right after migrating to that version, so a
// test can check that every row survives every later step. Only tests import
// it; the seeds never reach the binary.
package migratetest

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed seeds
var seeds embed.FS

// Seed returns the seed SQL for dialect at version, "" when there is none.
func Seed(dialect string, version int) string {
	b, err := fs.ReadFile(seeds, fmt.Sprintf("seeds/%s/%04d_seed.sql", dialect, version))
	if err != nil {
		return ""
	}
	return string(b)
}
