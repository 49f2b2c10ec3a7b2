package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

// postForm posts form to the provider as a back-channel client would.
func postForm(t *testing.T, endpoint string, form url.Values, user, pass string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(body, &m)
	return resp.StatusCode, m, resp.Header
}

func (p *idp) introspect(t *testing.T, cfg *oauth2.Config, token string) bool {
	t.Helper()
	status, m, _ := postForm(t, p.issuer+"/oauth2/introspect", url.Values{"token": {token}}, cfg.ClientID, cfg.ClientSecret)
	if status != http.StatusOK {
		t.Fatalf("introspection: %d %v", status, m)
	}
	return m["active"] == true
}

func TestEndToEndTokensIntrospectionRevocation(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "galina", "simplified")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true,
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}})

		// client_credentials: a token for the client itself.
		status, m, _ := postForm(t, cfg.Endpoint.TokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusOK || m["access_token"] == nil || m["refresh_token"] != nil {
			t.Fatalf("client_credentials: %d %v", status, m)
		}
		if !p.introspect(t, cfg, m["access_token"].(string)) {
			t.Fatal("client-credentials token not active")
		}
		_, im, _ := postForm(t, p.issuer+"/oauth2/introspect", url.Values{"token": {m["access_token"].(string)}}, cfg.ClientID, cfg.ClientSecret)
		if im["acr"] != nil || im["auth_time"] != nil || im["sub"] != nil {
			t.Fatalf("a client's own token introspected with a person's sign-in: %v", im)
		}

		// A code, exchanged once; the second exchange fails and revokes
		// what the first issued.
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		cfg.Scopes = append(cfg.Scopes, "offline_access")
		back := br.signIn(cfg.AuthCodeURL("s-1234567", oauth2.S256ChallengeOption(pkce)), "galina", "correct horse battery", nil)
		code := back.Query().Get("code")
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatal(err)
		}
		if !p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("fresh access token not active")
		}
		// A person's token tells the resource server how and when they
		// signed in, as the ID token does (RFC 9470 §6.2).
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		var idc struct {
			ACR      string `json:"acr"`
			AuthTime int64  `json:"auth_time"`
		}
		if err := idt.Claims(&idc); err != nil || idc.ACR == "" || idc.AuthTime == 0 {
			t.Fatalf("ID token acr/auth_time: %+v %v", idc, err)
		}
		_, im, _ = postForm(t, p.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, cfg.ClientID, cfg.ClientSecret)
		if im["acr"] != idc.ACR || im["auth_time"] != float64(idc.AuthTime) || im["sub"] != idt.Subject {
			t.Fatalf("introspection %v, ID token acr %q auth_time %d sub %q", im, idc.ACR, idc.AuthTime, idt.Subject)
		}
		// The username (often an e-mail address) is personal data that
		// scopes govern; introspection does not hand it out.
		if im["username"] != nil {
			t.Fatalf("introspection discloses the username: %v", im)
		}
		_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(pkce))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("code reuse: %v", err)
		}
		if p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("access token of a reused code still active")
		}

		// Revocation (RFC 7009) of a refresh token ends its family.
		back = br.signIn(cfg.AuthCodeURL("s-7654321", oauth2.S256ChallengeOption(pkce)), "galina", "correct horse battery", nil)
		tok, err = cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatal(err)
		}
		status, _, _ = postForm(t, p.issuer+"/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusOK {
			t.Fatalf("revocation: %d", status)
		}
		if p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("access token active after its refresh token was revoked")
		}
		if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("revoked refresh token still works")
		}
		// Another client cannot introspect-authenticate with a wrong secret.
		status, _, hdr := postForm(t, p.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, cfg.ClientID, "wrong")
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Fatalf("introspection with a wrong secret: %d", status)
		}

		// An access token is not a credential for introspection, wherever
		// it is sent: header, body or query, with or without (wrong) Basic
		// credentials beside it.
		clientToken := func() string {
			status, m, _ := postForm(t, cfg.Endpoint.TokenURL, url.Values{"grant_type": {"client_credentials"}}, cfg.ClientID, cfg.ClientSecret)
			if status != http.StatusOK {
				t.Fatalf("client_credentials: %d %v", status, m)
			}
			return m["access_token"].(string)
		}
		bearer, target := clientToken(), clientToken()
		for name, send := range map[string]func(*http.Request){
			"header": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+bearer) },
			"body":   func(r *http.Request) {},
			"body with wrong basic": func(r *http.Request) {
				r.SetBasicAuth(url.QueryEscape(cfg.ClientID), "wrong")
			},
			"query": func(r *http.Request) { r.URL.RawQuery = url.Values{"access_token": {bearer}}.Encode() },
		} {
			form := url.Values{"token": {target}}
			if strings.HasPrefix(name, "body") {
				form.Set("access_token", bearer)
			}
			req, _ := http.NewRequest(http.MethodPost, p.issuer+"/oauth2/introspect", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			send(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(string(body), `"active":true`) {
				t.Fatalf("introspection with a bearer token in the %s: %d %s", name, resp.StatusCode, body)
			}
		}
	})
}

func TestEndToEndPAR(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "dmitry", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true, RequirePAR: true})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		params := url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID}, "redirect_uri": {cfg.RedirectURL},
			"scope": {"openid profile"}, "state": {"par-state-1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)},
			"code_challenge_method": {"S256"}}

		// Without PAR the client is refused.
		direct := br.get(cfg.Endpoint.AuthURL + "?" + params.Encode())
		if direct.loc == nil || direct.loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("PAR-required client sent a plain request: %d %v", direct.status, direct.loc)
		}
		status, m, _ := postForm(t, p.issuer+"/oauth2/par", params, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusCreated || m["request_uri"] == nil {
			t.Fatalf("push: %d %v", status, m)
		}
		uri := m["request_uri"].(string)
		authURL := cfg.Endpoint.AuthURL + "?" + url.Values{"client_id": {cfg.ClientID}, "request_uri": {uri}}.Encode()
		back := br.signIn(authURL, "dmitry", "correct horse battery", nil)
		if back.Query().Get("code") == "" || back.Query().Get("state") != "par-state-1" {
			t.Fatalf("PAR sign-in: %s", back)
		}
		if _, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce)); err != nil {
			t.Fatalf("exchange after PAR: %v", err)
		}
		// A request_uri is single use.
		if again := br.get(authURL); again.loc != nil && again.loc.Query().Get("code") != "" {
			t.Fatal("a request_uri was used twice")
		}

		// Around the PAR requirement: a request_uri that names no pushed
		// request, or a request object, is refused (to the client, whose
		// redirect URI fosite has checked), and no flow starts.
		// (Without openid in the scope fosite ignored a foreign request_uri
		// altogether, and the flow began.)
		for name, extra := range map[string]url.Values{
			"fake request_uri":                  {"request_uri": {"x"}},
			"fake request_uri, no openid scope": {"request_uri": {"x"}, "scope": {"profile"}},
			"request object":                    {"request": {"eyJhbGciOiJub25lIn0.e30."}},
		} {
			q := url.Values{}
			for k, v := range params {
				q[k] = v
			}
			for k, v := range extra {
				q[k] = v
			}
			pg := br.get(cfg.Endpoint.AuthURL + "?" + q.Encode())
			if pg.loc == nil || pg.loc.Query().Get("code") != "" || pg.loc.Query().Get("error") == "" || !strings.HasPrefix(pg.loc.String(), cfg.RedirectURL) {
				t.Fatalf("%s for a PAR-required client: %d %v", name, pg.status, pg.loc)
			}
		}
		// Another client cannot push for this one.
		other, _ := p.rp(t, clients.Registration{FirstParty: true})
		if status, m, _ := postForm(t, p.issuer+"/oauth2/par", params, other.ClientID, other.ClientSecret); status != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Fatalf("a push for another client: %d %v", status, m)
		}
		withObject := url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}
		for k, v := range params {
			withObject[k] = v
		}
		if status, m, _ := postForm(t, p.issuer+"/oauth2/par", withObject, cfg.ClientID, cfg.ClientSecret); status != http.StatusBadRequest || m["error"] != "request_not_supported" {
			t.Fatalf("a push with a request object: %d %v", status, m)
		}

		// Only what was pushed counts: a front-channel parameter beside the
		// request_uri (here prompt=none, which would fail a signed-out
		// browser with login_required) is ignored.
		status, m, _ = postForm(t, p.issuer+"/oauth2/par", params, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusCreated {
			t.Fatalf("push: %d %v", status, m)
		}
		fresh := newBrowser(t)
		pg := fresh.get(cfg.Endpoint.AuthURL + "?" + url.Values{"client_id": {cfg.ClientID}, "request_uri": {m["request_uri"].(string)}, "prompt": {"none"}}.Encode())
		if pg.loc != nil && pg.loc.Query().Get("error") != "" {
			t.Fatalf("a front-channel prompt=none beside a pushed request was honoured: %v", pg.loc)
		}
	})
}

// private_key_jwt: the client signs an assertion with its own key; the
// same assertion (jti) is accepted once.
func TestEndToEndPrivateKeyJWT(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "rp-key", Use: "sig"}
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
		cfg, _ := p.rp(t, clients.Registration{AuthMethod: "private_key_jwt", JWKS: jwks,
			GrantTypes: []string{"authorization_code", "client_credentials"}})
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "rp-key").WithType("JWT"))
		assertion := func(jti string) string {
			now := time.Now()
			s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: cfg.ClientID, Subject: cfg.ClientID, Audience: jwt.Audience{cfg.Endpoint.TokenURL},
				ID: jti, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		form := func(a string) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.ClientID},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
		}
		a := assertion(random(t))
		if status, m, _ := postForm(t, cfg.Endpoint.TokenURL, form(a), "", ""); status != http.StatusOK {
			t.Fatalf("private_key_jwt: %d %v", status, m)
		}
		// A failed assertion is invalid_client, 400 without a Basic
		// challenge: the client used no HTTP authentication scheme
		// (RFC 6749 §5.2), and a challenge makes openid-client report
		// it instead of the OAuth error.
		if status, m, hdr := postForm(t, cfg.Endpoint.TokenURL, form(a), "", ""); status != http.StatusBadRequest || m["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") != "" {
			t.Fatalf("replayed assertion: %d %v %v", status, m, hdr)
		}
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		signer, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: other}, (&jose.SignerOptions{}).WithHeader("kid", "rp-key"))
		if status, m, hdr := postForm(t, cfg.Endpoint.TokenURL, form(assertion(random(t))), "", ""); status != http.StatusBadRequest || m["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") != "" {
			t.Fatalf("assertion signed by another key: %d %v %v", status, m, hdr)
		}

		// A set registration accepts works at the token endpoint too: a
		// key without "use" (optional, RFC 7517 §4.2) signs, and a key of
		// a type the protocol library does not know is only left out.
		bare, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "rp-key"})
		loose := []byte(`{"keys":[{"kty":"OKP","crv":"X25519","kid":"enc","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},` + string(bare) + `]}`)
		cfg2, _ := p.rp(t, clients.Registration{AuthMethod: "private_key_jwt", JWKS: loose, GrantTypes: []string{"client_credentials"}})
		cfg = cfg2
		signer, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "rp-key").WithType("JWT"))
		if status, m, _ := postForm(t, cfg.Endpoint.TokenURL, form(assertion(random(t))), "", ""); status != http.StatusOK {
			t.Fatalf("private_key_jwt with a key without use beside an X25519 key: %d %v", status, m)
		}
	})
}

// OIDC request semantics Propusk implements itself.
func TestEndToEndRequestSemantics(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		sub := p.person(t, "elena", "confirmed")
		p.person(t, "fedor", "simplified")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true, IDTokenSigningAlg: "RS256"})
		verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: []string{"RS256"}})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		auth := func(opts ...oauth2.AuthCodeOption) string {
			return cfg.AuthCodeURL("state-"+random(t), append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce)}, opts...)...)
		}
		exchange := func(back *url.URL) *oidc.IDToken {
			t.Helper()
			tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange (%s): %v", back, err)
			}
			idt, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatalf("RS256 ID token: %v", err)
			}
			return idt
		}
		// An essential acr in the claims parameter the account meets.
		claims := `{"id_token":{"acr":{"essential":true,"values":["urn:propusk:acr:confirmed"]},"given_name":null}}`
		first := exchange(br.signIn(auth(oauth2.SetAuthURLParam("claims", claims)), "elena", "correct horse battery", nil))
		var c struct {
			ACR       string `json:"acr"`
			GivenName string `json:"given_name"`
			AuthTime  int64  `json:"auth_time"`
		}
		first.Claims(&c)
		if first.Subject != sub || c.ACR != "urn:propusk:acr:confirmed" || c.GivenName != "Анна" {
			t.Fatalf("claims parameter: %+v", c)
		}
		// Asked essentially for a lower value than the account reaches:
		// the ID token says one of the values asked for (OIDC Core
		// §5.5.1.1), not the higher level.
		lower := `{"id_token":{"acr":{"essential":true,"values":["urn:propusk:acr:simplified","urn:propusk:acr:standard"]}}}`
		exchange(br.get(auth(oauth2.SetAuthURLParam("claims", lower))).loc).Claims(&c)
		if c.ACR != "urn:propusk:acr:standard" {
			t.Fatalf("essential acr values below the account's level: acr %q, want urn:propusk:acr:standard", c.ACR)
		}
		raw := func() string {
			back := br.get(auth())
			tok, err := cfg.Exchange(ctx, back.loc.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			return tok.Extra("id_token").(string)
		}()

		// max_age: a session older than max_age needs a new sign-in; the new
		// auth_time is later.
		time.Sleep(1100 * time.Millisecond)
		pg := br.get(auth(oauth2.SetAuthURLParam("max_age", "0")))
		if pg.loc != nil || !strings.HasSuffix(pg.url.Path, "/login") {
			t.Fatalf("max_age=0 did not ask to sign in again: %d %v", pg.status, pg.loc)
		}
		second := exchange(br.signIn(auth(oauth2.SetAuthURLParam("max_age", "0")), "elena", "correct horse battery", nil))
		var c2 struct {
			AuthTime int64 `json:"auth_time"`
		}
		second.Claims(&c2)
		if c2.AuthTime <= c.AuthTime {
			t.Fatalf("auth_time did not move after max_age forced a sign-in: %d then %d", c.AuthTime, c2.AuthTime)
		}
		// prompt=login always shows the login page.
		if pg := br.get(auth(oauth2.SetAuthURLParam("prompt", "login"))); pg.loc != nil {
			t.Fatal("prompt=login answered without a sign-in")
		}
		// id_token_hint for the signed-in person: prompt=none works; a
		// tampered hint is invalid_request.
		if pg := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", raw))); pg.loc == nil || pg.loc.Query().Get("code") == "" {
			t.Fatalf("prompt=none with a matching hint: %d %v", pg.status, pg.loc)
		}
		if pg := br.get(auth(oauth2.SetAuthURLParam("id_token_hint", raw[:len(raw)-4]+"AAAA"))); pg.loc == nil || pg.loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("tampered id_token_hint: %d %v", pg.status, pg.loc)
		}
		// A hint for someone else: prompt=none cannot answer.
		other := newBrowser(t)
		back := other.signIn(auth(), "fedor", "correct horse battery", nil)
		if back.Query().Get("code") == "" {
			t.Fatal(back)
		}
		if pg := other.get(auth(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", raw))); pg.loc == nil || pg.loc.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none with another person's hint: %d %v", pg.status, pg.loc)
		}
		// An unknown acr value cannot be met.
		if pg := br.get(auth(oauth2.SetAuthURLParam("acr_values", "urn:example:unknown"))); pg.loc == nil || pg.loc.Query().Get("error") != "unmet_authentication_requirements" {
			t.Fatalf("unknown acr: %d %v", pg.status, pg.loc)
		}
		// A tampered session cookie is no session.
		u, _ := url.Parse(p.issuer)
		for _, ck := range br.client.Jar.Cookies(u) {
			if ck.Name == "propusk_session" {
				ck.Value = ck.Value[:len(ck.Value)-2] + "xx"
				br.client.Jar.SetCookies(u, []*http.Cookie{ck})
			}
		}
		if pg := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); pg.loc == nil || pg.loc.Query().Get("error") != "login_required" {
			t.Fatalf("tampered cookie: %d %v", pg.status, pg.loc)
		}
		// form_post: the answer is a page with a form to the redirect URI,
		// and the CSP allows exactly that target.
		br2 := newBrowser(t)
		pg = br2.get(auth(oauth2.SetAuthURLParam("response_mode", "form_post")))
		pg = br2.submit(pg, "/login", url.Values{"username": {"elena"}, "password": {"correct horse battery"}})
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `action="`+cfg.RedirectURL+`"`) || !strings.Contains(pg.body, `name="code"`) || !strings.Contains(pg.body, `name="iss"`) {
			t.Fatalf("form_post response: %d\n%s", pg.status, pg.body)
		}
	})
}

// Logout without a hint asks the person; a bare link cannot sign them out.
func TestEndToEndLogoutConfirmation(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "irina", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		br.signIn(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "irina", "correct horse battery", nil)
		pg := br.get(p.issuer + "/oauth2/sessions/logout")
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="decision" value="confirm"`) {
			t.Fatalf("logout without hint: %d\n%s", pg.status, pg.body)
		}
		// A cross-site POST without the confirmation token changes nothing.
		forged := br.submit(browserPage{url: pg.url, body: ""}, "/oauth2/sessions/logout", url.Values{"decision": {"confirm"}, "csrf": {"forged"}})
		if forged.status != http.StatusOK || !strings.Contains(forged.body, `value="confirm"`) {
			t.Fatalf("forged logout: %d", forged.status)
		}
		if still := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none"))); still.loc == nil || still.loc.Query().Get("code") == "" {
			t.Fatal("a forged logout ended the session")
		}
		// The confirmation's token is the sign-in's: the first showing's
		// form still counts after the page was shown again (a second tab,
		// the refused attempt).
		if hiddenField(forged, "csrf") != hiddenField(pg, "csrf") {
			t.Fatal("two showings of the logout confirmation carry different form tokens")
		}
		done := br.submit(pg, "/oauth2/sessions/logout", url.Values{"decision": {"confirm"}})
		if done.status != http.StatusOK || strings.Contains(done.body, `value="confirm"`) {
			t.Fatalf("confirmed logout from the first showing: %d\n%s", done.status, done.body)
		}
		if after := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none"))); after.loc == nil || after.loc.Query().Get("error") != "login_required" {
			t.Fatalf("after confirmed logout: %v", after.loc)
		}
	})
}

// Password guessing is throttled per account in the database, the same
// whether or not the account exists, and the person is told how long to
// wait.
func TestEndToEndSignInThrottle(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "katya", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		attempt := func(br *browser, username, password string) browserPage {
			pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "login")))
			return br.submit(pg, "/login", url.Values{"username": {username}, "password": {password}})
		}
		for _, username := range []string{"katya", "nobody-here"} {
			br := newBrowser(t)
			for i := 0; i < 5; i++ {
				if pg := attempt(br, username, "wrong password!"); pg.status != http.StatusUnauthorized {
					t.Fatalf("%s attempt %d: %d", username, i+1, pg.status)
				}
			}
			pg := attempt(br, username, "correct horse battery")
			if pg.status != http.StatusTooManyRequests || pg.loc != nil || !strings.Contains(pg.body, `role="alert"`) {
				t.Fatalf("%s after 5 failures: %d %v", username, pg.status, pg.loc)
			}
		}
	})
}

// RFC 9068 access tokens for a client registered for them: a JWT a
// resource server can verify offline, still introspectable and revocable.
func TestEndToEndJWTAccessTokens(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		sub := p.person(t, "lena", "standard")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true, AccessTokenFormat: "jwt"})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		back := br.signIn(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "lena", "correct horse battery", nil)
		tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatal(err)
		}
		payload, err := oidc.NewRemoteKeySet(ctx, p.issuer+"/.well-known/jwks.json").VerifySignature(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("JWT access token does not verify against the JWKS: %v", err)
		}
		parsed, _ := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
		if typ, _ := parsed.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "at+jwt" || parsed.Signatures[0].Header.KeyID == "" {
			t.Fatalf("JWT access token header: %+v", parsed.Signatures[0].Header)
		}
		var c map[string]any
		json.Unmarshal(payload, &c)
		for _, k := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope", "auth_time", "acr"} {
			if c[k] == nil {
				t.Errorf("JWT access token lacks %s: %v", k, c)
			}
		}
		if c["sub"] != sub || c["client_id"] != cfg.ClientID || c["iss"] != p.issuer {
			t.Fatalf("JWT access token claims: %v", c)
		}
		if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("userinfo with a JWT access token: %v", err)
		}
		if !p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("JWT access token not active at introspection")
		}
		if status, _, _ := postForm(t, p.issuer+"/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, cfg.ClientID, cfg.ClientSecret); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		if p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("revoked JWT access token still active")
		}
	})
}

func TestEndToEndConsentAndHeaders(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "maria", "simplified")
		cfg, _ := p.rp(t, clients.Registration{RedirectURIs: []string{rpRedirect, "http://127.0.0.1:9/other"}})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()

		// The login page carries the security headers.
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)))
		resp, err := br.client.Get(pg.url.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" ||
			resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("login page headers: %v", resp.Header)
		}

		// Consent remembered once...
		back := br.signIn(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "maria", "correct horse battery",
			url.Values{"decision": {"allow"}, "remember": {"1"}})
		code := back.Query().Get("code")
		// ...a code redeemed with another registered redirect URI fails.
		other := *cfg
		other.RedirectURL = "http://127.0.0.1:9/other"
		_, err = other.Exchange(ctx, code, oauth2.VerifierOption(pkce))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("redirect_uri mismatch at the token endpoint: %v", err)
		}
		if again := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce))); again.loc == nil {
			t.Fatal("remembered consent was asked again")
		}
		// ...but prompt=consent asks anyway.
		forced := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "consent")))
		if forced.loc != nil || !strings.HasSuffix(forced.url.Path, "/consent") {
			t.Fatalf("prompt=consent skipped the consent page: %d %v", forced.status, forced.loc)
		}
		// A consent page posted from a browser that did not sign in is refused.
		stranger := newBrowser(t)
		if st := stranger.submit(forced, "/consent", url.Values{"decision": {"allow"}}); st.loc != nil || st.status != http.StatusForbidden {
			t.Fatalf("consent from another browser: %d %v", st.status, st.loc)
		}
		// An unknown path is a localized 404 page.
		if nf := br.get(p.issuer + "/no/such/page"); nf.status != http.StatusNotFound || !strings.Contains(nf.body, "<html") {
			t.Fatalf("404: %d", nf.status)
		}
	})
}

// Userinfo refuses what is not a live token carrying openid, with the
// RFC 6750 challenge.
func TestEndToEndUserinfoRefusals(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true,
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}})
		get := func(token string) (int, string, map[string]any) {
			req, _ := http.NewRequest(http.MethodGet, p.issuer+"/userinfo", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), m
		}
		if status, challenge, _ := get(""); status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") {
			t.Fatalf("no token: %d %q", status, challenge)
		}
		if status, challenge, m := get("ory_at_forged.signature"); status != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") || m["error"] != "invalid_token" {
			t.Fatalf("forged token: %d %q %v", status, challenge, m)
		}
		_, tok, _ := postForm(t, cfg.Endpoint.TokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}, cfg.ClientID, cfg.ClientSecret)
		if status, challenge, m := get(tok["access_token"].(string)); status != http.StatusForbidden || !strings.Contains(challenge, "insufficient_scope") || m["error"] != "insufficient_scope" {
			t.Fatalf("token without openid: %d %q %v", status, challenge, m)
		}

		// A person's tokens: the access token works in the header and in a
		// POSTed form; in the URL it is not read; the refresh token is not
		// an access token.
		p.person(t, "ilya", "simplified")
		cfg.Scopes = append(cfg.Scopes, "offline_access")
		pkce := oauth2.GenerateVerifier()
		back := newBrowser(t).signIn(cfg.AuthCodeURL("s-userinfo", oauth2.S256ChallengeOption(pkce)), "ilya", "correct horse battery", nil)
		ptok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil || ptok.RefreshToken == "" {
			t.Fatalf("exchange: %v %+v", err, ptok)
		}
		if status, _, m := get(ptok.AccessToken); status != http.StatusOK || m["sub"] == nil {
			t.Fatalf("userinfo with the access token: %d %v", status, m)
		}
		status, m, _ := postForm(t, p.issuer+"/userinfo", url.Values{"access_token": {ptok.AccessToken}}, "", "")
		if status != http.StatusOK || m["sub"] == nil {
			t.Fatalf("userinfo with the access token in a POSTed form: %d %v", status, m)
		}
		if status, challenge, m := get(ptok.RefreshToken); status != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") {
			t.Fatalf("userinfo with the refresh token: %d %q %v", status, challenge, m)
		}
		resp, err := http.Get(p.issuer + "/userinfo?" + url.Values{"access_token": {ptok.AccessToken}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("userinfo with the access token in the URL: %d", resp.StatusCode)
		}
	})
}

// A database that goes away: readiness fails, pages say to try again
// (with a reference), the token endpoint answers temporarily_unavailable,
// liveness still holds.
func TestEndToEndDatabaseGoesAway(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	p := startIDP(t, db, newRing(t))
	cfg, _ := p.rp(t, clients.Registration{})
	cached, _ := p.rp(t, clients.Registration{GrantTypes: []string{"authorization_code", "client_credentials"}})
	// This client authenticates once while the database is there, so the
	// provider holds it in its cache and gets further without it.
	if got, m, _ := postForm(t, p.issuer+"/oauth2/introspect", url.Values{"token": {"ory_at_x.y"}}, cached.ClientID, cached.ClientSecret); got != http.StatusOK || m["active"] != false {
		t.Fatalf("introspection: %d %v", got, m)
	}
	got, tok, _ := postForm(t, cached.Endpoint.TokenURL, url.Values{"grant_type": {"client_credentials"}}, cached.ClientID, cached.ClientSecret)
	if got != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", got, tok)
	}
	db.Close()
	status := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(p.issuer + "/healthz"); got != http.StatusOK {
		t.Fatalf("healthz: %d", got)
	}
	if got := status(p.issuer + "/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database gone: %d", got)
	}
	pg := newBrowser(t).get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if pg.status != http.StatusServiceUnavailable || pg.loc != nil || !strings.Contains(pg.body, `class="ref"`) {
		t.Fatalf("authorization with the database gone: %d %v\n%s", pg.status, pg.loc, pg.body)
	}
	if got, m, hdr := postForm(t, cfg.Endpoint.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {oauth2.GenerateVerifier()}},
		cfg.ClientID, cfg.ClientSecret); got != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" || hdr.Get("Retry-After") == "" {
		t.Fatalf("token endpoint with the database gone: %d %v", got, m)
	}
	// A revocation that cannot be done is not reported done (fosite would
	// answer 200, or 401 for the client it could not load).
	for _, c := range []*oauth2.Config{cfg, cached} {
		if got, m, _ := postForm(t, p.issuer+"/oauth2/revoke", url.Values{"token": {"ory_at_x.y"}}, c.ClientID, c.ClientSecret); got != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" {
			t.Fatalf("revocation with the database gone: %d %v", got, m)
		}
	}
	// Userinfo cannot tell whether the token is live: "try again", not
	// "your token is invalid".
	req, _ := http.NewRequest(http.MethodGet, p.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("userinfo with the database gone: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// Disabling an account ends what it had: its SSO session, its tokens at
// introspection and userinfo, its refresh tokens; the administrator is told
// how much went. An account disabled without that sweep (directly in the
// store) still gets no new tokens: the token endpoint checks the account.
func TestEndToEndDisabledAccount(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		signedIn := func(username string) (*oauth2.Config, *oidc.Provider, *browser, *oauth2.Token) {
			cfg, provider := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: []string{"authorization_code", "refresh_token"}})
			cfg.Scopes = append(cfg.Scopes, "offline_access")
			br := newBrowser(t)
			pkce := oauth2.GenerateVerifier()
			back := br.signIn(cfg.AuthCodeURL("s-disable-1", oauth2.S256ChallengeOption(pkce)), username, "correct horse battery", nil)
			tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" || !p.introspect(t, cfg, tok.AccessToken) {
				t.Fatalf("no working tokens before disabling: %+v", tok)
			}
			return cfg, provider, br, tok
		}
		refreshRefused := func(cfg *oauth2.Config, rt string) {
			t.Helper()
			_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("refresh for a disabled account: %v", err)
			}
		}

		// Disabled the way the CLI does it.
		id := p.person(t, "zhanna", "simplified")
		cfg, provider, br, tok := signedIn("zhanna")
		ended, err := (&accounts.Service{Store: p.db, Access: p.db}).Disable(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Sign-in made one SSO session and a code, PKCE, OIDC, access and
		// refresh record; the code's records were used already.
		if ended.Sessions != 1 || ended.Grants < 2 {
			t.Fatalf("disable ended %+v", ended)
		}
		if p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("a disabled account's access token is active")
		}
		if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Fatal("userinfo answered for a disabled account")
		}
		refreshRefused(cfg, tok.RefreshToken)
		pkce := oauth2.GenerateVerifier()
		if none := br.get(cfg.AuthCodeURL("s-disable-2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none after disabling: %d %v", none.status, none.loc)
		}

		// Disabled behind Propusk's back: the grants are still active rows,
		// but the token endpoint refuses and ends the family.
		id = p.person(t, "yuri", "simplified")
		cfg, _, _, tok = signedIn("yuri")
		if _, err := p.db.UpdateAccount(ctx, id, func(a store.Account) (store.Account, error) {
			a.DisabledAt = timeNow()
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		refreshRefused(cfg, tok.RefreshToken)
		if p.introspect(t, cfg, tok.AccessToken) {
			t.Fatal("the access token outlived the refused refresh")
		}
	})
}

// A flow begun by an SSO session cannot be finished once that session has
// ended (here: the person changed the password elsewhere, which ends every
// other session): consent on an open consent page is refused, no code.
func TestEndToEndEndedSessionCannotFinishAFlow(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "lev", "simplified")
		own, _ := p.rp(t, clients.Registration{FirstParty: true})
		third, _ := p.rp(t, clients.Registration{})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		br.signIn(own.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)), "lev", "correct horse battery", nil)
		consentPage := br.get(third.AuthCodeURL("s-87654321", oauth2.S256ChallengeOption(pkce)))
		if !strings.HasSuffix(consentPage.url.Path, "/consent") {
			t.Fatalf("expected the consent page: %d %s", consentPage.status, consentPage.url)
		}
		if _, err := p.db.DeleteBrowserSessionsOfAccount(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		done := br.submit(consentPage, "/consent", url.Values{"decision": {"allow"}})
		if done.loc != nil || done.status != http.StatusBadRequest {
			t.Fatalf("consent from an ended session: %d %v", done.status, done.loc)
		}
	})
}

// Over https the SSO cookie is __Host-propusk_session (Secure, host-only,
// path /), so a sibling subdomain cannot plant or shadow it; the plain name
// is for loopback http only.
func TestEndToEndSecureSessionCookie(t *testing.T) {
	db, ring := testdb.Open(t, "sqlite"), newRing(t)
	p := startIDPOn(t, db, ring, true)
	issuer := p.issuer
	p.person(t, "roza", "simplified")
	key, err := serverSecret(t.Context(), db, ring, clientSecretKeyName, timeNow())
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := clients.NewSecretHasher(key)
	c, _, err := (&clients.Service{Store: db, Secrets: hasher}).Create(t.Context(), clients.Registration{
		Name: "Card", FirstParty: true, RedirectURIs: []string{rpRedirect}, Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(extra url.Values) string {
		q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {rpRedirect}, "scope": {"openid"},
			"state": {"s-12345678"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		for k, v := range extra {
			q[k] = v
		}
		return issuer + "/oauth2/auth?" + q.Encode()
	}
	br := newBrowser(t)
	br.client.Transport = p.srv.Client().Transport
	if back := br.signIn(auth(nil), "roza", "correct horse battery", nil); back.Query().Get("code") == "" {
		t.Fatalf("sign-in over https: %v", back)
	}
	u, _ := url.Parse(issuer)
	var names []string
	for _, ck := range br.client.Jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	if !slices.Contains(names, "__Host-propusk_session") || slices.Contains(names, "propusk_session") {
		t.Fatalf("cookies over https: %v", names)
	}
	// The flow's browser binding too: no neighbouring subdomain can plant
	// one (cookie tossing).
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "__Host-propusk_signin_") }) ||
		slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "propusk_signin_") }) {
		t.Fatalf("sign-in cookies over https: %v", names)
	}
	// And it is the cookie Propusk reads: the session answers prompt=none.
	if none := br.get(auth(url.Values{"prompt": {"none"}})); none.loc == nil || none.loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with the __Host- cookie: %d %v", none.status, none.loc)
	}
}

// A public client (an app) cannot prove which app is asking: another app
// on the device can claim its redirect scheme and send its own request
// with its own PKCE pair. So the person confirms every time — no "remember"
// box, an SSO session does not skip the page, and prompt=none answers
// consent_required (RFC 8252 §8.6).
func TestEndToEndPublicClientAlwaysAsks(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "gleb", "simplified")
		cfg, _ := p.rp(t, clients.Registration{Public: true, AuthMethod: "none"})
		cfg.ClientSecret = ""
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()
		auth := func(opts ...oauth2.AuthCodeOption) string {
			return cfg.AuthCodeURL("s-12345678", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce)}, opts...)...)
		}
		pg := br.submit(br.get(auth()), "/login", url.Values{"username": {"gleb"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/consent") || strings.Contains(pg.body, `name="remember"`) {
			t.Fatalf("first sign-in for a public client: %d %s (remember offered: %v)", pg.status, pg.url, strings.Contains(pg.body, `name="remember"`))
		}
		// Even a posted "remember" is not kept.
		if back := br.submit(pg, "/consent", url.Values{"decision": {"allow"}, "remember": {"1"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("consent: %d %v", back.status, back.loc)
		}
		again := br.get(auth())
		if again.loc != nil || !strings.HasSuffix(again.url.Path, "/consent") {
			t.Fatalf("a second request from a signed-in browser skipped the consent page: %d %v", again.status, again.loc)
		}
		if none := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none for a public client: %d %v", none.status, none.loc)
		}
	})
}
