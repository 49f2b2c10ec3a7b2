package accounts

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/store"
)

const testPassword = "correct horse battery"

func newTestService() (*Service, *memAccounts) {
	st := newMemAccounts()
	now := testNow
	return &Service{
		Store:  st,
		Hasher: cheap,
		Clock:  func() time.Time { return now.In(time.FixedZone("MSK", 3*3600)) },
	}, st
}

func citizen() Profile {
	return Profile{Kind: KindCitizen, Citizenships: []string{"ru"}, GivenName: "Иван", CountryOfResidence: "de"}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, err := s.Create(ctx, " Ivan ", citizen(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.ID) {
		t.Errorf("ID %q is not 32 lower-case hex characters", a.ID)
	}
	if a.Username != "ivan" || a.Kind != "citizen" || a.CountryOfResidence != "DE" ||
		!slices.Equal(a.Citizenships, []string{"RU"}) || a.Assurance != "simplified" || a.GivenName != "Иван" {
		t.Errorf("account %+v not normalised", a)
	}
	if !a.CreatedAt.Equal(testNow) || a.CreatedAt.Location() != time.UTC || a.UpdatedAt != a.CreatedAt || a.Disabled() {
		t.Errorf("timestamps: created %v updated %v disabled %v", a.CreatedAt, a.UpdatedAt, a.DisabledAt)
	}
	if ok, _, err := cheap.Verify(a.PasswordHash, testPassword); !ok || err != nil {
		t.Errorf("stored hash does not verify: %v, %v", ok, err)
	}
	stored, err := st.GetAccount(ctx, a.ID)
	if err != nil || stored.Username != "ivan" {
		t.Errorf("stored %+v, %v", stored, err)
	}

	b, err := s.Create(ctx, "ivan@example.com", Profile{Kind: KindForeignNational}, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == a.ID {
		t.Error("two accounts got one ID")
	}
}

func TestCreateTaken(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService()
	if _, err := s.Create(ctx, "Ivan", citizen(), testPassword); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, "ＩＶＡＮ", citizen(), testPassword)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("err = %v, want store.ErrAlreadyExists", err)
	}
	if err.Error() != `username "ivan" is taken` {
		t.Errorf("message %q", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "username" {
		t.Errorf("err %#v is not a username FieldError", err)
	}
}

func TestCreateReportsAllProblems(t *testing.T) {
	s, st := newTestService()
	_, err := s.Create(context.Background(), "x", Profile{Kind: KindCompatriot, Citizenships: []string{"RU"}}, "x")
	if err == nil {
		t.Fatal("Create succeeded")
	}
	var fe *FieldError
	var pe *PasswordError
	if !errors.As(err, &fe) || fe.Field != "username" || !errors.As(err, &pe) || !pe.Has(PasswordTooShort) {
		t.Errorf("err = %v, want username and password problems", err)
	}
	if !strings.Contains(err.Error(), "a compatriot account must not list RU") {
		t.Errorf("err = %v, want the profile problem too", err)
	}
	if l, _ := st.ListAccounts(context.Background(), "", 0); len(l) != 0 {
		t.Error("an invalid account was stored")
	}
	// The password may not repeat the username.
	_, err = s.Create(context.Background(), "Ivan.Petrov@example.com", citizen(), "ivan.petrov")
	if !errors.As(err, &pe) || !pe.Has(PasswordEqualsUsername) {
		t.Errorf("err = %v, want equals_username", err)
	}
}

func TestGetAndList(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService()
	a, _ := s.Create(ctx, "Ivan", citizen(), testPassword)
	b, _ := s.Create(ctx, "anna", Profile{Kind: KindForeignNational}, testPassword)

	for _, key := range []string{"ivan", "IVAN", " ＩＶＡＮ ", a.ID} {
		got, err := s.Get(ctx, key)
		if err != nil || got.ID != a.ID {
			t.Errorf("Get(%q) = %s, %v; want %s", key, got.ID, err, a.ID)
		}
	}
	for _, key := range []string{"nobody", "", "no such id !"} {
		if _, err := s.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) err = %v, want ErrNotFound", key, err)
		}
	}
	l, err := s.List(ctx)
	if err != nil || len(l) != 2 || l[0].ID != b.ID || l[1].ID != a.ID {
		t.Errorf("List = %v, %v", l, err)
	}
}

func TestDisable(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)
	if _, err := s.Disable(ctx, "IVAN"); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetAccount(ctx, a.ID)
	if !got.Disabled() || !got.DisabledAt.Equal(testNow) || !got.UpdatedAt.Equal(testNow) {
		t.Errorf("after Disable: %+v", got)
	}
	if _, err := s.Disable(ctx, a.ID); !errors.Is(err, ErrAlreadyDisabled) {
		t.Errorf("second Disable = %v, want ErrAlreadyDisabled", err)
	}
	if _, err := s.Disable(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Disable(unknown) = %v, want ErrNotFound", err)
	}
}

// fakeAccess counts what an account has besides itself.
type fakeAccess struct {
	sessions, grants map[string]int
	err              error
}

func (f *fakeAccess) InTx(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }
func (f *fakeAccess) LockGrants(context.Context, string) error                       { return nil }
func (f *fakeAccess) DeleteBrowserSessionsOfAccount(_ context.Context, id string) (int, error) {
	n := f.sessions[id]
	delete(f.sessions, id)
	return n, nil
}
func (f *fakeAccess) DeactivateOAuthRecordsBySubject(_ context.Context, id string) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n := f.grants[id]
	delete(f.grants, id)
	return n, nil
}

func TestDisableEndsAccess(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)
	acc := &fakeAccess{sessions: map[string]int{a.ID: 2, "other": 1}, grants: map[string]int{a.ID: 5, "other": 3}}
	s.Access = acc
	ended, err := s.Disable(ctx, "ivan")
	if err != nil || ended != (Ended{Sessions: 2, Grants: 5}) {
		t.Fatalf("Disable = %+v, %v", ended, err)
	}
	if acc.sessions["other"] != 1 || acc.grants["other"] != 3 {
		t.Fatal("another account's access was ended")
	}
	// A token refreshed while the account was being disabled is swept by
	// disabling again, which still says the account was disabled already.
	acc.grants[a.ID] = 1
	ended, err = s.Disable(ctx, "ivan")
	if !errors.Is(err, ErrAlreadyDisabled) || ended != (Ended{Grants: 1}) {
		t.Fatalf("second Disable = %+v, %v", ended, err)
	}
	acc.err = errors.New("database gone")
	if _, err := s.Disable(ctx, "ivan"); err == nil || errors.Is(err, ErrAlreadyDisabled) {
		t.Fatalf("Disable with a failing store = %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService()
	if _, err := s.Create(ctx, "ivan", citizen(), testPassword); err != nil {
		t.Fatal(err)
	}
	var pe *PasswordError
	if err := s.SetPassword(ctx, "ivan", "Ivan"); !errors.As(err, &pe) || !pe.Has(PasswordEqualsUsername) || !pe.Has(PasswordTooShort) {
		t.Errorf("SetPassword(bad) = %v", err)
	}
	if err := s.SetPassword(ctx, "ivan", "a new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "ivan", testPassword); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := s.Authenticate(ctx, "ivan", "a new passphrase"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := s.SetPassword(ctx, "nobody", "a new passphrase"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(unknown) = %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "Ivan", citizen(), testPassword)

	got, err := s.Authenticate(ctx, "ＩＶＡＮ", testPassword)
	if err != nil || got.ID != a.ID {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}

	// No password set.
	nopw := store.Account{ID: "00000000000000000000000000000001", Username: "nopw", Kind: "foreign_national", Assurance: "simplified"}
	if err := st.CreateAccount(ctx, nopw); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ username, password string }{
		{"ivan", "wrong password!"},
		{"ivan", ""},
		{"nobody", testPassword},
		{"x", testPassword}, // not even a valid username
		{"nopw", ""},
		{"nopw", testPassword},
	} {
		got, err := s.Authenticate(ctx, tc.username, tc.password)
		if err != ErrInvalidCredentials || got.ID != "" {
			t.Errorf("Authenticate(%q, %q) = %q, %v; want bare ErrInvalidCredentials", tc.username, tc.password, got.ID, err)
		}
	}

	// A disabled account fails with the same error, even with the right
	// password.
	if _, err := s.Disable(ctx, "ivan"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "ivan", testPassword); err != ErrInvalidCredentials {
		t.Errorf("disabled: %v, want ErrInvalidCredentials", err)
	}
}

func TestAuthenticateMalformedHash(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)
	st.UpdateAccount(ctx, a.ID, func(a store.Account) (store.Account, error) {
		a.PasswordHash = "$2y$10$bcrypt"
		return a, nil
	})
	_, err := s.Authenticate(ctx, "ivan", testPassword)
	if err == nil || errors.Is(err, ErrInvalidCredentials) || !errors.Is(err, errMalformedHash) {
		t.Errorf("err = %v, want an internal malformed-hash error", err)
	}
}

func TestAuthenticateRehash(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)

	// The operator raises the cost; the next login upgrades the hash.
	later := testNow.Add(time.Hour)
	s.Hasher = PasswordHasher{Memory: 128, Time: 2, Threads: 1}
	s.Clock = func() time.Time { return later }
	got, err := s.Authenticate(ctx, "ivan", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=128,t=2,p=1$") || !got.UpdatedAt.Equal(later) {
		t.Errorf("returned account not rehashed: %s at %v", got.PasswordHash, got.UpdatedAt)
	}
	stored, _ := st.GetAccount(ctx, a.ID)
	if stored.PasswordHash != got.PasswordHash {
		t.Error("rehash not stored")
	}
	if _, err := s.Authenticate(ctx, "ivan", testPassword); err != nil {
		t.Errorf("login after rehash: %v", err)
	}
}

func TestAuthenticateRehashFailureIgnored(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)
	s.Hasher = PasswordHasher{Memory: 128, Time: 1, Threads: 1}
	st.failUpdate = store.ErrConflict
	got, err := s.Authenticate(ctx, "ivan", testPassword)
	if err != nil || got.ID != a.ID || got.PasswordHash != a.PasswordHash {
		t.Errorf("Authenticate = %+v, %v; want the account with its old hash", got, err)
	}
}

// A password change that lands between verification and rehash wins.
func TestRehashDoesNotOverwriteNewPassword(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	a, _ := s.Create(ctx, "ivan", citizen(), testPassword)
	if err := s.SetPassword(ctx, a.ID, "a new passphrase"); err != nil {
		t.Fatal(err)
	}
	changed, _ := st.GetAccount(ctx, a.ID)
	s.Hasher = PasswordHasher{Memory: 128, Time: 1, Threads: 1}
	if _, err := s.rehash(ctx, a, testPassword); !errors.Is(err, errHashChanged) {
		t.Errorf("rehash = %v, want errHashChanged", err)
	}
	if now, _ := st.GetAccount(ctx, a.ID); now.PasswordHash != changed.PasswordHash {
		t.Error("rehash overwrote a newer password")
	}
}

func TestConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	s, st := newTestService()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Create(ctx, "Ivan", citizen(), testPassword)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, store.ErrAlreadyExists) {
			t.Error(err)
		}
	}
	if l, _ := st.ListAccounts(ctx, "", 0); ok != 1 || len(l) != 1 {
		t.Errorf("%d creates succeeded, %d stored; want 1", ok, len(l))
	}
}

func TestLogValue(t *testing.T) {
	s, _ := newTestService()
	a, _ := s.Create(context.Background(), "ivan", citizen(), testPassword)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "account", LogValue(a))
	out := buf.String()
	for _, want := range []string{"account.id=" + a.ID, "account.username=ivan", "account.kind=citizen"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, secret := range []string{"argon2id", "Иван", "RU"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %q contains %q", out, secret)
		}
	}
}
