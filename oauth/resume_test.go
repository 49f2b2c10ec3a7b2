package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

// resumeEnv is a provider whose clients are read from the database every
// time (no cache), with a flow started for one authorization request.
type resumeEnv struct {
	h  *Handler
	db store.Store
	ar fosite.AuthorizeRequester
	f  *flow.Flow
}

const resumeClient = "card"

func newResumeEnv(t *testing.T, db store.Store) *resumeEnv {
	t.Helper()
	ctx := t.Context()
	ring := testRing(t)
	now := time.Now().UTC().Truncate(time.Second)
	if err := db.CreateClient(ctx, store.Client{
		ID: resumeClient, Name: "Compatriot card", RedirectURIs: []string{"https://card.example/cb", "https://card.example/cb2"},
		PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "profile"},
		TokenEndpointAuthMethod: "client_secret_basic", SecretHash: []byte{1, 2, 3, 4},
		IDTokenSigningAlg: "ES256", AccessTokenFormat: "opaque", CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	ks := &KeySet{Store: db, Ring: ring}
	if err := ks.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	hasher, err := clients.NewSecretHasher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{
		Config:  Config{Issuer: testIssuer, TokenKey: make([]byte, 32), SecretsHasher: hasher},
		Storage: &Storage{Store: db, Ring: ring, NewSession: NewFositeSession, ClientCacheTTL: -1},
		Keys:    ks, Accounts: db, Flows: &flow.Service{Store: db, Ring: ring}, Ring: ring,
	}
	if err := h.Init(); err != nil {
		t.Fatal(err)
	}
	q := url.Values{
		"client_id": {resumeClient}, "response_type": {"code"}, "redirect_uri": {"https://card.example/cb"},
		"scope": {"openid profile"}, "state": {"st-1"}, "nonce": {"n-1"}, "response_mode": {"form_post"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"login_hint": {"anna@example.org"}, "ui_locales": {"kk ru"}, "max_age": {"600"},
	}
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, PathAuthorize+"?"+q.Encode(), nil)
	ar, err := h.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	p, err := h.params(ctx, ar)
	if err != nil {
		t.Fatal(err)
	}
	started, _, err := h.Flows.Start(ctx, resumeClient, h.flowRequest(ar, p), "kk")
	if err != nil {
		t.Fatal(err)
	}
	f, err := h.Flows.Get(ctx, started.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &resumeEnv{h: h, db: db, ar: ar, f: f}
}

// A flow's request comes back as the authorization endpoint read it, with
// no fosite parse: everything the answer is built from, and what the pages
// show.
func TestResumeGivesBackTheRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) { resumeGivesBackTheRequest(t, newResumeEnv(t, db)) })
}

func resumeGivesBackTheRequest(t *testing.T, e *resumeEnv) {
	got, p, err := e.h.resume(t.Context(), e.f)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	want := e.ar
	if got.GetID() != want.GetID() {
		t.Errorf("request ID %q, want the arriving request's %q", got.GetID(), want.GetID())
	}
	if got.GetClient().GetID() != resumeClient || got.GetRedirectURI().String() != want.GetRedirectURI().String() ||
		!got.IsRedirectURIValid() || got.GetState() != "st-1" ||
		!slices.Equal(got.GetRequestedScopes(), want.GetRequestedScopes()) ||
		!slices.Equal(got.GetResponseTypes(), want.GetResponseTypes()) ||
		got.GetResponseMode() != fosite.ResponseModeFormPost || got.GetDefaultResponseMode() != want.GetDefaultResponseMode() ||
		!got.GetRequestedAt().Equal(want.GetRequestedAt().UTC()) {
		t.Fatalf("resumed request differs:\n got %+v\nwant %+v", got, want)
	}
	for _, k := range []string{"nonce", "code_challenge", "code_challenge_method", "max_age", "ui_locales"} {
		if got.GetRequestForm().Get(k) != want.GetRequestForm().Get(k) {
			t.Errorf("form %s = %q, want %q", k, got.GetRequestForm().Get(k), want.GetRequestForm().Get(k))
		}
	}
	if p.maxAge != 10*time.Minute || p.loginHint != "anna@example.org" {
		t.Errorf("params: max_age %v, login_hint %q", p.maxAge, p.loginHint)
	}
	wantDetails := flow.Details{
		ClientName: "Compatriot card", Scopes: []string{"openid", "profile"}, LoginHint: "anna@example.org",
		RedirectOrigin: "https://card.example",
	}
	if !reflect.DeepEqual(e.f.Details(), wantDetails) {
		t.Errorf("details %+v, want %+v", e.f.Details(), wantDetails)
	}
}

// The request is answered for the client as it is when answered: one
// changed meanwhile is refused as a new request would be, to its redirect
// URI only while that is still registered.
func TestResumeChecksTheClientAsItIsNow(t *testing.T) {
	for _, tc := range []struct {
		name       string
		change     func(*store.Client)
		wantErr    *fosite.RFC6749Error
		toRedirect bool
	}{
		{"scope withdrawn", func(c *store.Client) { c.Scopes = []string{"openid"} }, fosite.ErrInvalidScope, true},
		{"grant withdrawn", func(c *store.Client) { c.GrantTypes = []string{"client_credentials"} }, fosite.ErrUnauthorizedClient, true},
		{"redirect URI unregistered", func(c *store.Client) { c.RedirectURIs = []string{"https://card.example/cb2"} }, fosite.ErrInvalidRequest, false},
		{"deleted", nil, fosite.ErrInvalidClient, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db testdb.DB) {
				e := newResumeEnv(t, db)
				ctx := t.Context()
				if tc.change == nil {
					if err := e.db.DeleteClient(ctx, resumeClient); err != nil {
						t.Fatal(err)
					}
				} else if _, err := e.db.UpdateClient(ctx, resumeClient, func(c store.Client) (store.Client, error) {
					tc.change(&c)
					return c, nil
				}); err != nil {
					t.Fatal(err)
				}
				ar, _, err := e.h.resume(ctx, e.f)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("resume: %v, want %v", err, tc.wantErr)
				}
				if got := ar != nil && ar.IsRedirectURIValid(); got != tc.toRedirect {
					t.Fatalf("answer to the redirect URI: %v, want %v", got, tc.toRedirect)
				}
			})
		})
	}
}
