package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects the package has files for.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string // file name without the version and extension
	SQL     string
}

// ErrSchemaTooNew is wrapped by the error a backend returns when the database
// was migrated by a newer Propusk than the running binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// TooNew builds the error for a database at version db when the binary knows
// only up to latest.
func TooNew(db, latest int) error {
	return fmt.Errorf("%w: the database is at version %d, this binary knows up to %d; run a newer Propusk (never downgrade a shared database)",
		ErrSchemaTooNew, db, latest)
}

// Load returns the migrations for dialect in version order. It fails on a
// malformed file name or a duplicate version, so a bad file breaks the build
// (tests), not a deployment.
func Load(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("read migrations for %q: %w", dialect, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		v, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		version, err := strconv.Atoi(v)
		if !ok || err != nil || version <= 0 || len(v) != 4 || rest == "" {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.sql", dialect, name)
		}
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migration %s/%s: version %d already used by %s", dialect, name, version, prev)
		}
		seen[version] = name
		body, err := fs.ReadFile(files, dialect+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", dialect, name, err)
		}
		out = append(out, Migration{Version: version, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// MustLoad is Load for backends: the files are embedded and checked by the
// package's tests, so an error here is a build defect.
func MustLoad(dialect string) []Migration {
	m, err := Load(dialect)
	if err != nil {
		panic(err)
	}
	return m
}

// Latest is the highest version in ms, 0 when empty.
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Pending returns the migrations after version current, up to and including
// target. It refuses a database ahead of the binary.
func Pending(ms []Migration, current, target int) ([]Migration, error) {
	if latest := Latest(ms); current > latest {
		return nil, TooNew(current, latest)
	}
	if target > Latest(ms) {
		return nil, fmt.Errorf("no migration %d: this binary knows up to %d", target, Latest(ms))
	}
	var out []Migration
	for _, m := range ms {
		if m.Version > current && m.Version <= target {
			out = append(out, m)
		}
	}
	return out, nil
}
