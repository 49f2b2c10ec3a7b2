package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

type backendDB interface {
	StorageBackend
	store.Store
}

// harness is fosite composed exactly as the provider composes it, over a
// real store, with one confidential client.
type harness struct {
	t        *testing.T
	db       backendDB
	st       *Storage
	p        fosite.OAuth2Provider
	now      time.Time
	clientID string
	secret   string
	redirect string
}

const testIssuer = "https://id.example.org"

func newHarness(t *testing.T, db backendDB) *harness {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	ring, err := seal.NewRing(key)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := clients.NewSecretHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, now: time.Now().UTC(), redirect: "https://card.example.org/cb"}
	svc := &clients.Service{Store: db, Secrets: hasher}
	c, secret, err := svc.Create(t.Context(), clients.Registration{
		Name: "Card", RedirectURIs: []string{h.redirect},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:     []string{"openid", "profile", "offline_access"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.clientID, h.secret = c.ID, secret
	h.st = &Storage{Store: db, Ring: ring, NewSession: func() fosite.Session { return NewSession() },
		Clock: func() time.Time { return h.now }, PARLifespan: DefaultPARLifespan}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := &josev3.JSONWebKey{Key: ecKey, KeyID: "test-key", Algorithm: "ES256", Use: "sig"}
	p, _, err := newFosite(Config{Issuer: testIssuer, TokenKey: key, SecretsHasher: hasher,
		SigningKey: func(context.Context) (any, error) { return jwk, nil }}, h.st)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	return h
}

func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize runs an authorization request for subject and returns the code.
func (h *harness) authorize(scope, challenge string) string {
	h.t.Helper()
	q := url.Values{"client_id": {h.clientID}, "response_type": {"code"}, "redirect_uri": {h.redirect},
		"scope": {scope}, "state": {"state-1234"}, "nonce": {"nonce-1234"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	ctx := h.t.Context()
	ar, err := h.p.NewAuthorizeRequest(ctx, httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
	if err != nil {
		h.t.Fatalf("authorize request: %v", fosite.ErrorToRFC6749Error(err).WithExposeDebug(true).GetDescription())
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	sess := NewSession()
	sess.Subject, sess.Claims.Subject, sess.SID = "account-1", "account-1", "sso-1"
	sess.Claims.AuthTime = h.now
	resp, err := h.p.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		h.t.Fatalf("authorize response: %v", fosite.ErrorToRFC6749Error(err).WithExposeDebug(true).GetDescription())
	}
	return resp.GetParameters().Get("code")
}

// token posts form to the token endpoint as the client and returns the
// response or the error.
func (h *harness) token(form url.Values) (fosite.AccessResponder, error) {
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(h.clientID), url.QueryEscape(h.secret))
	ctx := context.Background()
	ar, err := h.p.NewAccessRequest(ctx, req, NewSession())
	if err != nil {
		return nil, err
	}
	return h.p.NewAccessResponse(ctx, ar)
}

func (h *harness) exchange(code, verifier string) (fosite.AccessResponder, error) {
	return h.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {h.redirect}, "code_verifier": {verifier}})
}

func (h *harness) refresh(rt string) (fosite.AccessResponder, error) {
	return h.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// active introspects a token the way the introspection endpoint does.
func (h *harness) active(token string) bool {
	_, ar, err := h.p.IntrospectToken(context.Background(), token, fosite.AccessToken, NewSession())
	return err == nil && ar != nil
}

func rfcErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fosite.ErrorToRFC6749Error(err).ErrorField
}

func TestCodeFlowThroughFosite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		code := h.authorize("openid offline_access", challenge)

		resp, err := h.exchange(code, verifier)
		if err != nil {
			t.Fatalf("exchange: %v", rfcErr(err))
		}
		at, rt := resp.GetAccessToken(), resp.ToMap()["refresh_token"]
		if at == "" || rt == nil || resp.ToMap()["id_token"] == nil {
			t.Fatalf("response lacks a token: %v", resp.ToMap())
		}
		if !h.active(at) {
			t.Fatal("fresh access token is not active")
		}

		// The raw code is not in the database: only its signature, and a
		// hash for the OpenID Connect request.
		if _, err := db.GetOAuthRecord(t.Context(), store.OAuthOIDC, code); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("OIDC request stored under the raw code: %v", err)
		}

		// A second redemption fails with invalid_grant and revokes what the
		// first one issued.
		_, err = h.exchange(code, verifier)
		if got := rfcErr(err); got != "invalid_grant" {
			t.Fatalf("second redemption: %s, want invalid_grant", got)
		}
		if h.active(at) {
			t.Fatal("access token from a replayed code is still active")
		}
		if _, err := h.refresh(rt.(string)); err == nil {
			t.Fatal("refresh token from a replayed code still works")
		}
	})
}

func TestWrongVerifierAndMissingPKCE(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		_, challenge := pkcePair()
		code := h.authorize("openid", challenge)
		other, _ := pkcePair()
		if _, err := h.exchange(code, other); rfcErr(err) != "invalid_grant" {
			t.Fatalf("wrong verifier: %s, want invalid_grant", rfcErr(err))
		}

		q := url.Values{"client_id": {h.clientID}, "response_type": {"code"}, "redirect_uri": {h.redirect}, "scope": {"openid"}, "state": {"s-123456"}}
		ar, err := h.p.NewAuthorizeRequest(t.Context(), httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
		if err == nil {
			sess := NewSession()
			sess.Subject = "account-1"
			_, err = h.p.NewAuthorizeResponse(t.Context(), ar, sess)
		}
		if rfcErr(err) != "invalid_request" {
			t.Fatalf("authorization without PKCE: %s, want invalid_request", rfcErr(err))
		}
	})
}

// barrier makes concurrent token requests interleave in the worst order:
// no request may write (deactivate the code or rotate the refresh token)
// until every request has read it and seen it active. Without it the
// requests tend to run one after the other and a missing conditional write
// would go unnoticed.
type barrier struct {
	backendDB
	kind    string
	want    int64
	mu      sync.Mutex
	reads   int64
	ready   chan struct{}
	timeout time.Duration
}

func newBarrier(db backendDB, kind string, reads int) *barrier {
	return &barrier{backendDB: db, kind: kind, want: int64(reads), ready: make(chan struct{}), timeout: 3 * time.Second}
}

func (b *barrier) GetOAuthRecord(ctx context.Context, kind, sig string) (store.OAuthRecord, error) {
	r, err := b.backendDB.GetOAuthRecord(ctx, kind, sig)
	if kind == b.kind {
		b.mu.Lock()
		b.reads++
		if b.reads == b.want {
			close(b.ready)
		}
		b.mu.Unlock()
	}
	return r, err
}

func (b *barrier) DeactivateOAuthRecord(ctx context.Context, kind, sig string) error {
	if kind == b.kind {
		select {
		case <-b.ready:
		case <-time.After(b.timeout):
		}
	}
	return b.backendDB.DeactivateOAuthRecord(ctx, kind, sig)
}

// race runs n copies of fn at once and counts the successes.
func race(n int, fn func() error) (wins int, errs []error) {
	var wg sync.WaitGroup
	errs = make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			wins++
		}
	}
	return wins, errs
}

// Several nodes redeem one code at once, each having seen it unused:
// exactly one gets tokens.
func TestConcurrentCodeRedemption(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		code := h.authorize("openid offline_access", challenge)
		const n = 4
		// Every request reads the code before any deactivates it. (fosite
		// deletes the PKCE request before it deactivates the code; that
		// delete is itself exactly-once, a second guard on the same rule.)
		h.st.Store = newBarrier(db, store.OAuthCode, n)
		wins, errs := race(n, func() error { _, err := h.exchange(code, verifier); return err })
		if wins != 1 {
			t.Fatalf("%d of %d concurrent redemptions got tokens, want exactly 1 (errors: %v)", wins, n, errs)
		}
	})
}

// Several requests rotate one refresh token at once: exactly one gets new
// tokens; the others learn that they lost (ErrRefreshTokenRaced).
func TestConcurrentRefreshRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid offline_access", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		rt := resp.ToMap()["refresh_token"].(string)
		const n = 4
		h.st.Store = newBarrier(db, store.OAuthRefresh, n)
		wins, errs := race(n, func() error { _, err := h.refresh(rt); return err })
		if wins != 1 {
			t.Fatalf("%d of %d concurrent rotations got tokens, want exactly 1 (errors: %v)", wins, n, errs)
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, ErrRefreshTokenRaced) {
				t.Errorf("loser's error %v does not say it lost a rotation race", err)
			}
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid offline_access", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		rt1 := resp.ToMap()["refresh_token"].(string)
		resp2, err := h.refresh(rt1)
		if err != nil {
			t.Fatalf("first refresh: %s", rfcErr(err))
		}
		rt2, at2 := resp2.ToMap()["refresh_token"].(string), resp2.GetAccessToken()
		if rt2 == rt1 {
			t.Fatal("refresh token not rotated")
		}
		if h.active(resp.GetAccessToken()) {
			t.Fatal("access token issued before the rotation is still active")
		}
		// Reusing the rotated token is a replay: the whole family goes.
		if _, err := h.refresh(rt1); err == nil {
			t.Fatal("rotated refresh token accepted again")
		}
		if h.active(at2) {
			t.Fatal("access token of a replayed family still active")
		}
		if _, err := h.refresh(rt2); err == nil {
			t.Fatal("newest refresh token of a replayed family still works")
		}
	})
}

func TestRefreshOnlyWithOfflineAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid profile", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		if rt := resp.ToMap()["refresh_token"]; rt != nil {
			t.Fatalf("refresh token issued without offline_access: %v", rt)
		}
	})
}

func TestClientCredentialsAndWrongSecret(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		resp, err := h.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}})
		if err != nil {
			t.Fatalf("client credentials: %s", rfcErr(err))
		}
		if !h.active(resp.GetAccessToken()) {
			t.Fatal("client-credentials token not active")
		}
		h.secret = "wrong" + h.secret
		if _, err := h.token(url.Values{"grant_type": {"client_credentials"}}); rfcErr(err) != "invalid_client" {
			t.Fatalf("wrong secret: %s, want invalid_client", rfcErr(err))
		}
	})
}

func TestPARExpiryAndSingleUse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		client, err := h.st.GetClient(t.Context(), h.clientID)
		if err != nil {
			t.Fatal(err)
		}
		ar := fosite.NewAuthorizeRequest()
		ar.Client = client
		ar.RequestedAt = h.now
		ar.Session = NewSession()
		ar.Form = url.Values{"scope": {"openid"}, "client_secret": {"must-not-be-stored"}}
		ar.RedirectURI, _ = url.Parse(h.redirect)
		ar.ResponseTypes = fosite.Arguments{"code"}
		ar.State = "state-1234"
		const uri = "urn:ietf:params:oauth:request_uri:abc"
		if err := h.st.CreatePARSession(t.Context(), uri, ar); err != nil {
			t.Fatal(err)
		}
		got, err := h.st.GetPARSession(t.Context(), uri)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetState() != "state-1234" || got.GetRedirectURI().String() != h.redirect || got.GetRequestForm().Get("client_secret") != "" {
			t.Fatalf("stored pushed request: state %q, redirect %v, form %v", got.GetState(), got.GetRedirectURI(), got.GetRequestForm())
		}
		h.now = h.now.Add(DefaultPARLifespan + time.Second)
		if _, err := h.st.GetPARSession(t.Context(), uri); !errors.Is(err, fosite.ErrNotFound) {
			t.Fatalf("expired pushed request: err = %v, want ErrNotFound", err)
		}
		if err := h.st.DeletePARSession(t.Context(), uri); err != nil {
			t.Fatal(err)
		}
		if err := h.st.DeletePARSession(t.Context(), uri); !errors.Is(err, fosite.ErrNotFound) {
			t.Fatalf("second use of a request_uri: err = %v, want ErrNotFound", err)
		}
	})
}

func TestClientAssertionReplay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		ctx := t.Context()
		if err := h.st.ClientAssertionJWTValid(ctx, "jti-1"); err != nil {
			t.Fatalf("unknown jti: %v", err)
		}
		if err := h.st.SetClientAssertionJWT(ctx, "jti-1", h.now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := h.st.ClientAssertionJWTValid(ctx, "jti-1"); !errors.Is(err, fosite.ErrJTIKnown) {
			t.Fatalf("used jti: %v, want ErrJTIKnown", err)
		}
		if err := h.st.SetClientAssertionJWT(ctx, "jti-1", h.now.Add(time.Minute)); !errors.Is(err, fosite.ErrJTIKnown) {
			t.Fatalf("replayed jti: %v, want ErrJTIKnown", err)
		}
	})
}

// A stored request is sealed to its row: the subject is not readable in
// the database, and a sealed request copied to another row does not open.
func TestStoredRequestsAreSealed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		at := resp.GetAccessToken()
		sig := at[strings.LastIndex(at, ".")+1:]
		rec, err := db.GetOAuthRecord(t.Context(), store.OAuthAccess, sig)
		if err != nil {
			t.Fatalf("access token not stored by its signature: %v", err)
		}
		if strings.Contains(string(rec.Data), "account-1") || strings.Contains(string(rec.Data), h.clientID) {
			t.Fatal("stored request readable in the clear")
		}
		rec.Signature = "copied"
		if err := db.CreateOAuthRecord(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		if _, err := h.st.GetAccessTokenSession(t.Context(), "copied", NewSession()); err == nil {
			t.Fatal("a sealed request copied to another row opened")
		}
	})
}

// Rotation never extends a refresh-token family: every rotated token
// expires when the first one did.
func TestRefreshLifetimeIsAbsolute(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		h := newHarness(t, db)
		verifier, challenge := pkcePair()
		resp, err := h.exchange(h.authorize("openid offline_access", challenge), verifier)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		expiry := func(rt string) time.Time {
			rec, err := db.GetOAuthRecord(t.Context(), store.OAuthRefresh, rt[strings.LastIndex(rt, ".")+1:])
			if err != nil {
				t.Fatal(err)
			}
			return rec.ExpiresAt
		}
		rt := resp.ToMap()["refresh_token"].(string)
		first := expiry(rt)
		time.Sleep(1100 * time.Millisecond) // fosite rounds expiries to seconds
		resp, err = h.refresh(rt)
		if err != nil {
			t.Fatal(rfcErr(err))
		}
		if got := expiry(resp.ToMap()["refresh_token"].(string)); !got.Equal(first) {
			t.Fatalf("rotated refresh token expires %v, the family's first at %v", got, first)
		}
	})
}
