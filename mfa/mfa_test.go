package mfa

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

// clock is an injected clock tests move by hand.
type env struct {
	svc *Service
	db  *sqlite.DB
	clk *clock.Fake
}

// newEnv opens a real SQLite store with one account, "anna".
func newEnv(t *testing.T) *env {
	t.Helper()
	db := testdb.SQLite(t)
	// Step boundaries fall on multiples of 30 s: start mid-step.
	clk := clock.NewFake(time.Date(2026, 11, 22, 10, 0, 15, 0, time.UTC))
	if err := db.CreateAccount(t.Context(), store.Account{ID: "anna", Username: "anna", Kind: "citizen", Assurance: "standard",
		Citizenships: []string{"RU"}, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	k, _ := seal.GenerateKey()
	ring, _ := seal.NewRing(k)
	return &env{svc: &Service{Store: db, Ring: ring, RecoveryKey: k, Clock: clk.Now}, db: db, clk: clk}
}

// code computes the code an authenticator app shows at t.
func code(t *testing.T, e Enrolment, at time.Time) string {
	t.Helper()
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled enrols and confirms an authenticator, then moves two steps on,
// so the whole drift window lies after the burned enrolment step.
func (e *env) enrolled(t *testing.T) Enrolment {
	t.Helper()
	en, err := e.svc.Begin(t.Context(), "anna", "anna@example.org", "phone", false, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Confirm(t.Context(), "anna", en.AuthenticatorID, code(t, en, e.clk.Now()), false, Meta{}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	e.clk.Advance(2 * Period)
	return en
}

func TestEnrolment(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	en, err := e.svc.Begin(ctx, "anna", "anna@example.org", " phone ", false, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/Propusk:anna@example.org?") || !strings.Contains(en.URL, "issuer=Propusk") {
		t.Fatalf("otpauth URL: %s", en.URL)
	}
	if len(strings.ReplaceAll(en.Key, " ", "")) != 32 || len(en.QRCode) < 100 || string(en.QRCode[1:4]) != "PNG" {
		t.Fatalf("key %q (160 bits is 32 base32 characters), QR %d bytes", en.Key, len(en.QRCode))
	}
	if ok, _ := e.svc.Enrolled(ctx, "anna"); ok {
		t.Fatal("an unconfirmed authenticator counts as enrolled")
	}
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); !errors.Is(err, ErrNoAuthenticator) {
		t.Fatalf("sign-in with an unconfirmed authenticator: %v", err)
	}
	// The secret is sealed at rest.
	a, _ := e.db.GetAuthenticator(ctx, en.AuthenticatorID)
	if strings.Contains(string(a.Secret), strings.ReplaceAll(en.Key, " ", "")) {
		t.Fatal("TOTP secret stored in the clear")
	}
	if err := e.svc.Confirm(ctx, "anna", en.AuthenticatorID, "000000", false, Meta{}); !errors.Is(err, ErrWrongCode) && code(t, en, e.clk.Now()) != "000000" {
		t.Fatalf("wrong enrolment code: %v", err)
	}
	c := code(t, en, e.clk.Now())
	if err := e.svc.Confirm(ctx, "anna", en.AuthenticatorID, c, false, Meta{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.svc.Enrolled(ctx, "anna"); !ok {
		t.Fatal("confirmed authenticator does not count")
	}
	// The enrolment code's step is burned: it cannot sign in.
	if err := e.svc.Verify(ctx, "anna", c, Meta{}); !errors.Is(err, ErrReplayed) {
		t.Fatalf("the enrolment code signed in: %v", err)
	}
	// A second tab finishing the same enrolment is refused.
	if err := e.svc.Confirm(ctx, "anna", en.AuthenticatorID, code(t, en, e.clk.Now().Add(Period)), false, Meta{}); !errors.Is(err, ErrEnrolmentDone) {
		t.Fatalf("second confirmation: %v", err)
	}
	// Another account cannot confirm or remove it.
	if err := e.svc.Remove(ctx, "someone-else", en.AuthenticatorID, Meta{}); !errors.Is(err, ErrNoAuthenticator) {
		t.Fatalf("removal by another account: %v", err)
	}
}

func TestVerifyDriftAndReplay(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	en := e.enrolled(t)
	now := e.clk.Now()
	for _, tc := range []struct {
		name string
		at   time.Duration
		want error
	}{
		{"previous step", -Period, nil},
		{"current step", 0, nil},
		{"next step", Period, nil},
		{"two steps ago", -2 * Period, ErrWrongCode},
		{"two steps ahead", 2 * Period, ErrWrongCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			en := e.enrolled(t)
			err := e.svc.Verify(t.Context(), "anna", code(t, en, e.clk.Now().Add(tc.at)), Meta{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("code from %v: %v, want %v", tc.at, err, tc.want)
			}
		})
	}
	c := code(t, en, now)
	if err := e.svc.Verify(ctx, "anna", "  "+c[:3]+" "+c[3:]+" ", Meta{}); err != nil {
		t.Fatalf("spaced code: %v", err)
	}
	if err := e.svc.Verify(ctx, "anna", c, Meta{}); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replayed code: %v", err)
	}
	// An older step after a newer one is a replay too.
	e.clk.Advance(Period)
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now().Add(-Period)), Meta{}); !errors.Is(err, ErrReplayed) {
		t.Fatalf("older step after a newer one: %v", err)
	}
	for _, bad := range []string{"", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123-456"} {
		if err := e.svc.Verify(ctx, "anna", bad, Meta{}); !errors.Is(err, ErrMalformedCode) {
			t.Errorf("malformed %q: %v", bad, err)
		}
	}
}

// The same code sent to several nodes at once signs in once.
func TestConcurrentSameCode(t *testing.T) {
	e := newEnv(t)
	en := e.enrolled(t)
	c := code(t, en, e.clk.Now())
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.svc.Verify(context.Background(), "anna", c, Meta{}) }()
	}
	wg.Wait()
	ok := 0
	var le *LockedError
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, ErrReplayed) && !errors.As(err, &le) {
			t.Errorf("loser: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses of one code succeeded", ok, len(errs))
	}
}

func TestLockOut(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	en := e.enrolled(t)
	wrong := func() error {
		c := code(t, en, e.clk.Now())
		w := "000000"
		if c == w {
			w = "111111"
		}
		return e.svc.Verify(ctx, "anna", w, Meta{RemoteAddr: "192.0.2.1"})
	}
	for i := 1; i < FreeFailures; i++ {
		if err := wrong(); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var le *LockedError
	if err := wrong(); !errors.As(err, &le) || le.Hard || !le.Until.Equal(e.clk.Now().Add(FirstDelay)) {
		t.Fatalf("failure %d: %v, want a %v lock", FreeFailures, err, FirstDelay)
	}
	// Locked: even the right code is refused, without counting.
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); !errors.As(err, &le) {
		t.Fatalf("right code while locked: %v", err)
	}
	e.clk.Advance(FirstDelay)
	if err := wrong(); !errors.As(err, &le) || !le.Until.Equal(e.clk.Now().Add(2*FirstDelay)) {
		t.Fatalf("the next lock must be longer: %v", err)
	}
	e.clk.Advance(2 * FirstDelay)
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
	st, _ := e.db.GetMFAState(ctx, "anna")
	if st.Failures != 0 || st.TotalFailures != FreeFailures+1 {
		t.Fatalf("after success: %+v", st)
	}
	// The hard limit holds however slowly the guesses come.
	for st.TotalFailures < HardLimit {
		e.clk.Advance(MaxDelay)
		wrong()
		st, _ = e.db.GetMFAState(ctx, "anna")
	}
	e.clk.Advance(24 * time.Hour)
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); !errors.As(err, &le) || !le.Hard {
		t.Fatalf("past the hard limit: %v", err)
	}
	if err := e.svc.Unlock(ctx, "anna", "called the help desk", Meta{ActorID: "admin:olga"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Verify(ctx, "anna", code(t, en, e.clk.Now()), Meta{}); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	events, _ := e.db.ListAudit(ctx, store.AuditFilter{AccountID: "anna", Limit: 1000})
	seen := map[string]bool{}
	for _, ev := range events {
		seen[ev.Type] = true
	}
	for _, typ := range []string{"mfa.enrolled", "mfa.failed", "mfa.locked", "mfa.succeeded", "mfa.unlocked"} {
		if !seen[typ] {
			t.Errorf("no %s event in the audit log", typ)
		}
	}
}

func TestLockDelayGrows(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n < 30; n++ {
		d := lockDelay(n)
		if n < FreeFailures && d != 0 || n >= FreeFailures && (d < prev || d > MaxDelay) {
			t.Fatalf("lockDelay(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
	if lockDelay(29) != MaxDelay {
		t.Fatal("the delay never reaches its cap")
	}
}

func TestRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.enrolled(t)
	codes, err := e.svc.NewRecoveryCodes(ctx, "anna", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 14 || seen[c] {
			t.Fatalf("code %q (want XXXX-XXXX-XXXX, distinct)", c)
		}
		seen[c] = true
	}
	left, err := e.svc.UseRecoveryCode(ctx, "anna", strings.ToLower(strings.ReplaceAll(codes[0], "-", " ")), Meta{})
	if err != nil || left != RecoveryCodeCount-1 {
		t.Fatalf("use: %d, %v", left, err)
	}
	if _, err := e.svc.UseRecoveryCode(ctx, "anna", codes[0], Meta{}); !errors.Is(err, ErrWrongRecoveryCode) {
		t.Fatalf("reused recovery code: %v", err)
	}
	// A new set invalidates the old one.
	fresh, err := e.svc.NewRecoveryCodes(ctx, "anna", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UseRecoveryCode(ctx, "anna", codes[1], Meta{}); !errors.Is(err, ErrWrongRecoveryCode) {
		t.Fatalf("code from the old set: %v", err)
	}
	if _, err := e.svc.UseRecoveryCode(ctx, "anna", fresh[1], Meta{}); err != nil {
		t.Fatalf("code from the new set: %v", err)
	}
	events, _ := e.db.ListAudit(ctx, store.AuditFilter{AccountID: "anna", Type: "mfa.recovery_used"})
	if len(events) != 2 {
		t.Fatalf("recovery uses in the audit log: %d", len(events))
	}
}

func TestResetAndReenrol(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	old := e.enrolled(t)
	e.svc.NewRecoveryCodes(ctx, "anna", Meta{})
	if err := e.svc.Reset(ctx, "anna", "lost phone", Meta{ActorID: "admin:olga"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.svc.Enrolled(ctx, "anna"); ok {
		t.Fatal("still enrolled after a reset")
	}
	if n, _ := e.svc.RecoveryCodesLeft(ctx, "anna"); n != 0 {
		t.Fatalf("%d recovery codes survived the reset", n)
	}
	// A code from the previous enrolment does not work after re-enrolment.
	e.enrolled(t)
	if err := e.svc.Verify(ctx, "anna", code(t, old, e.clk.Now()), Meta{}); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("code of the removed authenticator: %v", err)
	}
}

// Guesses sent in parallel are each counted before any is checked: a burst
// cannot get more tries than the lock-out allows.
func TestParallelGuessesAreCounted(t *testing.T) {
	e := newEnv(t)
	en := e.enrolled(t)
	right := code(t, en, e.clk.Now())
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.svc.Verify(context.Background(), "anna", wrong, Meta{}) }()
	}
	wg.Wait()
	checked := 0
	var le *LockedError
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrWrongCode):
			checked++
		case errors.As(err, &le):
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	st, _ := e.db.GetMFAState(t.Context(), "anna")
	if st.TotalFailures != FreeFailures || checked >= FreeFailures {
		t.Fatalf("%d parallel guesses: %d checked as wrong, %d counted; want at most %d tries", len(errs), checked, st.TotalFailures, FreeFailures)
	}
}

// An account with an authenticator cannot add another on a password alone.
func TestSecondEnrolmentNeedsProof(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.enrolled(t)
	if _, err := e.svc.Begin(ctx, "anna", "anna", "thief", false, Meta{}); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("Begin on an enrolled account: %v", err)
	}
	en, err := e.svc.Begin(ctx, "anna", "anna", "tablet", true, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Confirm(ctx, "anna", en.AuthenticatorID, code(t, en, e.clk.Now()), false, Meta{}); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("Confirm of a second authenticator without proof: %v", err)
	}
	if err := e.svc.Confirm(ctx, "anna", en.AuthenticatorID, code(t, en, e.clk.Now()), true, Meta{}); err != nil {
		t.Fatalf("Confirm with proof: %v", err)
	}
}

// After a wrong code the same enrolment is shown again, not a new secret.
func TestReshowKeepsTheSecret(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	en, err := e.svc.Begin(ctx, "anna", "anna@example.org", "phone", false, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Reshow(ctx, "anna", en.AuthenticatorID, "anna@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if again.Key != en.Key || again.AuthenticatorID != en.AuthenticatorID || code(t, again, e.clk.Now()) != code(t, en, e.clk.Now()) {
		t.Fatalf("reshown enrolment differs: %q vs %q", again.Key, en.Key)
	}
	if _, err := e.svc.Reshow(ctx, "someone-else", en.AuthenticatorID, "x"); !errors.Is(err, ErrNoAuthenticator) {
		t.Fatalf("another account's enrolment: %v", err)
	}
}

func TestResetRequiresEnrolment(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.enrolled(t)
	if must, _ := e.svc.MustEnrol(ctx, "anna"); must {
		t.Fatal("enrolment required before any reset")
	}
	if err := e.svc.Reset(ctx, "anna", "lost phone", Meta{ActorID: "admin:olga"}); err != nil {
		t.Fatal(err)
	}
	if must, _ := e.svc.MustEnrol(ctx, "anna"); !must {
		t.Fatal("no enrolment required after a reset")
	}
	e.enrolled(t)
	if must, _ := e.svc.MustEnrol(ctx, "anna"); must {
		t.Fatal("enrolment still required after enrolling")
	}
}

// Reloading the enrolment page begins a new enrolment each time; only the
// most recent MaxPendingEnrolments are kept, and a confirmed authenticator
// is never dropped to make room.
func TestPendingEnrolmentsAreCapped(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	first := e.enrolled(t)
	var begun []Enrolment
	for i := 0; i < MaxPendingEnrolments+3; i++ {
		e.clk.Advance(time.Second) // listed oldest first
		en, err := e.svc.Begin(ctx, "anna", "anna@example.org", "tablet", true, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		begun = append(begun, en)
	}
	all, err := e.db.ListAuthenticators(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	var pending []string
	confirmed := false
	for _, a := range all {
		if a.ID == first.AuthenticatorID {
			confirmed = !a.ConfirmedAt.IsZero()
		} else if a.ConfirmedAt.IsZero() {
			pending = append(pending, a.ID)
		}
	}
	if !confirmed {
		t.Fatal("the confirmed authenticator was dropped")
	}
	if len(pending) != MaxPendingEnrolments {
		t.Fatalf("%d unconfirmed enrolments kept, want %d", len(pending), MaxPendingEnrolments)
	}
	for i, en := range begun[len(begun)-MaxPendingEnrolments:] {
		if pending[i] != en.AuthenticatorID {
			t.Fatalf("kept %v, want the newest %d", pending, MaxPendingEnrolments)
		}
	}
	// The newest is still confirmable; a dropped one is not.
	newest := begun[len(begun)-1]
	if err := e.svc.Confirm(ctx, "anna", begun[0].AuthenticatorID, code(t, begun[0], e.clk.Now()), true, Meta{}); err == nil {
		t.Fatal("a dropped enrolment was confirmed")
	}
	e.clk.Advance(Period)
	if err := e.svc.Confirm(ctx, "anna", newest.AuthenticatorID, code(t, newest, e.clk.Now()), true, Meta{}); err != nil {
		t.Fatalf("confirm the newest enrolment: %v", err)
	}
}

// Recovery codes stand in for an authenticator: removing the last one
// removes them, and codes never count for an account without one.
func TestRecoveryCodesGoWithTheLastAuthenticator(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	first := e.enrolled(t)
	codes, err := e.svc.NewRecoveryCodes(ctx, "anna", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Begin(ctx, "anna", "anna@example.org", "tablet", true, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Confirm(ctx, "anna", second.AuthenticatorID, code(t, second, e.clk.Now()), true, Meta{}); err != nil {
		t.Fatal(err)
	}
	// One of two removed: the codes stay and work.
	if err := e.svc.Remove(ctx, "anna", first.AuthenticatorID, Meta{}); err != nil {
		t.Fatal(err)
	}
	if left, err := e.svc.UseRecoveryCode(ctx, "anna", codes[0], Meta{}); err != nil || left != RecoveryCodeCount-1 {
		t.Fatalf("a recovery code beside the remaining app: %d left, %v", left, err)
	}
	// The last removed: the codes go.
	if err := e.svc.Remove(ctx, "anna", second.AuthenticatorID, Meta{}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.RecoveryCodesLeft(ctx, "anna"); err != nil || n != 0 {
		t.Fatalf("recovery codes after removing the last app: %d, %v", n, err)
	}
	if _, err := e.svc.UseRecoveryCode(ctx, "anna", codes[1], Meta{}); !errors.Is(err, ErrNoAuthenticator) {
		t.Fatalf("a recovery code without an app: %v, want ErrNoAuthenticator", err)
	}
}
