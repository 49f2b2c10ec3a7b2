package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/propusk/propusk/migrations"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
	"github.com/propusk/propusk/store/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		db := open(t, filepath.Join(t.TempDir(), "propusk.db"))
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestMigrations(t *testing.T) {
	storetest.RunMigrationTests(t, migrations.SQLite, func(t *testing.T, n int) []storetest.MigratableStore {
		path := filepath.Join(t.TempDir(), "propusk.db")
		var out []storetest.MigratableStore
		for range n {
			out = append(out, open(t, path))
		}
		return out
	})
}

// Another process holding the write lock past the busy timeout is a
// conflict the caller can report and retry, not a hang or a raw driver error.
func TestLockedFileIsConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "propusk.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	err = db.CreateAccount(t.Context(), store.Account{ID: "a1", Username: "anna", Kind: "citizen", Assurance: "simplified",
		CreatedAt: time.Now(), UpdatedAt: time.Now()})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("write while another process holds the lock: err = %v, want ErrConflict", err)
	}
}

// The shared statements (package sqlstore) use PostgreSQL's numbered
// placeholders; the driver must bind $N to the N-th argument wherever it
// stands and however often, not to the N-th placeholder.
func TestNumberedPlaceholders(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRowContext(t.Context(), `SELECT $2 || $1 || $2 || $3`, "a", "b", "c").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "babc" {
		t.Fatalf("SELECT $2 || $1 || $2 || $3 with a, b, c = %q, want babc", got)
	}
}
