package main

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
)

// mfaFixture is a second-factor service over the command's database, as
// the web handlers will build it.
type mfaFixture struct {
	db  database
	svc *mfa.Service
	clk *clock.Fake
}

func newMFAFixture(t *testing.T, b *backendFixture) *mfaFixture {
	t.Helper()
	db, err := openDatabase(t.Context(), &b.cfg)
	if err != nil {
		t.Fatalf("open the command's database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ring, err := secretsRing(&b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, err := serverSecret(t.Context(), db, ring, recoveryKeyName, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	// The middle of a time step, so that neighbouring steps are clear.
	clk := clock.NewFake(time.Now().UTC().Truncate(mfa.Period).Add(mfa.Period / 2))
	return &mfaFixture{db: db, svc: &mfa.Service{Store: db, Ring: ring, RecoveryKey: key, Clock: clk.Now}, clk: clk}
}

// totpCode is the code of secret at time at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{
		Period: uint(mfa.Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrol adds a confirmed authenticator and returns its base32 secret.
func (f *mfaFixture) enrol(t *testing.T, accountID, username string) string {
	t.Helper()
	en, err := f.svc.Begin(t.Context(), accountID, username, "phone", false, mfa.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(en.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Confirm(t.Context(), accountID, en.AuthenticatorID, totpCode(t, key.Secret(), f.clk.Now()), false, mfa.Meta{}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return key.Secret()
}

// lockOut sends wrong codes until the second factor locks.
func (f *mfaFixture) lockOut(t *testing.T, accountID, secret string) {
	t.Helper()
	now := f.clk.Now()
	var right []string
	for d := -mfa.Skew; d <= mfa.Skew; d++ {
		right = append(right, totpCode(t, secret, now.Add(time.Duration(d)*mfa.Period)))
	}
	wrong := "000000"
	for i := 1; slices.Contains(right, wrong); i++ {
		wrong = strings.Repeat(string(rune('0'+i)), mfa.Digits)
	}
	var err error
	for range mfa.FreeFailures {
		err = f.svc.Verify(t.Context(), accountID, wrong, mfa.Meta{})
	}
	if le := (*mfa.LockedError)(nil); !errors.As(err, &le) {
		t.Fatalf("after %d wrong codes: %v, want a lock-out", mfa.FreeFailures, err)
	}
}

// wantLocked checks that a right code is refused for the lock.
func (f *mfaFixture) wantLocked(t *testing.T, accountID, code string, hard bool) {
	t.Helper()
	err := f.svc.Verify(t.Context(), accountID, code, mfa.Meta{})
	if le := (*mfa.LockedError)(nil); !errors.As(err, &le) || le.Hard != hard {
		t.Fatalf("a right code while locked: %v, want a lock-out (hard %v)", err, hard)
	}
}

// adminRun runs a command as the OS user user (empty: none set).
func adminRun(t *testing.T, b *backendFixture, user string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, b.withEnv(map[string]string{"USER": user}), "", append(slices.Clone(args), b.args...)...)
}

func createUser(t *testing.T, b *backendFixture, username string) userOut {
	t.Helper()
	stdout, stderr, code := b.run(t, "a long enough password\n", "users", "create",
		"--username", username, "--kind", "foreign_national", "--password-stdin", "--json")
	wantOK(t, code, stdout, stderr)
	var u userOut
	if err := json.Unmarshal([]byte(stdout), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// auditEvents returns the account's events of type typ, newest first.
func auditEvents(t *testing.T, st store.Audit, accountID, typ string) []store.AuditEvent {
	t.Helper()
	events, err := st.ListAudit(t.Context(), store.AuditFilter{AccountID: accountID, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func wantAudit(t *testing.T, e store.AuditEvent, typ, actor, reason string) {
	t.Helper()
	if e.Type != typ || e.ActorID != actor || e.Details["reason"] != reason {
		t.Errorf("audit event %s by %q with reason %q; want %s by %q with reason %q",
			e.Type, e.ActorID, e.Details["reason"], typ, actor, reason)
	}
}

// passwordsLocked reports whether username's account refuses unknown
// browsers, after filling its consecutive wrong passwords up to the limit
// first when fill (a small limit, the rule is the same). The probe counts
// one more failure when it is let through.
func passwordsLocked(t *testing.T, db store.Throttles, username string, fill bool) bool {
	t.Helper()
	th := &accounts.LoginThrottle{Store: db, AccountAttempts: 3, AccountFailures: 3}
	for range 3 {
		if !fill {
			break
		}
		if _, err := th.Reserve(t.Context(), username, "192.0.2.1", ""); err != nil {
			t.Fatal(err)
		}
	}
	r, err := th.Reserve(t.Context(), username, "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	return r.Locked
}

func TestUsersUnlockAndResetMFA(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		ctx := t.Context()
		vera := createUser(t, b, "vera")
		f := newMFAFixture(t, b)
		secret := f.enrol(t, vera.ID, vera.Username)
		// A second, unfinished enrolment goes with the reset as well.
		if _, err := f.svc.Begin(ctx, vera.ID, vera.Username, "tablet", true, mfa.Meta{}); err != nil {
			t.Fatal(err)
		}
		if codes, err := f.svc.NewRecoveryCodes(ctx, vera.ID, mfa.Meta{}); err != nil || len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("recovery codes: %d, %v", len(codes), err)
		}

		// unlock lifts a lock-out: a right code of a later step works at once.
		f.lockOut(t, vera.ID, secret)
		next := totpCode(t, secret, f.clk.Now().Add(mfa.Period))
		f.wantLocked(t, vera.ID, next, false)
		// And the password's lock-out, after 100 consecutive wrong ones.
		if !passwordsLocked(t, f.db, "vera", true) {
			t.Fatal("wrong passwords did not lock unknown browsers out")
		}
		stdout, stderr, code := adminRun(t, b, "olga", "users", "unlock", "VERA", "--reason", "  called the help desk  ")
		wantOK(t, code, stdout, stderr)
		if stdout != "second factor unlocked and wrong passwords forgotten for vera\n" {
			t.Errorf("users unlock printed %q", stdout)
		}
		if passwordsLocked(t, f.db, "vera", false) {
			t.Error("users unlock left the password lock-out")
		}
		cleared := auditEvents(t, f.db, vera.ID, "account.password_attempts_cleared")
		if len(cleared) != 1 {
			t.Fatalf("%d account.password_attempts_cleared events, want 1", len(cleared))
		}
		wantAudit(t, cleared[0], "account.password_attempts_cleared", "admin:olga", "called the help desk")
		if err := f.svc.Verify(ctx, vera.ID, next, mfa.Meta{}); err != nil {
			t.Fatalf("a right code after unlock: %v", err)
		}
		events := auditEvents(t, f.db, vera.ID, "mfa.unlocked")
		if len(events) != 1 {
			t.Fatalf("%d mfa.unlocked events, want 1", len(events))
		}
		wantAudit(t, events[0], "mfa.unlocked", "admin:olga", "called the help desk")

		// ... and the hard lock-out, by account ID, with --json.
		if _, err := f.db.UpdateMFAState(ctx, vera.ID, func(st store.MFAState) (store.MFAState, error) {
			st.TotalFailures = mfa.HardLimit
			return st, nil
		}); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(mfa.Period)
		next = totpCode(t, secret, f.clk.Now().Add(mfa.Period))
		f.wantLocked(t, vera.ID, next, true)
		var unlocked map[string]any
		stdout, stderr, code = adminRun(t, b, "olga", "users", "unlock", vera.ID, "--json", "--reason", "hard lock")
		wantOK(t, code, stdout, stderr)
		if err := json.Unmarshal([]byte(stdout), &unlocked); err != nil {
			t.Fatalf("users unlock --json: %v\n%s", err, stdout)
		}
		if want := map[string]any{"account_id": vera.ID, "username": "vera", "unlocked": true}; !maps.Equal(unlocked, want) {
			t.Errorf("users unlock --json: %v, want %v", unlocked, want)
		}
		if err := f.svc.Verify(ctx, vera.ID, next, mfa.Meta{}); err != nil {
			t.Fatalf("a right code after lifting the hard lock-out: %v", err)
		}

		// reset-mfa removes every authenticator and recovery code and
		// lifts the lock.
		f.clk.Advance(mfa.Period)
		f.lockOut(t, vera.ID, secret)
		// A session that proved the app (on the lost phone, say) ends too.
		stolen, _, err := (&accounts.Sessions{Store: f.db}).Create(ctx, vera.ID, accounts.Authentication{Time: timeNow(), AMR: []string{"pwd", "otp"}}, "phone", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code = adminRun(t, b, "olga", "users", "reset-mfa", "vera", "--reason", "lost her phone")
		wantOK(t, code, stdout, stderr)
		if stdout != "second factor reset for vera: 2 authenticators removed, 1 sign-in sessions ended\n" {
			t.Errorf("users reset-mfa printed %q", stdout)
		}
		if _, err := (&accounts.Sessions{Store: f.db}).Lookup(ctx, stolen); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("a session that proved the removed app survived the reset: %v", err)
		}
		if auths, err := f.svc.List(ctx, vera.ID); err != nil || len(auths) != 0 {
			t.Errorf("after reset: %d authenticators (%v), want none", len(auths), err)
		}
		if n, err := f.svc.RecoveryCodesLeft(ctx, vera.ID); err != nil || n != 0 {
			t.Errorf("after reset: %d recovery codes (%v), want none", n, err)
		}
		if st, err := f.db.GetMFAState(ctx, vera.ID); err != nil || st.Failures != 0 || st.TotalFailures != 0 || !st.LockedUntil.IsZero() {
			t.Errorf("after reset: state %+v (%v), want no failures and no lock", st, err)
		}
		if err := f.svc.Verify(ctx, vera.ID, totpCode(t, secret, f.clk.Now().Add(mfa.Period)), mfa.Meta{}); !errors.Is(err, mfa.ErrNoAuthenticator) {
			t.Errorf("the removed authenticator's code after reset: %v, want %v", err, mfa.ErrNoAuthenticator)
		}
		// The person can enrol again.
		f.clk.Advance(mfa.Period)
		f.enrol(t, vera.ID, vera.Username)

		resets := auditEvents(t, f.db, vera.ID, "mfa.reset")
		if len(resets) != 1 {
			t.Fatalf("%d mfa.reset events, want 1", len(resets))
		}
		wantAudit(t, resets[0], "mfa.reset", "admin:olga", "lost her phone")
		if got := resets[0].Details["authenticators_removed"]; got != "2" {
			t.Errorf("mfa.reset authenticators_removed %q, want 2", got)
		}
		events = auditEvents(t, f.db, vera.ID, "mfa.unlocked")
		if len(events) != 3 {
			t.Fatalf("%d mfa.unlocked events, want 3", len(events))
		}
		wantAudit(t, events[0], "mfa.unlocked", "admin:olga", "lost her phone")
		wantAudit(t, events[1], "mfa.unlocked", "admin:olga", "hard lock")
	})
}

// TestUsersResetMFANoSecondFactor: a reset of an account that never set up
// a second factor succeeds and says so; without $USER the actor is
// admin:cli.
func TestUsersResetMFANoSecondFactor(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		gleb := createUser(t, b, "gleb")
		stdout, stderr, code := adminRun(t, b, "", "users", "reset-mfa", "gleb", "--reason", "precaution")
		wantOK(t, code, stdout, stderr)
		if stdout != "second factor reset for gleb: 0 authenticators removed, 0 sign-in sessions ended\n" {
			t.Errorf("users reset-mfa printed %q", stdout)
		}
		var out map[string]any
		stdout, stderr, code = adminRun(t, b, "", "users", "reset-mfa", "--json", gleb.ID, "--reason", "again")
		wantOK(t, code, stdout, stderr)
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("users reset-mfa --json: %v\n%s", err, stdout)
		}
		if want := map[string]any{"account_id": gleb.ID, "username": "gleb", "authenticators_removed": float64(0), "sessions_ended": float64(0)}; !maps.Equal(out, want) {
			t.Errorf("users reset-mfa --json: %v, want %v", out, want)
		}
		f := newMFAFixture(t, b)
		resets := auditEvents(t, f.db, gleb.ID, "mfa.reset")
		if len(resets) != 2 {
			t.Fatalf("%d mfa.reset events, want 2", len(resets))
		}
		wantAudit(t, resets[0], "mfa.reset", "admin:cli", "again")
		wantAudit(t, resets[1], "mfa.reset", "admin:cli", "precaution")
	})
}

// TestUsersMFAErrors: a missing reason or account is refused before
// anything is written.
func TestUsersMFAErrors(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		createUser(t, b, "anna")
		for _, sub := range []string{"reset-mfa", "unlock"} {
			_, stderr, code := adminRun(t, b, "olga", "users", sub, "anna")
			wantFail(t, code, stderr, exitUsage, "propusk users: ", "--reason is required")
			_, stderr, code = adminRun(t, b, "olga", "users", sub, "anna", "--reason", " \t ")
			wantFail(t, code, stderr, exitUsage, "propusk users: ", "--reason is required")
			_, stderr, code = adminRun(t, b, "olga", "users", sub, "--reason", "why")
			wantFail(t, code, stderr, exitUsage, "propusk users: ", "missing username or account ID")
			_, stderr, code = adminRun(t, b, "olga", "users", sub, "anna", "boris", "--reason", "why")
			wantFail(t, code, stderr, exitUsage, "propusk users: ", `unexpected argument "boris"`)
			_, stderr, code = adminRun(t, b, "olga", "users", sub, "nobody", "--reason", "why")
			wantFail(t, code, stderr, exitMissing, "propusk users: ", `account "nobody": not found`)
		}
		f := newMFAFixture(t, b)
		if events, err := f.db.ListAudit(t.Context(), store.AuditFilter{}); err != nil || len(events) != 0 {
			t.Errorf("refused commands wrote %d audit events (%v), want none", len(events), err)
		}

		_, stderr, code := adminRun(t, b, "olga", "users", "frobnicate")
		wantFail(t, code, stderr, exitUsage, "propusk users: ", "reset-mfa or unlock")
	})
}
