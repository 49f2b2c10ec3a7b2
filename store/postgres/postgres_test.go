package postgres_test

import (
	"strings"
	"testing"

	"github.com/propusk/propusk/migrations"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/postgres"
	"github.com/propusk/propusk/store/postgres/pgtest"
	"github.com/propusk/propusk/store/storetest"
)

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.BaseDSN(t)
	storetest.RunTests(t, func(t *testing.T) store.Store {
		db := open(t, pgtest.DSN(t))
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestMigrations(t *testing.T) {
	pgtest.BaseDSN(t)
	storetest.RunMigrationTests(t, migrations.Postgres, func(t *testing.T, n int) []storetest.MigratableStore {
		dsn := pgtest.DSN(t)
		var out []storetest.MigratableStore
		for range n {
			out = append(out, open(t, dsn))
		}
		return out
	})
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ name, dsn string }{
		{"malformed", "postgres://user:secret@host:notaport/db"},
		{"unreachable", "postgres://postgres@127.0.0.1:1/propusk?connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := postgres.Open(t.Context(), tc.dsn)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if got := err.Error(); strings.Contains(got, "secret") {
				t.Fatalf("error leaks the password: %s", got)
			}
		})
	}
}
