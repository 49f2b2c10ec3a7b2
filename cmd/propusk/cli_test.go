package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store/postgres/pgtest"
)

// The command is driven in-process: every test builds an app with its own
// streams and an environment from a map, never the real one, so tests are
// hermetic and may run in parallel.

// lockedBuffer is a bytes.Buffer safe for the concurrent writes serve makes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func mapEnv(env map[string]string) func(string) string {
	env = maps.Clone(env)
	return func(k string) string { return env[k] }
}

// runCLI runs one invocation of the command ("a process") and returns what
// it wrote and its exit status.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb lockedBuffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: mapEnv(env)}
	code = a.run(t.Context(), args)
	stdout, stderr = out.String(), errb.String()
	// Whatever the command, a password hash never leaves the database.
	if strings.Contains(stdout+stderr, "$argon2id$") {
		t.Errorf("propusk %s printed a password hash:\nstdout: %s\nstderr: %s", strings.Join(args, " "), stdout, stderr)
	}
	return stdout, stderr, code
}

// wantOK fails the test unless the command succeeded.
func wantOK(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if code != exitOK {
		t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// wantFail checks a failed command: its exit status, and that stderr is one
// line starting with prefix (such as "propusk users: ") and holding every
// phrase.
func wantFail(t *testing.T, code int, stderr string, wantCode int, prefix string, phrases ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit status %d, want %d (stderr: %q)", code, wantCode, stderr)
	}
	if !strings.HasPrefix(prefix, "propusk") {
		t.Fatalf("bad test: prefix %q", prefix)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", stderr)
	}
	if !strings.HasPrefix(stderr, prefix) {
		t.Errorf("stderr %q does not start with %q", stderr, prefix)
	}
	for _, p := range phrases {
		if !strings.Contains(stderr, p) {
			t.Errorf("stderr %q does not contain %q", stderr, p)
		}
	}
}

// backendFixture is one empty database and the way to reach it.
type backendFixture struct {
	name string
	env  map[string]string
	args []string // appended to every command that opens the database
	cfg  Config   // the same database, for opening it with openDatabase
}

func newSQLite(t *testing.T) *backendFixture {
	dir := t.TempDir()
	return &backendFixture{
		name: "sqlite",
		env:  map[string]string{"PROPUSK_DATA_DIR": dir},
		cfg:  Config{DataDir: dir},
	}
}

func newPostgres(t *testing.T) *backendFixture {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	key := newSecretsKey(t)
	return &backendFixture{
		name: "postgres",
		env:  map[string]string{"PROPUSK_DATA_DIR": dir, "PROPUSK_SECRETS_KEY": key},
		args: []string{"--database", dsn},
		cfg:  Config{Database: dsn, DataDir: dir, SecretsKey: key},
	}
}

var backends = []struct {
	name string
	open func(*testing.T) *backendFixture
}{
	{"sqlite", newSQLite},
	{"postgres", newPostgres},
}

// forEachBackend runs fn, in parallel, against a fresh database of each
// backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *backendFixture)) {
	t.Helper()
	for _, be := range backends {
		t.Run("backend="+be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, be.open(t))
		})
	}
}

// run runs a database command against b.
func (b *backendFixture) run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, b.env, stdin, append(slices.Clone(args), b.args...)...)
}

// withEnv returns b's environment with changes; an empty value removes.
func (b *backendFixture) withEnv(changes map[string]string) map[string]string {
	env := maps.Clone(b.env)
	for k, v := range changes {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// mustJSON runs a command that prints JSON and decodes it into v.
func (b *backendFixture) mustJSON(t *testing.T, v any, args ...string) string {
	t.Helper()
	stdout, stderr, code := b.run(t, "", args...)
	wantOK(t, code, stdout, stderr)
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("propusk %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
	}
	return stdout
}

func newSecretsKey(t *testing.T) string {
	t.Helper()
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return seal.EncodeKey(k)
}

// emptyDir fails unless dir holds nothing: a rejected command wrote no file.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s: unexpected %s left behind", dir, e.Name())
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestUsageAndHelp(t *testing.T) {
	t.Parallel()

	stdout, stderr, code := runCLI(t, nil, "")
	if code != exitUsage || !strings.Contains(stdout, "Usage: propusk <command>") || stderr != "" {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q; want 2 and usage on stdout", code, stdout, stderr)
	}
	for _, arg := range []string{"help", "-h", "--help"} {
		stdout, stderr, code := runCLI(t, nil, "", arg)
		wantOK(t, code, stdout, stderr)
		for _, cmd := range []string{"serve", "migrate", "users", "clients", "secrets-key", "version"} {
			if !strings.Contains(stdout, "  "+cmd+" ") {
				t.Errorf("%s: usage does not list %s:\n%s", arg, cmd, stdout)
			}
		}
	}

	_, stderr, code = runCLI(t, nil, "", "frobnicate", "--data-dir", t.TempDir())
	wantFail(t, code, stderr, exitUsage, "propusk: ", `unknown command "frobnicate"`, "propusk help")

	// -h on a command prints its flags and succeeds, without touching a database.
	dir := t.TempDir()
	stdout, stderr, code = runCLI(t, map[string]string{"PROPUSK_DATA_DIR": dir}, "", "users", "create", "-h")
	wantOK(t, code, stdout, stderr)
	for _, f := range []string{"-username", "-kind", "-citizenship", "-password-stdin", "PROPUSK_DATABASE"} {
		if !strings.Contains(stdout, f) {
			t.Errorf("users create -h does not describe %s:\n%s", f, stdout)
		}
	}
	emptyDir(t, dir)
}

func TestMissingSubcommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PROPUSK_DATA_DIR": t.TempDir()}
	_, stderr, code := runCLI(t, env, "", "users")
	wantFail(t, code, stderr, exitUsage, "propusk users: ", "missing subcommand: create, list, show, update, disable or set-password")
	_, stderr, code = runCLI(t, env, "", "clients")
	wantFail(t, code, stderr, exitUsage, "propusk clients: ", "missing subcommand: create, list, show, delete or rotate-secret")
	// Flags come after the subcommand.
	_, stderr, code = runCLI(t, env, "", "users", "--json", "list")
	wantFail(t, code, stderr, exitUsage, "propusk users: ", `unknown subcommand "--json"`)
	emptyDir(t, env["PROPUSK_DATA_DIR"])
}

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runCLI(t, nil, "", "version")
	wantOK(t, code, stdout, stderr)
	if !strings.HasPrefix(stdout, "propusk ") || strings.Count(stdout, "\n") != 1 || len(stdout) < len("propusk x\n") {
		t.Errorf("version printed %q", stdout)
	}
}

func TestSecretsKey(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runCLI(t, nil, "", "secrets-key")
	wantOK(t, code, stdout, stderr)
	key := strings.TrimSuffix(stdout, "\n")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 32 || strings.Contains(key, "\n") {
		t.Errorf("secrets-key printed %q: want the base64 of 32 bytes on one line (err %v)", stdout, err)
	}
	if _, err := seal.ParseKeys(key); err != nil {
		t.Errorf("secrets-key output does not parse as a key: %v", err)
	}
	again, _, _ := runCLI(t, nil, "", "secrets-key")
	if again == stdout {
		t.Error("secrets-key printed the same key twice")
	}

	_, stderr, code = runCLI(t, nil, "", "secrets-key", "extra")
	wantFail(t, code, stderr, exitUsage, "propusk secrets-key: ", "takes no arguments")
}

// TestDatabaseFlagErrors: configuration problems are usage errors (exit 2)
// reported before any file or connection is made, and never echo a
// connection string's password.
func TestDatabaseFlagErrors(t *testing.T) {
	t.Parallel()
	key := newSecretsKey(t)
	tmp := t.TempDir()
	keyFile := filepath.Join(tmp, "keys")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sqlitePath := filepath.Join(tmp, "never", "propusk.db")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		phrases []string
	}{
		{"unsupported scheme", nil, []string{"--database", "mysql://root:hunter2@db/x"},
			[]string{"--database: unsupported scheme mysql", "sqlite:///path/to/file.db or postgres://"}},
		{"no scheme", nil, []string{"--database", "/var/lib/propusk.db"}, []string{"unsupported scheme (none)"}},
		{"postgres without host", map[string]string{"PROPUSK_SECRETS_KEY": key}, []string{"--database", "postgres://"},
			[]string{"--database: malformed PostgreSQL URL"}},
		{"postgres bad port", map[string]string{"PROPUSK_SECRETS_KEY": key}, []string{"--database", "postgres://u:hunter2@db:port/x"},
			[]string{"malformed PostgreSQL URL"}},
		{"postgres without secrets key", nil, []string{"--database", "postgres://propusk:hunter2@db.example/propusk"},
			[]string{"PostgreSQL needs a secrets key", "PROPUSK_SECRETS_KEY", "propusk secrets-key"}},
		{"postgresql scheme without secrets key", nil, []string{"--database", "postgresql://db.example/propusk"},
			[]string{"PROPUSK_SECRETS_KEY"}},
		{"key in both places", map[string]string{"PROPUSK_SECRETS_KEY": key},
			[]string{"--database", "postgres://db.example/propusk", "--secrets-key-file", keyFile}, []string{"not both"}},
		{"sqlite without file", nil, []string{"--database", "sqlite:///"}, []string{"sqlite URL needs a file"}},
		{"sqlite bad busy_timeout", nil, []string{"--database", "sqlite://" + sqlitePath + "?busy_timeout=soon"},
			[]string{`busy_timeout="soon"`}},
		{"sqlite unknown option", nil, []string{"--database", "sqlite://" + sqlitePath + "?cache=shared"},
			[]string{`unknown sqlite option "cache"`}},
		{"empty data dir", nil, []string{"--data-dir="}, []string{"--data-dir must not be empty"}},
		{"bad log level", nil, []string{"--log-level", "loud"}, []string{`--log-level "loud"`}},
		{"bad log format", nil, []string{"--log-format", "xml"}, []string{`--log-format "xml"`}},
		{"several at once", nil, []string{"--database", "mysql://x", "--log-level", "loud", "--log-format", "xml"},
			[]string{"unsupported scheme mysql", `--log-level "loud"`, `--log-format "xml"`, "; "}},
	} {
		for _, cmd := range [][]string{{"users", "list"}, {"clients", "list"}, {"migrate"}, {"keys", "list"}, {"users", "unlock", "anna", "--reason", "checked"}} {
			// Only commands that open sealed values need the secrets key:
			// here keys list, not users unlock or clients list.
			if strings.HasSuffix(tc.name, "without secrets key") && cmd[0] != "keys" {
				continue
			}
			t.Run(tc.name+"/"+strings.Join(cmd, "-"), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				env := maps.Clone(tc.env)
				if env == nil {
					env = map[string]string{}
				}
				env["PROPUSK_DATA_DIR"] = dir
				args := append(slices.Clone(cmd), tc.args...)
				stdout, stderr, code := runCLI(t, env, "", args...)
				wantFail(t, code, stderr, exitUsage, "propusk "+cmd[0]+": ", tc.phrases...)
				if strings.Contains(stderr, "hunter2") {
					t.Errorf("stderr echoes the connection string's password: %q", stderr)
				}
				if stdout != "" {
					t.Errorf("stdout %q, want nothing", stdout)
				}
				emptyDir(t, dir)
				if exists(sqlitePath) {
					t.Errorf("%s was created by a rejected command", sqlitePath)
				}
			})
		}
	}
}

// TestUnreachablePostgres needs no server: nothing listens on port 1.
func TestUnreachablePostgres(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PROPUSK_DATA_DIR": t.TempDir(), "PROPUSK_SECRETS_KEY": newSecretsKey(t)}
	dsn := "postgres://postgres:hunter2@127.0.0.1:1/x?connect_timeout=2"
	for _, cmd := range [][]string{{"users", "list"}, {"clients", "list"}, {"migrate"}, {"users", "show", "anna"}} {
		t.Run(strings.Join(cmd, "-"), func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runCLI(t, env, "", append(slices.Clone(cmd), "--database", dsn)...)
			wantFail(t, code, stderr, exitFailure, "propusk "+cmd[0]+": ", "connect to PostgreSQL at 127.0.0.1:1")
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr echoes the password: %q", stderr)
			}
		})
	}
	t.Run("users-create", func(t *testing.T) {
		t.Parallel()
		_, stderr, code := runCLI(t, env, "a long enough password\n",
			"users", "create", "--username", "anna", "--kind", "foreign_national", "--password-stdin", "--database", dsn)
		wantFail(t, code, stderr, exitFailure, "propusk users: ", "connect to PostgreSQL")
		if strings.Contains(stderr, "hunter2") || strings.Contains(stderr, "a long enough password") {
			t.Errorf("stderr echoes a secret: %q", stderr)
		}
	})
}

// TestEnvFallback: PROPUSK_DATABASE and PROPUSK_DATA_DIR apply when no flag
// is given; a flag wins over its variable.
func TestEnvFallback(t *testing.T) {
	t.Parallel()

	t.Run("PROPUSK_DATA_DIR", func(t *testing.T) {
		t.Parallel()
		envDir, flagDir := t.TempDir(), t.TempDir()
		env := map[string]string{"PROPUSK_DATA_DIR": envDir}

		stdout, stderr, code := runCLI(t, env, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if !exists(filepath.Join(envDir, "propusk.db")) {
			t.Errorf("migrate without --data-dir did not use PROPUSK_DATA_DIR")
		}

		stdout, stderr, code = runCLI(t, env, "", "migrate", "--data-dir", flagDir)
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "migrated schema from version 0") {
			t.Errorf("--data-dir %s: %q; want a fresh database there", flagDir, stdout)
		}
		if !exists(filepath.Join(flagDir, "propusk.db")) {
			t.Errorf("--data-dir did not win over PROPUSK_DATA_DIR")
		}
		// The generated secrets key goes to the data directory as well
		// (keys list opens the sealed signing keys; clients list seals nothing).
		stdout, stderr, code = runCLI(t, env, "", "keys", "list", "--data-dir", flagDir)
		wantOK(t, code, stdout, stderr)
		if !exists(filepath.Join(flagDir, "secrets.key")) || exists(filepath.Join(envDir, "secrets.key")) {
			t.Errorf("secrets.key not generated in --data-dir alone")
		}
	})

	t.Run("PROPUSK_DATABASE/sqlite", func(t *testing.T) {
		t.Parallel()
		dir, dataDir := t.TempDir(), t.TempDir()
		envDB, flagDB := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")
		env := map[string]string{"PROPUSK_DATA_DIR": dataDir, "PROPUSK_DATABASE": "sqlite://" + envDB}

		stdout, stderr, code := runCLI(t, env, "", "migrate", "--database", "sqlite://"+flagDB)
		wantOK(t, code, stdout, stderr)
		if !exists(flagDB) || exists(envDB) {
			t.Errorf("--database did not win over PROPUSK_DATABASE (flag.db %v, env.db %v)", exists(flagDB), exists(envDB))
		}
		stdout, stderr, code = runCLI(t, env, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if !exists(envDB) {
			t.Errorf("PROPUSK_DATABASE was not used without --database")
		}
		if exists(filepath.Join(dataDir, "propusk.db")) {
			t.Errorf("the default database was created although PROPUSK_DATABASE was set")
		}

		// A valid flag wins over a broken variable, and the reverse fails.
		env["PROPUSK_DATABASE"] = "mysql://nowhere"
		stdout, stderr, code = runCLI(t, env, "", "migrate", "--database", "sqlite://"+flagDB)
		wantOK(t, code, stdout, stderr)
		if want := "schema is up to date"; !strings.HasPrefix(stdout, want) {
			t.Errorf("migrate: %q, want %q", stdout, want)
		}
		_, stderr, code = runCLI(t, env, "", "migrate")
		wantFail(t, code, stderr, exitUsage, "propusk migrate: ", "unsupported scheme mysql")
		env["PROPUSK_DATABASE"] = "sqlite://" + envDB
		_, stderr, code = runCLI(t, env, "", "migrate", "--database", "mysql://nowhere")
		wantFail(t, code, stderr, exitUsage, "propusk migrate: ", "unsupported scheme mysql")
	})

	t.Run("PROPUSK_DATABASE/postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		dataDir := t.TempDir()
		env := map[string]string{"PROPUSK_DATA_DIR": dataDir, "PROPUSK_SECRETS_KEY": newSecretsKey(t), "PROPUSK_DATABASE": dsn}
		stdout, stderr, code := runCLI(t, env, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "migrated schema from version 0") {
			t.Errorf("migrate: %q", stdout)
		}
		// The flag names the same database: already migrated.
		env["PROPUSK_DATABASE"] = "mysql://nowhere"
		stdout, stderr, code = runCLI(t, env, "", "migrate", "--database", dsn)
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "schema is up to date") {
			t.Errorf("migrate --database: %q", stdout)
		}
		emptyDir(t, dataDir)
	})

	t.Run("PROPUSK_LOG_LEVEL", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"PROPUSK_DATA_DIR": t.TempDir(), "PROPUSK_LOG_LEVEL": "loud"}
		_, stderr, code := runCLI(t, env, "", "users", "list")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", `--log-level "loud"`)
		stdout, stderr, code := runCLI(t, env, "", "users", "list", "--log-level", "debug")
		wantOK(t, code, stdout, stderr)
	})
}

// TestRestartPersistence: what one process creates, the next one sees. Each
// runCLI is a new app, as a new process would be.
func TestRestartPersistence(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "persistent password\n", "users", "create", "--username", "gleb", "--kind", "citizen", "--citizenship", "RU", "--password-stdin")
		wantOK(t, code, stdout, stderr)
		stdout, stderr, code = b.run(t, "", "clients", "create", "--id", "kept", "--name", "Kept", "--redirect-uri", "https://kept.example/cb")
		wantOK(t, code, stdout, stderr)
		_, secret := parseCreated(t, stdout)

		// "Restart": fresh apps, nothing shared but the database (and, for
		// SQLite, the data directory with the generated secrets key).
		if got := usernames(listUsers(t, b)); !slices.Equal(got, []string{"gleb"}) {
			t.Errorf("after restart, users %q", got)
		}
		if got := listClientIDs(t, b); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("after restart, clients %q", got)
		}
		if !verifySecret(t, b, "kept", secret) {
			t.Error("after restart, the client secret no longer verifies")
		}
		if err := authenticate(t, b, "GLEB", "persistent password"); err != nil {
			t.Errorf("after restart, the password does not work: %v", err)
		}
		if b.name == "sqlite" {
			if fi, err := os.Stat(filepath.Join(b.cfg.DataDir, "propusk.db")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("propusk.db: %v, %v; want mode 0600", fi, err)
			}
		}
	})
}
