package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/migrations"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/postgres"
	"github.com/propusk/propusk/store/sqlite"
)

// database is an open backend: the store and its migrator.
type database interface {
	store.Store
	store.Migrator
}

// openDatabase is the only place that picks a backend.
func openDatabase(ctx context.Context, c *Config) (database, error) {
	b, err := c.backend()
	if err != nil {
		return nil, err
	}
	switch b.kind {
	case "sqlite":
		return sqlite.Open(ctx, b.path, sqlite.Options{BusyTimeout: b.busyTimeout})
	default:
		return postgres.Open(ctx, b.dsn)
	}
}

// openMigrated opens the database and either migrates it or, when migrate
// is false, checks that its schema is exactly the binary's.
func openMigrated(ctx context.Context, c *Config, migrate bool) (database, error) {
	db, err := openDatabase(ctx, c)
	if err != nil {
		return nil, err
	}
	if migrate {
		err = db.Migrate(ctx)
	} else {
		err = checkSchema(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func checkSchema(ctx context.Context, db database) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := latestSchema(dialectOf(db))
	switch {
	case v > latest:
		return migrations.TooNew(v, latest)
	case v < latest:
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run propusk migrate", v, latest)
	}
	return nil
}

// dialectOf names the dialect of an open database.
func dialectOf(db database) string {
	if _, ok := db.(*postgres.DB); ok {
		return migrations.Postgres
	}
	return migrations.SQLite
}

func latestSchema(dialect string) int { return migrations.Latest(migrations.MustLoad(dialect)) }

// secretsRing builds the key ring: PROPUSK_SECRETS_KEY, else the key file,
// else (embedded default only; Validate refuses PostgreSQL without a key) a
// key generated into the data directory on first use.
func secretsRing(c *Config) (*seal.Ring, error) {
	var keys [][]byte
	var err error
	switch {
	case c.SecretsKey != "":
		keys, err = seal.ParseKeys(c.SecretsKey)
		if err != nil {
			err = fmt.Errorf("PROPUSK_SECRETS_KEY: %w", err)
		}
	case c.SecretsKeyFile != "":
		keys, err = seal.ReadKeyFile(c.SecretsKeyFile)
	default:
		keys, _, err = seal.LoadOrCreateKeyFile(filepath.Join(c.DataDir, "secrets.key"))
	}
	if err != nil {
		return nil, err
	}
	return seal.NewRing(keys...)
}

// Names of server-wide secrets kept sealed in the database.
const (
	clientSecretKeyName = "client-secret-hmac"
	tokenKeyName        = "token-hmac"  // opaque tokens' HMAC key: every node must verify every node's tokens
	deviceKeyName       = "device-hmac" // device cookies' HMAC key: a browser known to one node is known to all
)

// serverSecret returns the named server-wide secret, creating it on first
// use. Every node shares it through the database; it is sealed with the
// secrets key, so a node with the wrong key fails here, at start, with a
// clear message, instead of rejecting every client later. A secret sealed
// with an older key of the ring is re-sealed with the current one, which is
// how a key rotation finishes.
func serverSecret(ctx context.Context, st store.ServerSecrets, ring *seal.Ring, name string, now time.Time) ([]byte, error) {
	ad := seal.AD{Table: "server_secrets", Column: "sealed", Row: name}
	s, err := st.GetServerSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		fresh := make([]byte, 32)
		rand.Read(fresh)
		sealed, serr := ring.Seal(fresh, ad)
		if serr != nil {
			return nil, serr
		}
		// err, not a new variable: on a lost race the winner's secret read
		// here is what the code below opens (a shadowed err once left the
		// outer "not found" in place, and the losing node failed to start).
		err = st.CreateServerSecret(ctx, store.ServerSecret{Name: name, Sealed: sealed, CreatedAt: now, UpdatedAt: now})
		switch {
		case err == nil:
			return fresh, nil
		case errors.Is(err, store.ErrAlreadyExists): // another node was first: use its secret
			s, err = st.GetServerSecret(ctx, name)
		default:
			return nil, fmt.Errorf("create server secret %s: %w", name, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read server secret %s: %w", name, err)
	}
	plain, err := ring.Open(s.Sealed, ad)
	if err != nil {
		return nil, fmt.Errorf("the secrets key does not open this database's secrets (%w); was the key changed? To rotate, list the new key first and keep the old one after it", err)
	}
	if !ring.SealedWithPrimary(s.Sealed) {
		resealed, err := ring.Seal(plain, ad)
		if err == nil {
			err = st.UpdateServerSecret(ctx, name, resealed, now)
		}
		if err != nil {
			return nil, fmt.Errorf("re-seal server secret %s with the new key: %w", name, err)
		}
	}
	return plain, nil
}

func timeNow() time.Time { return time.Now().UTC() }

// open validates the configuration (with sealed, Validate insists on a
// secrets key for PostgreSQL), opens and migrates the database and runs fn.
func (a *app) open(ctx context.Context, c *Config, sealed bool, fn func(database) error) error {
	if err := a.setup(c, false, sealed); err != nil {
		return err
	}
	db, err := openMigrated(ctx, c, true)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}
