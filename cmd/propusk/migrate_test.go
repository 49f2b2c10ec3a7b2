package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/migrations"
)

func (b *backendFixture) latest() int {
	if b.name == "postgres" {
		return latestSchema(migrations.Postgres)
	}
	return latestSchema(migrations.SQLite)
}

// fakeNewerSchema records a migration this binary does not know, as a newer
// Propusk sharing the database would.
func fakeNewerSchema(t *testing.T, b *backendFixture) {
	t.Helper()
	db, err := openDatabase(t.Context(), &b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	script, ok := db.(interface {
		ExecScript(context.Context, string) error
	})
	if !ok {
		t.Fatalf("%T has no ExecScript", db)
	}
	appliedAt := map[string]string{"sqlite": "0", "postgres": "now()"}[b.name]
	if err := script.ExecScript(t.Context(), fmt.Sprintf(
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'from_the_future', %s)", b.latest()+1, appliedAt)); err != nil {
		t.Fatal(err)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		latest := b.latest()
		stdout, stderr, code := b.run(t, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if want := fmt.Sprintf("migrated schema from version 0 to %d\n", latest); stdout != want {
			t.Errorf("first migrate: %q, want %q", stdout, want)
		}
		if stderr != "" {
			t.Errorf("migrate stderr %q", stderr)
		}
		stdout, stderr, code = b.run(t, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if want := fmt.Sprintf("schema is up to date at version %d\n", latest); stdout != want {
			t.Errorf("second migrate: %q, want %q", stdout, want)
		}

		_, stderr, code = b.run(t, "", "migrate", "now")
		wantFail(t, code, stderr, exitUsage, "propusk migrate: ", `unexpected argument "now"`)
		_, stderr, code = b.run(t, "", "migrate", "--to", "3")
		wantFail(t, code, stderr, exitUsage, "propusk migrate: ", "flag provided but not defined: -to")

		// A database migrated by a newer Propusk is refused by every command.
		fakeNewerSchema(t, b)
		tooNew := []string{"database schema is newer than this binary", fmt.Sprintf("at version %d", latest+1), fmt.Sprintf("knows up to %d", latest)}
		for _, cmd := range [][]string{{"migrate"}, {"users", "list"}, {"clients", "list"}, {"serve", "--no-migrate", "--addr", "127.0.0.1:0"}, {"serve", "--addr", "127.0.0.1:0"}} {
			t.Run(strings.Join(cmd, " "), func(t *testing.T) {
				stdout, stderr, code := serveOrRun(t, b, cmd...)
				wantFail(t, code, stderr, exitFailure, "propusk "+cmd[0]+": ", tooNew...)
				if stdout != "" {
					t.Errorf("stdout %q", stdout)
				}
			})
		}
		// Nothing was rolled back or rewritten.
		db, err := openDatabase(t.Context(), &b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if v, err := db.SchemaVersion(t.Context()); err != nil || v != latest+1 {
			t.Errorf("schema version %d (%v), want %d", v, err, latest+1)
		}
	})
}

// serveOrRun runs a command; for serve it makes sure a server that starts
// by mistake does not hang the test.
func serveOrRun(t *testing.T, b *backendFixture, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if args[0] != "serve" {
		return b.run(t, "", args...)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb lockedBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: mapEnv(b.env),
		listening: func(addr string) {
			t.Errorf("serve started listening on %s; it should have refused to start", addr)
			cancel()
		}}
	code = a.run(ctx, append(slices.Clone(args), b.args...))
	return out.String(), errb.String(), code
}

// TestMigrateWithoutSecretsKey: migrating seals nothing, so it needs no
// secrets key, on PostgreSQL either; nor do the users commands, the
// second-factor unlock and reset (counters and deletions) and reading or
// deleting clients, which open nothing sealed. On SQLite none of them
// generates a key as a side effect. Commands that do open sealed values are
// still refused without one.
func TestMigrateWithoutSecretsKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		env := b.withEnv(map[string]string{"PROPUSK_SECRETS_KEY": ""})
		run := func(stdin string, args ...string) (string, string, int) {
			return runCLI(t, env, stdin, append(args, b.args...)...)
		}
		stdout, stderr, code := run("", "migrate")
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "migrated schema from version 0") {
			t.Errorf("migrate: %q", stdout)
		}
		stdout, stderr, code = run("a long enough password\n", "users", "create", "--username", "vera", "--kind", "foreign_national", "--password-stdin")
		wantOK(t, code, stdout, stderr)
		stdout, stderr, code = run("", "users", "list")
		wantOK(t, code, stdout, stderr)
		if !strings.Contains(stdout, "vera") {
			t.Errorf("users list: %q", stdout)
		}
		// A public client has no secret: registering it needs no key either
		// (clients create still asks for one, for every client).
		db, err := openDatabase(t.Context(), &b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = (&clients.Service{Store: db}).Create(t.Context(), clients.Registration{
			ID: "card", Name: "Card", Public: true, RedirectURIs: []string{"https://card.example.org/cb"},
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{
			{"users", "unlock", "vera", "--reason", "checked"},
			{"users", "reset-mfa", "vera", "--reason", "lost phone"},
			{"clients", "list"},
			{"clients", "show", "card"},
			{"clients", "delete", "card"},
		} {
			stdout, stderr, code := run("", cmd...)
			wantOK(t, code, stdout, stderr)
		}
		// Nothing generated a key: no command needed one.
		if exists(filepath.Join(env["PROPUSK_DATA_DIR"], "secrets.key")) {
			t.Error("a command that seals nothing generated a secrets key")
		}
		if b.name == "postgres" {
			for _, cmd := range [][]string{
				{"clients", "create", "--name", "Card", "--redirect-uri", "https://card.example.org/cb"},
				{"clients", "rotate-secret", "card"},
				{"keys", "list"},
			} {
				_, stderr, code := run("", cmd...)
				wantFail(t, code, stderr, exitUsage, "propusk "+cmd[0]+": ", "PostgreSQL needs a secrets key")
			}
			emptyDir(t, env["PROPUSK_DATA_DIR"])
		}
	})
}
