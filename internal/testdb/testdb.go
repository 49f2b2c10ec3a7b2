package testdb

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/postgres"
	"github.com/propusk/propusk/store/postgres/pgtest"
	"github.com/propusk/propusk/store/sqlite"
)

// DB is what either backend is.
type DB interface {
	store.Store
	store.Migrator
}

// Backends names the backends, as Open takes them.
var Backends = []string{"sqlite", "postgres"}

// SQLite returns a migrated SQLite database in a file of its own.
func SQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "propusk.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// Postgres returns a migrated PostgreSQL schema of its own. Each param
// ("pool_max_conns=4") is added to the connection string.
func Postgres(t testing.TB, params ...string) *postgres.DB {
	t.Helper()
	dsn := pgtest.DSN(t)
	sep := " "
	if strings.Contains(dsn, "://") {
		sep = "&" // pgtest's URL always has a query (search_path)
	}
	for _, p := range params {
		dsn += sep + p
	}
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, db)
}

// Open returns a database of the named backend (one of Backends).
func Open(t testing.TB, backend string) DB {
	t.Helper()
	switch backend {
	case "sqlite":
		return SQLite(t)
	case "postgres":
		return Postgres(t)
	}
	t.Fatalf("testdb: no backend %q", backend)
	return nil
}

// Each runs fn as the subtests backend=sqlite and backend=postgres, each
// on a database of its own.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	for _, b := range Backends {
		t.Run("backend="+b, func(t *testing.T) { fn(t, Open(t, b)) })
	}
}

func migrated[D DB](t testing.TB, db D) D {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}
