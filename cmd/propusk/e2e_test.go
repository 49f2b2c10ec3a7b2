package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
)

// The end-to-end tests run Propusk's real handler tree (newHandler, as
// serve builds it) behind httptest, and drive it with go-oidc and
// golang.org/x/oauth2 as a relying party would, and with a cookie-jar
// HTTP client as the person's browser.

const rpRedirect = "http://127.0.0.1:9/callback" // never contacted: the browser stops there

type idp struct {
	issuer string
	db     database
	ring   *seal.Ring
	srv    *httptest.Server
}

// startIDP serves a handler tree over db; several trees may share one
// database, as several nodes do.
func startIDP(t testing.TB, db database, ring *seal.Ring) *idp {
	t.Helper()
	return startIDPOn(t, db, ring, false)
}

// startIDPOn is startIDP, over TLS (an https issuer) when tls is set.
func startIDPOn(t testing.TB, db database, ring *seal.Ring, tls bool) *idp {
	t.Helper()
	return startIDPWith(t, db, ring, tls, nil)
}

// startIDPWith is startIDPOn behind the given trusted proxies.
func startIDPWith(t testing.TB, db database, ring *seal.Ring, tls bool, proxies reqlog.Proxies) *idp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	if tls {
		issuer = "https://" + ln.Addr().String()
	}
	logger := slog.New(reqlog.Handler{Handler: slog.NewTextHandler(io.Discard, nil)})
	if testing.Verbose() {
		logger = slog.New(reqlog.Handler{Handler: slog.NewTextHandler(testWriter{t}, nil)})
	}
	h, _, err := newHandler(t.Context(), issuer, db, ring, logger, prometheus.NewRegistry(), proxies)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &idp{issuer: issuer, db: db, ring: ring, srv: srv}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newRing(t testing.TB) *seal.Ring {
	k, _ := seal.GenerateKey()
	r, err := seal.NewRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// eachE2EBackend runs fn on SQLite and PostgreSQL.
func eachE2EBackend(t *testing.T, fn func(t *testing.T, p *idp)) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			fn(t, startIDP(t, testdb.Open(t, backend), newRing(t)))
		})
	}
}

// person creates an account with a password.
func (p *idp) person(t testing.TB, username, level string) string {
	t.Helper()
	svc := &accounts.Service{Store: p.db, Hasher: accounts.PasswordHasher{Memory: 64, Time: 1, Threads: 1}}
	a, err := svc.Create(t.Context(), username, accounts.Profile{
		Kind: accounts.KindCompatriot, GivenName: "Анна", FamilyName: "Иванова", Email: username + "@example.org",
		Citizenships: []string{"KZ"}, CountryOfResidence: "KZ", Locale: "ru", Assurance: accounts.Assurance(level),
	}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// rp registers a relying party and returns its OAuth configuration.
func (p *idp) rp(t testing.TB, reg clients.Registration) (*oauth2.Config, *oidc.Provider) {
	t.Helper()
	key, err := serverSecret(t.Context(), p.db, p.ring, clientSecretKeyName, timeNow())
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := clients.NewSecretHasher(key)
	if reg.Name == "" {
		reg.Name = "Compatriot card"
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = []string{rpRedirect}
	}
	if reg.Scopes == nil {
		reg.Scopes = []string{"openid", "profile", "email", "identity", "offline_access"}
	}
	if reg.GrantTypes == nil {
		reg.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	reg.PostLogoutRedirectURIs = []string{"http://127.0.0.1:9/bye"}
	c, secret, err := (&clients.Service{Store: p.db, Secrets: hasher}).Create(t.Context(), reg)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(t.Context(), p.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := provider.Endpoint()
	// Registered for client_secret_basic; without this, x/oauth2 retries a
	// failed request with the secret in the body and gets invalid_client.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	return &oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: ep,
		RedirectURL: reg.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "profile", "email", "identity"}}, provider
}

// browser is a person's browser: it keeps cookies and follows redirects
// until it reaches the relying party.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), "http://127.0.0.1:9/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &browser{t: t, client: c}
}

// browserPage is a response as the browser saw it.
type browserPage struct {
	status int
	url    *url.URL
	body   string
	loc    *url.URL // set when the browser stopped at the relying party
}

func (b *browser) do(req *http.Request) browserPage {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := browserPage{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}
	if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
		p.loc, _ = resp.Location()
	}
	return p
}

func (b *browser) get(u string) browserPage {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

var inputRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// submit posts the page's form (its hidden fields plus fields) to action.
func (b *browser) submit(p browserPage, action string, fields url.Values) browserPage {
	b.t.Helper()
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(p.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	target := p.url.ResolveReference(&url.URL{Path: action})
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	return b.do(req)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

func random(t testing.TB) string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn takes the browser from an authorization URL through the login
// (and, when shown, consent) pages to the relying party, and returns the
// redirect it got.
func (b *browser) signIn(authURL, username, password string, consent url.Values) *url.URL {
	b.t.Helper()
	p := b.get(authURL)
	if p.loc != nil {
		return p.loc
	}
	if strings.HasSuffix(p.url.Path, "/login") {
		if !strings.Contains(p.body, `autocomplete="username"`) || !strings.Contains(p.body, `autocomplete="current-password"`) {
			b.t.Fatalf("login page lacks autocomplete attributes:\n%s", p.body)
		}
		p = b.submit(p, "/login", url.Values{"username": {username}, "password": {password}})
		if p.loc != nil {
			return p.loc
		}
	}
	if !strings.HasSuffix(p.url.Path, "/consent") {
		b.t.Fatalf("expected the consent page, got %d %s:\n%s", p.status, p.url, p.body)
	}
	if consent == nil {
		consent = url.Values{"decision": {"allow"}}
	}
	p = b.submit(p, "/consent", consent)
	if p.loc == nil {
		b.t.Fatalf("consent did not return to the relying party: %d %s\n%s", p.status, p.url, p.body)
	}
	return p.loc
}

func TestEndToEndCodeFlow(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		sub := p.person(t, "anna", "standard")
		cfg, provider := p.rp(t, clients.Registration{})
		verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
		br := newBrowser(t)

		state, nonce, pkce := random(t), random(t), oauth2.GenerateVerifier()
		cfg.Scopes = append(cfg.Scopes, "offline_access")
		authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce))
		back := br.signIn(authURL, "anna", "correct horse battery", url.Values{"decision": {"allow"}, "remember": {"1"}})
		q := back.Query()
		if q.Get("state") != state || q.Get("iss") != p.issuer || q.Get("code") == "" {
			t.Fatalf("authorization response: %s", back)
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var claims struct {
			Nonce    string   `json:"nonce"`
			ACR      string   `json:"acr"`
			AMR      []string `json:"amr"`
			SID      string   `json:"sid"`
			AuthTime int64    `json:"auth_time"`
			AtHash   string   `json:"at_hash"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if idt.Subject != sub || claims.Nonce != nonce || claims.ACR != "urn:propusk:acr:standard" ||
			len(claims.AMR) != 1 || claims.AMR[0] != "pwd" || claims.SID == "" || claims.AuthTime == 0 || claims.AtHash == "" {
			t.Fatalf("ID token claims: sub %q %+v", idt.Subject, claims)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}

		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var info map[string]any
		ui.Claims(&info)
		if ui.Subject != sub || info["given_name"] != "Анна" || info["account_kind"] != "compatriot" || info["country_of_residence"] != "KZ" {
			t.Fatalf("userinfo: %v", info)
		}
		if _, ok := info["phone_number"]; ok {
			t.Fatal("userinfo released a claim of a scope that was not granted")
		}

		// Refresh rotates; the old refresh token is then a replay.
		old := tok.RefreshToken
		if old == "" {
			t.Fatal("no refresh token despite offline_access")
		}
		fresh, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token()
		if err != nil || fresh.RefreshToken == old || fresh.RefreshToken == "" {
			t.Fatalf("refresh: %v (rotated: %v)", err, fresh != nil && fresh.RefreshToken != old)
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token(); err == nil {
			t.Fatal("a rotated refresh token was accepted again")
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Fatal("the family survived a replayed refresh token")
		}

		// Single sign-on: the same browser, remembered consent, no pages.
		again := br.get(cfg.AuthCodeURL(random(t), oauth2.S256ChallengeOption(pkce)))
		if again.loc == nil || again.loc.Query().Get("code") == "" {
			t.Fatalf("SSO with remembered consent showed a page: %d %s", again.status, again.url)
		}

		// RP-initiated logout with the ID token as hint ends the session;
		// prompt=none then answers login_required.
		out := br.get(p.issuer + "/oauth2/sessions/logout?" + url.Values{"id_token_hint": {raw},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"bye-state"}}.Encode())
		if out.loc == nil || out.loc.Query().Get("state") != "bye-state" {
			t.Fatalf("logout did not return to the relying party: %d %s %s", out.status, out.url, out.body)
		}
		none := br.get(cfg.AuthCodeURL(random(t), oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
		if none.loc == nil || none.loc.Query().Get("error") != "login_required" || none.loc.Query().Get("iss") != p.issuer {
			t.Fatalf("prompt=none after logout: %d %v", none.status, none.loc)
		}
	})
}

func TestEndToEndRefusals(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "boris", "simplified")
		cfg, _ := p.rp(t, clients.Registration{})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()

		// Unknown client and unregistered redirect URI: an error page, never
		// a redirect.
		bad := *cfg
		bad.ClientID = "no-such-client"
		if pg := br.get(bad.AuthCodeURL("s-123456", oauth2.S256ChallengeOption(pkce))); pg.loc != nil || pg.status != http.StatusBadRequest {
			t.Fatalf("unknown client: %d %v", pg.status, pg.loc)
		}
		bad = *cfg
		bad.RedirectURL = "http://127.0.0.1:9/elsewhere"
		if pg := br.get(bad.AuthCodeURL("s-123456", oauth2.S256ChallengeOption(pkce))); pg.loc != nil || pg.status != http.StatusBadRequest {
			t.Fatalf("unregistered redirect: %d %v", pg.status, pg.loc)
		}
		// Missing PKCE: an error back at the client.
		if pg := br.get(cfg.AuthCodeURL("s-123456")); pg.loc == nil || pg.loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("missing PKCE: %d %v", pg.status, pg.loc)
		}
		// An account level below acr_values: unmet_authentication_requirements.
		back := br.signIn(cfg.AuthCodeURL("s-123456", oauth2.S256ChallengeOption(pkce),
			oauth2.SetAuthURLParam("acr_values", "urn:propusk:acr:confirmed")), "boris", "correct horse battery", nil)
		if back.Query().Get("error") != "unmet_authentication_requirements" {
			t.Fatalf("acr above the account's level: %s", back)
		}
		// Wrong password: the page again, nothing issued.
		pg := br.get(cfg.AuthCodeURL("s-123456", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "login")))
		pg = br.submit(pg, "/login", url.Values{"username": {"boris"}, "password": {"wrong password!"}})
		if pg.status != http.StatusUnauthorized || pg.loc != nil {
			t.Fatalf("wrong password: %d %v", pg.status, pg.loc)
		}
		// A form without its CSRF token is refused.
		noCSRF := br.submit(browserPage{url: pg.url, body: strings.ReplaceAll(pg.body, `name="csrf"`, `name="x"`)}, "/login",
			url.Values{"username": {"boris"}, "password": {"correct horse battery"}})
		if noCSRF.status != http.StatusForbidden {
			t.Fatalf("login without CSRF token: %d", noCSRF.status)
		}
		// Deny at consent: access_denied.
		back = br.signIn(cfg.AuthCodeURL("s-deny-1", oauth2.S256ChallengeOption(pkce)), "boris", "correct horse battery",
			url.Values{"decision": {"deny"}})
		if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s-deny-1" {
			t.Fatalf("deny: %s", back)
		}
		// A code with the wrong verifier, then reused: invalid_grant both times.
		back = br.signIn(cfg.AuthCodeURL("s-123456", oauth2.S256ChallengeOption(pkce)), "boris", "correct horse battery", nil)
		code := back.Query().Get("code")
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("wrong verifier: %v", err)
		}
		// Wrong client secret: 401 invalid_client.
		wrong := *cfg
		wrong.ClientSecret = "not-the-secret"
		_, err = wrong.Exchange(ctx, "whatever", oauth2.VerifierOption(pkce))
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized ||
			re.Response.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("wrong secret: %v", err)
		}
	})
}

// Two handler trees (two nodes) on one PostgreSQL database share the SSO
// session: signed in at one, the person is signed in at the other.
func TestTwoNodesShareOneSession(t *testing.T) {
	db := testdb.Postgres(t)
	ring := newRing(t)
	a, b := startIDP(t, db, ring), startIDP(t, db, ring)
	p := a
	p.person(t, "vera", "simplified")
	cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
	br := newBrowser(t)
	pkce := oauth2.GenerateVerifier()
	back := br.signIn(cfg.AuthCodeURL("s-node-a", oauth2.S256ChallengeOption(pkce)), "vera", "correct horse battery", nil)
	if back.Query().Get("code") == "" {
		t.Fatalf("sign-in at node A: %s", back)
	}
	// Node B: same cookie (the jar holds it for 127.0.0.1), different
	// process; its issuer differs only by port, so use its own endpoint.
	cfgB := *cfg
	cfgB.Endpoint.AuthURL = strings.Replace(cfg.Endpoint.AuthURL, a.issuer, b.issuer, 1)
	pg := br.get(cfgB.AuthCodeURL("s-node-b", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
	if pg.loc == nil || pg.loc.Query().Get("code") == "" {
		t.Fatalf("node B did not see node A's session: %d %v %s", pg.status, pg.loc, pg.body)
	}
	_ = context.Background
}
