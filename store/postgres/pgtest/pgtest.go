// Package pgtest gives tests a fresh, empty PostgreSQL schema. It reads the
// server from PROPUSK_TEST_POSTGRES; without it a test is skipped, except
// under CI=true, where a missing PostgreSQL fails the run: CI must never pass
// by quietly testing only SQLite.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar holds the connection string of the test server.
const EnvVar = "PROPUSK_TEST_POSTGRES"

// BaseDSN returns the configured server, skipping (or, under CI, failing) the
// test when there is none.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must test PostgreSQL (see .ci/run)", EnvVar)
		}
		t.Skipf("%s not set: skipping PostgreSQL tests", EnvVar)
	}
	return dsn
}

// DSN creates a new schema for this test, dropped at cleanup, and returns a
// connection string whose search_path points at it: each test gets an empty
// database of its own without the cost of CREATE DATABASE.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, WithSearchPath(t, base, "public"))
	if err != nil {
		t.Fatalf("connect to test PostgreSQL (%s): %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return WithSearchPath(t, base, schema)
}

// WithSearchPath adds search_path to a URL or key=value connection string,
// and turns off synchronous commit: test data need not survive a crash, and
// waiting for fsync on every commit makes a shared CI disk the bottleneck.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse %s: %v", EnvVar, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("synchronous_commit", "off")
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema + " synchronous_commit=off"
}
