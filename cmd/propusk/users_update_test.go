package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/store"
)

// holdAccountRow runs change on the account row in an open PostgreSQL
// transaction, then runs during while that row stays locked; once another
// backend is blocked on the lock, the transaction commits. It stands for a
// second administrator (or the web) changing the account at the same time
// as the command under test.
func holdAccountRow(t *testing.T, b *backendFixture, change string, during func(done chan<- struct{})) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, b.cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, change); err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go during(done)

	// Wait until the command is blocked on the row: it has read the
	// account already (outside its transaction) and now waits in
	// UpdateAccount's SELECT … FOR UPDATE.
	probe, err := pgx.Connect(ctx, b.cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := probe.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case <-done:
			t.Fatal("the command finished without waiting for the row")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never blocked on the account row")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
}

// TestUsersUpdateConcurrentChange: users update must build the new profile
// from the row UpdateAccount hands its updater, not from an earlier read.
// Otherwise a change made meanwhile is silently reverted (no audit event
// says so) or, for email_verified, kept for an address nobody checked.
func TestUsersUpdateConcurrentChange(t *testing.T) {
	t.Parallel()
	b := newPostgres(t)
	const password = "correct horse battery"
	stdout, stderr, code := b.run(t, password+"\n", "users", "create", "--username", "anna", "--kind", "compatriot",
		"--citizenship", "KZ", "--email", "old@example.org", "--password-stdin")
	wantOK(t, code, stdout, stderr)
	show := func() accountJSON {
		var a accountJSON
		b.mustJSON(t, &a, "users", "show", "anna", "--json")
		return a
	}

	t.Run("email_verified kept for a new address", func(t *testing.T) {
		// Another operator records the check of old@example.org while this
		// one changes the address to new@example.org.
		holdAccountRow(t, b, "UPDATE accounts SET email_verified = true WHERE username = 'anna'", func(done chan<- struct{}) {
			defer close(done)
			stdout, stderr, code := b.run(t, "", "users", "update", "anna", "--email", "new@example.org")
			if code != exitOK {
				t.Errorf("users update: %d %s %s", code, stdout, stderr)
			}
		})
		if got := show(); got.Email == "new@example.org" && got.EmailVerified {
			t.Errorf("new@example.org is email_verified: the check was of old@example.org: %+v", got)
		}
	})

	t.Run("concurrent change reverted without audit", func(t *testing.T) {
		b.run(t, "", "users", "update", "anna", "--email", "old@example.org", "--email-verified=false")
		holdAccountRow(t, b, "UPDATE accounts SET family_name = 'Petrova' WHERE username = 'anna'", func(done chan<- struct{}) {
			defer close(done)
			stdout, stderr, code := b.run(t, "", "users", "update", "anna", "--given-name", "Anna")
			if code != exitOK {
				t.Errorf("users update: %d %s %s", code, stdout, stderr)
			}
		})
		got := show()
		if got.GivenName != "Anna" {
			t.Fatalf("given name not updated: %+v", got)
		}
		if got.FamilyName != "Petrova" {
			acc := got.ID
			ev := auditOf(t, b, acc, "account.updated")
			var fields []string
			for _, e := range ev {
				fields = append(fields, e.Details["fields"])
			}
			t.Errorf("users update --given-name reverted the family name set meanwhile to %q; audited fields: %s", got.FamilyName, strings.Join(fields, " | "))
		}
	})
}

// TestUsersUpdateAuditsOnlyChanges: a value given in another spelling of
// what is stored is no change: compared before normalisation, it was
// audited (and reported) as one.
func TestUsersUpdateAuditsOnlyChanges(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		const password = "correct horse battery"
		var acc accountJSON
		stdout, stderr, code := b.run(t, password+"\n", "users", "create", "--username", "anna", "--kind", "compatriot",
			"--citizenship", "KZ", "--email", "anna@example.org", "--phone", "+79991234567", "--password-stdin", "--json")
		wantOK(t, code, stdout, stderr)
		b.mustJSON(t, &acc, "users", "show", "anna", "--json")
		for _, args := range [][]string{
			{"--email", "anna@EXAMPLE.org"},
			{"--phone", "+7 (999) 123-45-67"},
			{"--citizenship", "kz"},
		} {
			stdout, stderr, code := b.run(t, "", append([]string{"users", "update", "anna"}, args...)...)
			wantOK(t, code, stdout, stderr)
			var now accountJSON
			b.mustJSON(t, &now, "users", "show", "anna", "--json")
			if now.Email != acc.Email || now.Phone != acc.Phone || strings.Join(now.Citizenships, ",") != strings.Join(acc.Citizenships, ",") {
				t.Fatalf("bad test: %v changed the account: %+v", args, now)
			}
			if !strings.Contains(stdout, "unchanged") {
				t.Errorf("users update %v changed nothing but says: %q", args, stdout)
			}
		}
		if ev := auditOf(t, b, acc.ID, "account.updated"); len(ev) != 0 {
			var fields []string
			for _, e := range ev {
				fields = append(fields, e.Details["fields"])
			}
			t.Errorf("%d account.updated events for no change: fields %s", len(ev), strings.Join(fields, " | "))
		}
	})
}

// TestAdminCommandsWithoutSecretsKey: users unlock and users reset-mfa
// open nothing sealed (they clear counters and delete rows), nor do clients
// list, show and delete: on PostgreSQL they must work without the secrets
// key (issue 12 point 6: only commands that open sealed values need it).
func TestAdminCommandsWithoutSecretsKey(t *testing.T) {
	t.Parallel()
	b := newPostgres(t)
	stdout, stderr, code := b.run(t, "a long enough password\n", "users", "create", "--username", "vera", "--kind", "foreign_national", "--password-stdin")
	wantOK(t, code, stdout, stderr)
	stdout, stderr, code = b.run(t, "", "clients", "create", "--id", "card", "--name", "Card", "--redirect-uri", "https://card.example.org/cb")
	wantOK(t, code, stdout, stderr)
	env := b.withEnv(map[string]string{"PROPUSK_SECRETS_KEY": ""})
	for _, cmd := range [][]string{
		{"users", "unlock", "vera", "--reason", "checked"},
		{"users", "reset-mfa", "vera", "--reason", "lost phone"},
		{"clients", "list"},
		{"clients", "show", "card"},
		{"clients", "delete", "card"},
	} {
		stdout, stderr, code := runCLI(t, env, "", append(cmd, b.args...)...)
		if code != exitOK {
			t.Errorf("propusk %s without the secrets key: exit %d: %s%s", strings.Join(cmd, " "), code, stdout, stderr)
		}
	}
}

// TestUsersUpdatePhoneUnverified: phone_verified is about the number that
// was checked; a new number is unchecked, the same one written differently
// is not new.
func TestUsersUpdatePhoneUnverified(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "a long enough password\n", "users", "create", "--username", "anna", "--kind", "foreign_national",
			"--phone", "+79991234567", "--password-stdin")
		wantOK(t, code, stdout, stderr)
		var acc accountJSON
		b.mustJSON(t, &acc, "users", "show", "anna", "--json")
		db, err := openDatabase(t.Context(), &b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// No command records a phone check yet: the web's SMS check would.
		if _, err := db.UpdateAccount(t.Context(), acc.ID, func(a store.Account) (store.Account, error) {
			a.PhoneVerified = true
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		show := func() accountJSON {
			var a accountJSON
			b.mustJSON(t, &a, "users", "show", "anna", "--json")
			return a
		}
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--phone", "+7 999 123 45 67")
		wantOK(t, code, stdout, stderr)
		if got := show(); !got.PhoneVerified {
			t.Errorf("the same number, written differently, lost phone_verified: %+v", got)
		}
		stdout, stderr, code = b.run(t, "", "users", "update", "anna", "--phone", "+79997654321")
		wantOK(t, code, stdout, stderr)
		if !strings.Contains(stdout, ": phone, phone_verified") {
			t.Errorf("users update --phone: %q", stdout)
		}
		if got := show(); got.PhoneVerified || got.Phone != "+79997654321" {
			t.Errorf("a new number kept phone_verified: %+v", got)
		}
		if ev := auditOf(t, b, acc.ID, "account.updated"); len(ev) != 1 || ev[0].Details["fields"] != "phone,phone_verified" {
			t.Errorf("account.updated events: %+v", ev)
		}
	})
}
