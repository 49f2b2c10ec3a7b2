package consent_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

type env struct {
	db  *sqlite.DB
	clk *clock.Fake
	svc *consent.Service
}

// newEnv opens a migrated store with accounts anna and boris and clients
// card and mail.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	db := testdb.SQLite(t)
	for _, id := range []string{"anna", "boris"} {
		if err := db.CreateAccount(ctx, store.Account{
			ID: id, Username: id, Kind: "citizen", Assurance: "simplified",
			Citizenships: []string{}, CreatedAt: t0, UpdatedAt: t0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"card", "mail"} {
		if err := db.CreateClient(ctx, store.Client{
			ID: id, Name: id, RedirectURIs: []string{"https://" + id + ".example/cb"},
			PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"},
			Scopes: []string{"openid", "profile", "email"}, TokenEndpointAuthMethod: "client_secret_basic",
			SecretHash: []byte{1}, IDTokenSigningAlg: "ES256", AccessTokenFormat: "opaque",
			CreatedAt: t0, UpdatedAt: t0,
		}); err != nil {
			t.Fatal(err)
		}
	}
	clk := clock.NewFake(t0)
	return &env{db: db, clk: clk, svc: &consent.Service{Store: db, Grants: db, Clock: clk.Now}}
}

func (e *env) covers(t *testing.T, account, client string, scopes ...string) bool {
	t.Helper()
	ok, err := e.svc.Covers(t.Context(), account, client, scopes)
	if err != nil {
		t.Fatalf("Covers(%s, %s, %v): %v", account, client, scopes, err)
	}
	return ok
}

func (e *env) remember(t *testing.T, account, client string, scopes ...string) {
	t.Helper()
	if err := e.svc.Remember(t.Context(), account, client, scopes); err != nil {
		t.Fatalf("Remember(%s, %s, %v): %v", account, client, scopes, err)
	}
}

func TestCovers(t *testing.T) {
	e := newEnv(t)
	if e.covers(t, "anna", "card", "openid") {
		t.Fatal("covered before any consent")
	}
	if e.covers(t, "anna", "card") {
		t.Fatal("no scopes covered without any consent")
	}
	e.remember(t, "anna", "card", "openid", "profile")
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{
		{nil, true},
		{[]string{"openid"}, true},
		{[]string{"profile"}, true},
		{[]string{"profile", "openid"}, true},
		{[]string{"openid", "openid"}, true},
		{[]string{"openid", "profile", "email"}, false},
		{[]string{"email"}, false},
		{[]string{"Profile"}, false},
	} {
		if got := e.covers(t, "anna", "card", tc.scopes...); got != tc.want {
			t.Errorf("Covers(%v) = %v, want %v", tc.scopes, got, tc.want)
		}
	}
	// Consent is per account and per client.
	if e.covers(t, "boris", "card", "openid") {
		t.Error("anna's consent covers boris")
	}
	if e.covers(t, "anna", "mail", "openid") {
		t.Error("consent to card covers mail")
	}
}

func TestRememberMerges(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "profile", "openid", "profile")
	e.clk.Advance(time.Hour)
	e.remember(t, "anna", "card", "email", "openid")
	e.clk.Advance(time.Hour)
	e.remember(t, "anna", "card", "openid") // narrower: nothing lost

	if !e.covers(t, "anna", "card", "openid", "profile", "email") {
		t.Error("later Remember dropped earlier scopes")
	}
	c, err := e.db.GetConsent(t.Context(), "anna", "card")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Consent{AccountID: "anna", ClientID: "card", Scopes: []string{"email", "openid", "profile"},
		CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Hour)}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("stored consent:\n got %+v\nwant %+v", c, want)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	if l, err := e.svc.List(t.Context(), "anna"); err != nil || len(l) != 0 {
		t.Fatalf("List before consent = %v, %v", l, err)
	}
	e.remember(t, "anna", "mail", "openid", "email")
	e.remember(t, "anna", "card", "openid")
	e.remember(t, "boris", "card", "profile")
	l, err := e.svc.List(t.Context(), "anna")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Consent{
		{AccountID: "anna", ClientID: "card", Scopes: []string{"openid"}, CreatedAt: t0, UpdatedAt: t0},
		{AccountID: "anna", ClientID: "mail", Scopes: []string{"email", "openid"}, CreatedAt: t0, UpdatedAt: t0},
	}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("List:\n got %+v\nwant %+v", l, want)
	}
}

// Consent given again after a withdrawal starts afresh: the withdrawn
// scopes do not come back.
func TestConsentAgainAfterWithdraw(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "openid", "profile")
	if err := e.svc.Withdraw(t.Context(), "anna", "card", ""); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	e.remember(t, "anna", "card", "email")
	if e.covers(t, "anna", "card", "openid") || !e.covers(t, "anna", "card", "email") {
		t.Error("withdrawn scopes came back")
	}
	c, err := e.db.GetConsent(t.Context(), "anna", "card")
	if err != nil {
		t.Fatal(err)
	}
	if !c.CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("CreatedAt %v: want the time of the new consent", c.CreatedAt)
	}
}

// interleaved makes two Remember calls read the old consent before either
// writes: what two tabs consenting at the same moment can do.
type interleaved struct {
	store.Consents
	reads sync.WaitGroup
}

func (s *interleaved) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	c, err := s.Consents.GetConsent(ctx, accountID, clientID)
	s.reads.Done()
	s.reads.Wait()
	return c, err
}

func TestRememberConcurrentKeepsBoth(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "openid")
	s := &interleaved{Consents: e.db}
	s.reads.Add(2)
	svc := &consent.Service{Store: s, Clock: e.clk.Now}
	var wg sync.WaitGroup
	for _, sc := range []string{"profile", "email"} {
		wg.Go(func() {
			if err := svc.Remember(t.Context(), "anna", "card", []string{sc}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if !e.covers(t, "anna", "card", "openid", "profile", "email") {
		c, _ := e.db.GetConsent(t.Context(), "anna", "card")
		t.Fatalf("concurrent Remember lost scopes: stored %v", c.Scopes)
	}
}

func TestSplit(t *testing.T) {
	e := newEnv(t)
	split := func(client string, scopes ...string) ([]string, []string) {
		t.Helper()
		allowed, missing, err := e.svc.Split(t.Context(), "anna", client, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return allowed, missing
	}
	if a, m := split("card", "openid", "email"); a != nil || !reflect.DeepEqual(m, []string{"openid", "email"}) {
		t.Fatalf("before any consent: allowed %v, missing %v", a, m)
	}
	e.remember(t, "anna", "card", "openid", "profile")
	if a, m := split("card", "email", "openid", "profile", "phone"); !reflect.DeepEqual(a, []string{"openid", "profile"}) || !reflect.DeepEqual(m, []string{"email", "phone"}) {
		t.Fatalf("allowed %v, missing %v", a, m)
	}
	if a, m := split("card", "profile"); !reflect.DeepEqual(a, []string{"profile"}) || m != nil {
		t.Fatalf("a narrower request: allowed %v, missing %v", a, m)
	}
	if a, _ := split("mail", "openid"); a != nil {
		t.Fatalf("consent to card counted for mail: allowed %v", a)
	}
}

// grant stores an active access token of account for client.
func (e *env) grant(t *testing.T, sig, account, client string) {
	t.Helper()
	err := e.db.CreateOAuthRecord(t.Context(), store.OAuthRecord{
		Kind: store.OAuthAccess, Signature: sig, RequestID: "req-" + sig, ClientID: client, Subject: account,
		Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Data: []byte("sealed"),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) active(t *testing.T, sig string) bool {
	t.Helper()
	r, err := e.db.GetOAuthRecord(t.Context(), store.OAuthAccess, sig)
	if err != nil {
		t.Fatal(err)
	}
	return r.Active
}

func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "openid", "offline_access")
	e.remember(t, "anna", "mail", "openid")
	e.remember(t, "boris", "card", "openid")
	e.grant(t, "anna-card", "anna", "card")
	e.grant(t, "anna-mail", "anna", "mail")
	e.grant(t, "boris-card", "boris", "card")
	// What fosite keeps beside a code: ended too, but not counted as
	// tokens in the audit event.
	for _, kind := range []string{store.OAuthPKCE, store.OAuthOIDC} {
		if err := e.db.CreateOAuthRecord(t.Context(), store.OAuthRecord{
			Kind: kind, Signature: "anna-card-" + kind, RequestID: "req-anna-card", ClientID: "card", Subject: "anna",
			Active: true, RequestedAt: t0, ExpiresAt: t0.Add(time.Hour), Data: []byte("sealed"),
		}); err != nil {
			t.Fatal(err)
		}
	}

	if err := e.svc.Withdraw(t.Context(), "anna", "card", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if e.covers(t, "anna", "card", "openid") {
		t.Error("still covered after Withdraw: the next sign-in would not ask")
	}
	if e.active(t, "anna-card") {
		t.Error("anna's token for card still active after Withdraw")
	}
	if !e.covers(t, "anna", "mail", "openid") || !e.covers(t, "boris", "card", "openid") ||
		!e.active(t, "anna-mail") || !e.active(t, "boris-card") {
		t.Error("Withdraw touched another client's or another person's consent or tokens")
	}
	ev, err := e.db.ListAudit(t.Context(), store.AuditFilter{AccountID: "anna", Type: "consent.withdrawn"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.AuditEvent{ID: ev[0].ID, At: t0, Type: "consent.withdrawn", AccountID: "anna", ActorID: "anna",
		ClientID: "card", RemoteAddr: "192.0.2.7", Details: map[string]string{"scopes": "offline_access openid", "tokens_ended": "1"}}
	if len(ev) != 1 || !reflect.DeepEqual(ev[0], want) {
		t.Fatalf("audit:\n got %+v\nwant [%+v]", ev, want)
	}

	// Again (a second tab), or what was never given: nothing to withdraw,
	// nothing audited.
	for _, ac := range [][2]string{{"anna", "card"}, {"boris", "mail"}} {
		if err := e.svc.Withdraw(t.Context(), ac[0], ac[1], ""); !errors.Is(err, consent.ErrNotGiven) {
			t.Errorf("Withdraw(%s, %s) = %v, want ErrNotGiven", ac[0], ac[1], err)
		}
	}
	if ev, _ := e.db.ListAudit(t.Context(), store.AuditFilter{Type: "consent.withdrawn"}); len(ev) != 1 {
		t.Errorf("%d consent.withdrawn events, want 1", len(ev))
	}
}

// failingAudit refuses to write the audit log.
type failingAudit struct{ *sqlite.DB }

var errAuditDown = errors.New("audit log unavailable")

func (failingAudit) AppendAudit(context.Context, store.AuditEvent) (int64, error) {
	return 0, errAuditDown
}

// A withdrawal that cannot be audited does not happen by half: the consent
// and the tokens stay as they were.
func TestWithdrawIsOneTransaction(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "openid")
	e.grant(t, "anna-card", "anna", "card")
	svc := &consent.Service{Store: e.db, Grants: failingAudit{e.db}, Clock: e.clk.Now}
	if err := svc.Withdraw(t.Context(), "anna", "card", ""); !errors.Is(err, errAuditDown) {
		t.Fatalf("Withdraw = %v, want the audit error", err)
	}
	if !e.covers(t, "anna", "card", "openid") || !e.active(t, "anna-card") {
		t.Error("a failed withdrawal deleted the consent or ended the tokens")
	}
}

// The account page names a withdrawn service only for a withdrawal the
// person made a moment ago: not for a client they never withdrew (a
// crafted link), another person's withdrawal, or an old one.
func TestWithdrawnWithin(t *testing.T) {
	e := newEnv(t)
	e.remember(t, "anna", "card", "openid")
	e.remember(t, "boris", "mail", "openid")
	if err := e.svc.Withdraw(t.Context(), "anna", "card", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Withdraw(t.Context(), "boris", "mail", ""); err != nil {
		t.Fatal(err)
	}
	within := func(account, client string) bool {
		t.Helper()
		ok, err := e.svc.WithdrawnWithin(t.Context(), account, client, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	e.clk.Advance(4 * time.Minute)
	if !within("anna", "card") {
		t.Error("a withdrawal four minutes ago is not found")
	}
	if within("anna", "mail") {
		t.Error("anna is said to have withdrawn mail, which boris withdrew")
	}
	if within("boris", "card") {
		t.Error("boris is said to have withdrawn card, which he never allowed")
	}
	e.clk.Advance(2 * time.Minute)
	if within("anna", "card") {
		t.Error("a withdrawal six minutes ago still counts as a moment ago")
	}
}
