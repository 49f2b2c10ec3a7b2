package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/store"
)

// userOut is the --json shape of an account as scripts read it; the field
// names are spelled out here, independently of accountJSON, because they are
// a stable interface.
type userOut struct {
	ID                 string   `json:"id"`
	Username           string   `json:"username"`
	Email              string   `json:"email"`
	Phone              string   `json:"phone"`
	Kind               string   `json:"kind"`
	GivenName          string   `json:"given_name"`
	FamilyName         string   `json:"family_name"`
	MiddleName         string   `json:"middle_name"`
	GivenNameLatin     string   `json:"given_name_latin"`
	FamilyNameLatin    string   `json:"family_name_latin"`
	MiddleNameLatin    string   `json:"middle_name_latin"`
	Birthdate          string   `json:"birthdate"`
	Citizenships       []string `json:"citizenships"`
	CountryOfResidence string   `json:"country_of_residence"`
	Locale             string   `json:"locale"`
	Assurance          string   `json:"assurance"`
	HasPassword        bool     `json:"has_password"`
	Disabled           bool     `json:"disabled"`
	DisabledAt         *string  `json:"disabled_at"`
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// checkAccountKeys checks the stable field names of one account object and
// that nothing resembling a password hash is among them.
func checkAccountKeys(t *testing.T, obj map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "username", "kind", "citizenships", "assurance", "disabled", "has_password", "created_at"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("account JSON lacks %q: %v", k, obj)
		}
	}
	for k := range obj {
		if k != "has_password" && (strings.Contains(k, "password") || strings.Contains(k, "hash")) {
			t.Errorf("account JSON has field %q", k)
		}
	}
	if _, ok := obj["citizenships"].([]any); !ok {
		t.Errorf("citizenships is %T, want a JSON array (never null)", obj["citizenships"])
	}
}

func listUsers(t *testing.T, b *backendFixture) []userOut {
	t.Helper()
	var raw []map[string]any
	b.mustJSON(t, &raw, "users", "list", "--json")
	for _, obj := range raw {
		checkAccountKeys(t, obj)
	}
	var list []userOut
	b.mustJSON(t, &list, "users", "list", "--json")
	return list
}

func usernames(list []userOut) []string {
	var out []string
	for _, u := range list {
		out = append(out, u.Username)
	}
	return out
}

// authenticate checks a password against the database the command uses,
// opened through the command's own openDatabase.
func authenticate(t *testing.T, b *backendFixture, username, password string) error {
	t.Helper()
	db, err := openDatabase(t.Context(), &b.cfg)
	if err != nil {
		t.Fatalf("open the command's database: %v", err)
	}
	defer db.Close()
	_, err = (&accounts.Service{Store: db}).Authenticate(t.Context(), username, password)
	if err != nil && !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("authenticate: %v", err)
	}
	return err
}

func TestUsersLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		const password = "correct horse battery"
		stdout, stderr, code := b.run(t, password+"\n", "users", "create",
			"--username", "Anna.Ivanova", "--kind", "citizen",
			"--email", "anna@Example.ORG", "--phone", "+7 (912) 345-67-89",
			"--given-name", "Анна", "--family-name", "Иванова", "--middle-name", "Сергеевна",
			"--given-name-latin", "Anna", "--family-name-latin", "Ivanova", "--middle-name-latin", "Sergeevna",
			"--birthdate", "1990-05-17",
			"--citizenship", "ru", "--citizenship", "kz, am", "--citizenship", "RU",
			"--residence", "de", "--locale", "en-us", "--assurance", "standard",
			"--password-stdin", "--json")
		wantOK(t, code, stdout, stderr)
		if stderr != "" {
			t.Errorf("stderr %q, want nothing", stderr)
		}
		if strings.Contains(stdout, password) {
			t.Errorf("users create printed the password")
		}
		var created userOut
		if err := json.Unmarshal([]byte(stdout), &created); err != nil {
			t.Fatalf("users create --json: %v\n%s", err, stdout)
		}
		want := userOut{
			ID: created.ID, Username: "anna.ivanova", Email: "anna@example.org", Phone: "+79123456789",
			Kind: "citizen", GivenName: "Анна", FamilyName: "Иванова", MiddleName: "Сергеевна",
			GivenNameLatin: "Anna", FamilyNameLatin: "Ivanova", MiddleNameLatin: "Sergeevna",
			Birthdate: "1990-05-17", Citizenships: []string{"AM", "KZ", "RU"}, CountryOfResidence: "DE",
			Locale: "en-US", Assurance: "standard", HasPassword: true,
		}
		if !hexID.MatchString(created.ID) {
			t.Errorf("id %q, want 32 hex characters", created.ID)
		}
		if !reflect.DeepEqual(created, want) {
			t.Errorf("users create --json:\n got %+v\nwant %+v", created, want)
		}

		// list --json and list
		list := listUsers(t, b)
		if len(list) != 1 || !reflect.DeepEqual(list[0], want) {
			t.Fatalf("users list --json: %+v, want [%+v]", list, want)
		}
		stdout, stderr, code = b.run(t, "", "users", "list")
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "USERNAME") || !regexp.MustCompile(`(?m)^anna\.ivanova +`+created.ID+` +citizen +standard +active$`).MatchString(stdout) {
			t.Errorf("users list:\n%s", stdout)
		}

		// show by ID and by a differently cased or width-variant username
		for _, who := range []string{created.ID, "ANNA.IVANOVA", "Ａｎｎａ.Ivanova", " anna.ivanova "} {
			var raw map[string]any
			b.mustJSON(t, &raw, "users", "show", who, "--json")
			checkAccountKeys(t, raw)
			var shown userOut
			b.mustJSON(t, &shown, "users", "show", "--json", who)
			if !reflect.DeepEqual(shown, want) {
				t.Errorf("users show %q --json: %+v", who, shown)
			}
		}
		stdout, stderr, code = b.run(t, "", "users", "show", "Anna.Ivanova")
		wantOK(t, code, stdout, stderr)
		for _, line := range []string{"username:", "anna.ivanova", "status:", "active", "name:", "Анна Сергеевна Иванова",
			"name (Latin):", "Anna Sergeevna Ivanova", "citizenships:", "AM, KZ, RU", "anna@example.org"} {
			if !strings.Contains(stdout, line) {
				t.Errorf("users show does not contain %q:\n%s", line, stdout)
			}
		}

		// set-password: the old password stops working, the new one works
		if err := authenticate(t, b, "anna.ivanova", password); err != nil {
			t.Fatalf("the password given at creation does not authenticate: %v", err)
		}
		// and whoever signed in with the old one is signed out.
		func() {
			db, err := openDatabase(t.Context(), &b.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for range 2 {
				if _, _, err := (&accounts.Sessions{Store: db}).Create(t.Context(), created.ID, accounts.Authentication{Time: timeNow(), AMR: []string{"pwd"}}, "ua", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			}
			// A guesser had locked unknown browsers out; the new password
			// ends the owner's device cookies, so it lifts that too.
			if !passwordsLocked(t, db, "anna.ivanova", true) {
				t.Fatal("wrong passwords did not lock unknown browsers out")
			}
		}()
		const newPassword = "a brand new passphrase"
		stdout, stderr, code = b.run(t, newPassword+"\r\n", "users", "set-password", "ANNA.IVANOVA", "--password-stdin")
		wantOK(t, code, stdout, stderr)
		if stdout != "password changed for anna.ivanova; ended 2 sign-in sessions\n" {
			t.Errorf("set-password printed %q", stdout)
		}
		func() {
			db, err := openDatabase(t.Context(), &b.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if passwordsLocked(t, db, "anna.ivanova", false) {
				t.Error("set-password left the password lock-out")
			}
		}()
		if err := authenticate(t, b, "anna.ivanova", password); err == nil {
			t.Error("the old password still works after set-password")
		}
		if err := authenticate(t, b, "anna.ivanova", newPassword); err != nil {
			t.Errorf("the new password does not work: %v", err)
		}

		// set-password refusals leave the password alone
		_, stderr, code = b.run(t, "Anna.Ivanova\n", "users", "set-password", created.ID, "--password-stdin")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "password must not be the same as the username")
		_, stderr, code = b.run(t, "short\n", "users", "set-password", "anna.ivanova", "--password-stdin")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "password must be at least 10 characters")
		_, stderr, code = b.run(t, newPassword+"\n", "users", "set-password", "anna.ivanova")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "--password-stdin is required")
		_, stderr, code = b.run(t, "", "users", "set-password", "anna.ivanova", "--password-stdin")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "no password on standard input")
		_, stderr, code = b.run(t, "another fine passphrase\n", "users", "set-password", "nobody", "--password-stdin")
		wantFail(t, code, stderr, exitMissing, "propusk users: ", `account "nobody": not found`)
		if err := authenticate(t, b, "anna.ivanova", newPassword); err != nil {
			t.Errorf("a refused set-password changed the password: %v", err)
		}

		// disable, then disable again
		stdout, stderr, code = b.run(t, "", "users", "disable", "Anna.Ivanova")
		wantOK(t, code, stdout, stderr)
		if stdout != "disabled account anna.ivanova ("+created.ID+"); ended 0 sign-in sessions and 0 grants\n" {
			t.Errorf("disable printed %q", stdout)
		}
		var shown userOut
		b.mustJSON(t, &shown, "users", "show", created.ID, "--json")
		if !shown.Disabled || shown.DisabledAt == nil {
			t.Errorf("after disable: disabled %v, disabled_at %v", shown.Disabled, shown.DisabledAt)
		}
		stdout, _, _ = b.run(t, "", "users", "list")
		if !regexp.MustCompile(`(?m)^anna\.ivanova .* disabled$`).MatchString(stdout) {
			t.Errorf("users list after disable:\n%s", stdout)
		}
		_, stderr, code = b.run(t, "", "users", "disable", "anna.ivanova")
		wantFail(t, code, stderr, exitFailure, "propusk users: ", "account anna.ivanova is already disabled")
		if err := authenticate(t, b, "anna.ivanova", newPassword); err == nil {
			t.Error("a disabled account authenticates")
		}
		if got := listUsers(t, b); len(got) != 1 || !got[0].Disabled {
			t.Errorf("users list --json after disable: %+v", got)
		}
	})
}

// TestUsersBadInput: every refusal has its exit status and one line on
// stderr, and leaves no account behind.
func TestUsersBadInput(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "anna's password\n", "users", "create", "--username", "anna", "--kind", "compatriot", "--password-stdin")
		wantOK(t, code, stdout, stderr)
		if !regexp.MustCompile(`^created account anna \([0-9a-f]{32}\)\n$`).MatchString(stdout) {
			t.Errorf("users create printed %q", stdout)
		}
		const good = "a long enough password"
		create := func(extra ...string) []string {
			return append([]string{"users", "create", "--password-stdin"}, extra...)
		}
		boris := []string{"--username", "boris", "--kind", "foreign_national"}
		for _, tc := range []struct {
			name    string
			stdin   string
			args    []string
			code    int
			phrases []string
		}{
			{"unknown subcommand", "", []string{"users", "frob"}, exitUsage, []string{`unknown subcommand "frob"`}},
			{"unknown flag", good, append(create(boris...), "--bogus"), exitUsage, []string{"flag provided but not defined: -bogus"}},
			{"unknown flag on list", "", []string{"users", "list", "--password-stdin"}, exitUsage, []string{"flag provided but not defined: -password-stdin"}},
			{"positional on create", good, append(create(boris...), "boris"), exitUsage, []string{`unexpected argument "boris"`}},
			{"missing --password-stdin", good, []string{"users", "create", "--username", "boris", "--kind", "foreign_national"},
				exitUsage, []string{"--password-stdin is required", "never taken on the command line"}},
			{"missing username and kind", good, create(), exitUsage, []string{"missing --username and --kind"}},
			{"empty stdin", "", create(boris...), exitUsage, []string{"no password on standard input"}},
			{"blank line on stdin", "\n", create(boris...), exitUsage, []string{"no password on standard input"}},
			{"password too long", strings.Repeat("x", 5000), create(boris...), exitUsage, []string{"password on standard input is too long"}},
			{"password too short", "s3cr3t\n", create(boris...), exitUsage, []string{"password must be at least 10 characters"}},
			{"password 129 characters", strings.Repeat("я", 129), create(boris...), exitUsage, []string{"password must be at most 128 characters"}},
			{"password equals username", "BORIS.PETROV\n", create("--username", "Boris.Petrov", "--kind", "compatriot"),
				exitUsage, []string{"password must not be the same as the username"}},
			{"password equals e-mail local part", "boris.petrov\n", create("--username", "Boris.Petrov@example.org", "--kind", "compatriot"),
				exitUsage, []string{"password must not be the same as the username"}},
			{"bad username", good, create("--username", "bo", "--kind", "compatriot"), exitUsage, []string{"username must be 3 to 64 characters"}},
			{"bad kind", good, create("--username", "boris", "--kind", "martian"), exitUsage, []string{`unknown account kind "martian"`}},
			{"bad country code", good, create(append(boris, "--citizenship", "DE,SU")...), exitUsage, []string{`citizenship: unknown country code "SU"`}},
			{"three-letter country code", good, create("--username", "boris", "--kind", "compatriot", "--residence", "RUS"),
				exitUsage, []string{`country of residence: unknown country code "RUS"`}},
			{"citizen without RU", good, create("--username", "boris", "--kind", "citizen", "--citizenship", "KZ"),
				exitUsage, []string{"a citizen account must list RU among citizenships"}},
			{"foreign national with RU", good, create(append(boris, "--citizenship", "kz,ru")...),
				exitUsage, []string{"a foreign national account must not list RU among citizenships"}},
			{"every problem at once", "short\n", create("--username", "b!", "--kind", "citizen", "--birthdate", "17.05.1990", "--email", "nope", "--assurance", "total"),
				exitUsage, []string{"username", "birthdate must be a date in the form YYYY-MM-DD", "email", "must list RU", `unknown assurance level "total"`, "at least 10 characters", "; "}},
			{"duplicate username", good, create("--username", "anna", "--kind", "compatriot"), exitExists, []string{`username "anna" is taken`}},
			{"duplicate username, other case", good, create("--username", "ANNA", "--kind", "foreign_national"), exitExists, []string{`username "anna" is taken`}},
			{"duplicate username, fullwidth", good, create("--username", "ａｎｎａ", "--kind", "foreign_national"), exitExists, []string{`username "anna" is taken`}},
			{"show unknown", "", []string{"users", "show", "nobody"}, exitMissing, []string{`account "nobody": not found`}},
			{"show unknown ID", "", []string{"users", "show", "0123456789abcdef0123456789abcdef"}, exitMissing, []string{"not found"}},
			{"disable unknown", "", []string{"users", "disable", "nobody"}, exitMissing, []string{`account "nobody": not found`}},
			{"show without name", "", []string{"users", "show"}, exitUsage, []string{"missing username or account ID"}},
			{"show two names", "", []string{"users", "show", "anna", "boris"}, exitUsage, []string{`unexpected argument "boris"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				stdout, stderr, code := b.run(t, tc.stdin, tc.args...)
				wantFail(t, code, stderr, tc.code, "propusk users: ", tc.phrases...)
				if stdout != "" {
					t.Errorf("stdout %q, want nothing", stdout)
				}
				if pw := strings.TrimSpace(tc.stdin); len(pw) >= 6 && strings.Contains(stderr, pw) {
					t.Errorf("stderr echoes the password: %q", stderr)
				}
			})
		}
		if got := usernames(listUsers(t, b)); !slices.Equal(got, []string{"anna"}) {
			t.Errorf("after the refused commands, users are %q, want only anna", got)
		}
		if err := authenticate(t, b, "anna", "anna's password"); err != nil {
			t.Errorf("anna's password changed: %v", err)
		}
	})
}

// TestUsersLockedSQLite: a writer holding the file's lock makes users create
// fail after busy_timeout, with a message that says so, and write nothing.
func TestUsersLockedSQLite(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	path := filepath.Join(t.TempDir(), "locked.db")
	env := map[string]string{"PROPUSK_DATA_DIR": dataDir}
	dsn := "sqlite://" + path + "?busy_timeout=100ms"

	stdout, stderr, code := runCLI(t, env, "", "migrate", "--database", dsn)
	wantOK(t, code, stdout, stderr)

	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	unlock := func() {
		if locked {
			locked = false
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Error(err)
			}
		}
	}
	defer unlock()

	_, stderr, code = runCLI(t, env, "a long enough password\n",
		"users", "create", "--username", "anna", "--kind", "compatriot", "--password-stdin", "--database", dsn)
	wantFail(t, code, stderr, exitFailure, "propusk users: ", "busy", "locked", "try again")

	unlock()
	stdout, stderr, code = runCLI(t, env, "", "users", "list", "--json", "--database", dsn)
	wantOK(t, code, stdout, stderr)
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("after the failed create, users list --json: %s", stdout)
	}
}

// TestUsersPasswordFromStdinOnly: the password is the first line of stdin;
// whatever follows is ignored, not appended.
func TestUsersPasswordFirstLine(t *testing.T) {
	t.Parallel()
	b := newSQLite(t)
	stdout, stderr, code := b.run(t, "first line password\nsecond line\n", "users", "create",
		"--username", "vera", "--kind", "foreign_national", "--password-stdin")
	wantOK(t, code, stdout, stderr)
	if err := authenticate(t, b, "vera", "first line password"); err != nil {
		t.Errorf("the first line of stdin is not the password: %v", err)
	}
}

// auditOf reads an account's audit events of one type, newest first.
func auditOf(t *testing.T, b *backendFixture, accountID, typ string) []store.AuditEvent {
	t.Helper()
	db, err := openDatabase(t.Context(), &b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.ListAudit(t.Context(), store.AuditFilter{AccountID: accountID, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestUsersEmailVerified: an operator records an address checked elsewhere
// (relying parties such as oauth2-proxy refuse email_verified false), on
// create or later with users update; every change is audited with the
// operator's name, and the ID token and userinfo then say so.
func TestUsersEmailVerified(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		b.env["USER"] = "olga"
		const password = "correct horse battery"
		var acc accountJSON
		stdout, stderr, code := b.run(t, password+"\n", "users", "create", "--username", "anna", "--kind", "compatriot",
			"--citizenship", "KZ", "--email", "anna@example.org", "--email-verified", "--password-stdin", "--json")
		wantOK(t, code, stdout, stderr)
		if err := json.Unmarshal([]byte(stdout), &acc); err != nil || !acc.EmailVerified || acc.Email != "anna@example.org" {
			t.Fatalf("users create --email-verified: %v %s", err, stdout)
		}
		events := auditOf(t, b, acc.ID, "account.email_verified")
		if len(events) != 1 || events[0].ActorID != "admin:olga" || events[0].Details["email_verified"] != "true" {
			t.Fatalf("audit after create: %+v", events)
		}

		_, stderr, code = b.run(t, password+"\n", "users", "create", "--username", "boris", "--kind", "compatriot",
			"--email-verified", "--password-stdin")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "--email-verified needs --email")

		show := func() accountJSON {
			var a accountJSON
			b.mustJSON(t, &a, "users", "show", "anna", "--json")
			return a
		}
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--email-verified=false")
		wantOK(t, code, stdout, stderr)
		if got := show(); got.EmailVerified {
			t.Fatal("--email-verified=false left the address verified")
		}
		// A new address is unchecked: the old check does not carry over.
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--email-verified")
		wantOK(t, code, stdout, stderr)
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--email", "anna@example.net", "--given-name", "Анна")
		wantOK(t, code, stdout, stderr)
		if !strings.Contains(stdout, "email, given_name, email_verified") {
			t.Errorf("users update: %q", stdout)
		}
		if got := show(); got.EmailVerified || got.Email != "anna@example.net" || got.GivenName != "Анна" {
			t.Fatalf("after a new address: %+v", got)
		}
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--email", "anna@example.org", "--email-verified")
		wantOK(t, code, stdout, stderr)
		if got := show(); !got.EmailVerified || got.Email != "anna@example.org" {
			t.Fatalf("after --email with --email-verified: %+v", got)
		}
		events = auditOf(t, b, acc.ID, "account.email_verified")
		var trail []string
		for _, e := range slices.Backward(events) {
			trail = append(trail, e.Details["email_verified"])
			if e.ActorID != "admin:olga" {
				t.Errorf("audit actor %q", e.ActorID)
			}
		}
		if want := []string{"true", "false", "true", "false", "true"}; !slices.Equal(trail, want) {
			t.Errorf("email_verified audit trail %v, want %v", trail, want)
		}
		if ev := auditOf(t, b, acc.ID, "account.updated"); len(ev) != 2 || ev[1].Details["fields"] != "email,given_name" {
			t.Errorf("account.updated events: %+v", ev)
		}

		for _, tc := range []struct {
			args   []string
			code   int
			phrase string
		}{
			{[]string{"users", "update", "anna"}, exitUsage, "nothing to update"},
			{[]string{"users", "update", "anna", "--kind", "citizen"}, exitUsage, "must list RU"},
			{[]string{"users", "update", "anna", "--email", "", "--email-verified"}, exitUsage, "has no e-mail address"},
			{[]string{"users", "update", "ghost", "--email-verified"}, exitMissing, "ghost"},
		} {
			_, stderr, code := b.run(t, "", tc.args...)
			wantFail(t, code, stderr, tc.code, "propusk users: ", tc.phrase)
		}

		// The relying party sees the check.
		db, err := openDatabase(t.Context(), &b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ring, err := secretsRing(&b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := startIDP(t, db, ring)
		cfg, provider := p.rp(t, clients.Registration{})
		pkce := oauth2.GenerateVerifier()
		back := newBrowser(t).signIn(cfg.AuthCodeURL(random(t), oauth2.S256ChallengeOption(pkce)), "anna", password, nil)
		tok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		ui, err := provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil || !ui.EmailVerified || ui.Email != "anna@example.org" {
			t.Fatalf("userinfo: %+v %v", ui, err)
		}
	})
}
