package testdb

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/postgres/pgtest"
)

// Each hands every backend's subtest a migrated database, closed when the
// subtest ends.
func TestEach(t *testing.T) {
	var ran []string
	var dbs []DB
	t.Run("each", func(t *testing.T) {
		Each(t, func(t *testing.T, db DB) {
			ran = append(ran, t.Name())
			v, err := db.SchemaVersion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if v == 0 {
				t.Errorf("schema version 0: not migrated")
			}
			if err := db.Ping(t.Context()); err != nil {
				t.Errorf("ping while the test runs: %v", err)
			}
			dbs = append(dbs, db)
		})
	})
	want := []string{"TestEach/each/backend=sqlite"}
	if os.Getenv(pgtest.EnvVar) != "" {
		want = append(want, "TestEach/each/backend=postgres")
	}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	for i, db := range dbs {
		if err := db.Ping(t.Context()); err == nil {
			t.Errorf("%s: the database still answers after its test ended", ran[i])
		}
	}
}

// Every call opens a database of its own: what one test writes, another
// does not see.
func TestDatabasesAreSeparate(t *testing.T) {
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			db, other := Open(t, b), Open(t, b)
			now := time.Now().UTC()
			acct := store.Account{ID: "acc-anna", Username: "anna", Kind: "citizen", Assurance: "standard",
				Citizenships: []string{}, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateAccount(t.Context(), acct); err != nil {
				t.Fatal(err)
			}
			if _, err := other.GetAccount(t.Context(), acct.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a second database has the first one's account: %v, want %v", err, store.ErrNotFound)
			}
		})
	}
}
