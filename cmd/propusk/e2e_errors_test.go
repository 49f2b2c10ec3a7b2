package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/testdb"
)

// The back-channel endpoints' errors, each against its RFC: token (RFC
// 6749 §5.2), PAR (RFC 9126 §2.3), introspection (RFC 7662 §2.3) and
// revocation (RFC 7009 §2.2.1).

const (
	pathToken      = "/oauth2/token"
	pathPAR        = "/oauth2/par"
	pathIntrospect = "/oauth2/introspect"
	pathRevoke     = "/oauth2/revoke"
	assertionType  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// backChannelCall is one request to a back-channel endpoint.
type backChannelCall struct {
	path  string
	form  url.Values
	query url.Values
	basic *oauth2.Config // HTTP Basic credentials, if set
	authz string         // a raw Authorization header, if set
}

type backChannelAnswer struct {
	status int
	body   map[string]any
	header http.Header
}

func (p *idp) call(t *testing.T, c backChannelCall) backChannelAnswer {
	t.Helper()
	u := p.issuer + c.path
	if c.query != nil {
		u += "?" + c.query.Encode()
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(c.form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.basic != nil {
		req.SetBasicAuth(url.QueryEscape(c.basic.ClientID), url.QueryEscape(c.basic.ClientSecret))
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return backChannelAnswer{status: resp.StatusCode, body: m, header: resp.Header}
}

// jwtClient registers a private_key_jwt client and returns it with a
// function that signs a fresh assertion for the given audience (a string
// or a list).
func (p *idp) jwtClient(t *testing.T, grants []string) (*oauth2.Config, func(aud jwt.Audience) url.Values) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "rp-key", Use: "sig"}}})
	cfg, _ := p.rp(t, clients.Registration{AuthMethod: "private_key_jwt", JWKS: jwks, GrantTypes: grants})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "rp-key").WithType("JWT"))
	return cfg, func(aud jwt.Audience) url.Values {
		now := time.Now()
		a, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: cfg.ClientID, Subject: cfg.ClientID, Audience: aud,
			ID: random(t), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"client_id": {cfg.ClientID}, "client_assertion_type": {assertionType}, "client_assertion": {a}}
	}
}

// with returns form with extra's parameters added (each appended, so a
// name in both is sent twice).
func with(form url.Values, extra ...url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for _, e := range extra {
		for k, v := range e {
			out[k] = append(out[k], v...)
		}
	}
	return out
}

// bodySecret is client_secret_post credentials.
func bodySecret(c *oauth2.Config) url.Values {
	return url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
}

func wrongSecret(c *oauth2.Config) *oauth2.Config {
	w := *c
	w.ClientSecret = "not-the-secret"
	return &w
}

// checkAnswer compares an answer with the expected status and error code
// ("" for none); challenge says whether a Basic challenge must be there
// (true) or must not (false).
func checkAnswer(t *testing.T, got backChannelAnswer, status int, code string, challenge bool) {
	t.Helper()
	if got.status != status || (code != "" && got.body["error"] != code) || (code == "" && got.body["error"] != nil) {
		t.Errorf("got %d %v, want %d %q", got.status, got.body, status, code)
	}
	if has := strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Basic"); has != challenge {
		t.Errorf("WWW-Authenticate %q, want a Basic challenge: %v", got.header.Get("WWW-Authenticate"), challenge)
	}
	if status >= 400 && !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
		t.Errorf("error without a JSON body: Content-Type %q", got.header.Get("Content-Type"))
	}
	if status >= 400 && got.header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response without Cache-Control: no-store")
	}
}

func TestEndToEndBackChannelErrors(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "olga", "simplified")
		all := []string{"authorization_code", "refresh_token", "client_credentials"}
		full, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: all})
		full2, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: all})
		codeOnly, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: []string{"authorization_code"}})
		post, _ := p.rp(t, clients.Registration{AuthMethod: "client_secret_post", GrantTypes: []string{"client_credentials"}})
		public, _ := p.rp(t, clients.Registration{Public: true, AuthMethod: "none"})
		_, assertion := p.jwtClient(t, []string{"authorization_code", "client_credentials"})
		other := assertion(jwt.Audience{"https://elsewhere.example/token"})

		// A person's tokens, and a token of another client.
		full.Scopes = append(full.Scopes, "offline_access")
		pkce := oauth2.GenerateVerifier()
		back := newBrowser(t).signIn(full.AuthCodeURL("s-errors-1", oauth2.S256ChallengeOption(pkce)), "olga", "correct horse battery", nil)
		tok, err := full.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v %+v", err, tok)
		}
		postTok := p.call(t, backChannelCall{path: pathToken, form: with(url.Values{"grant_type": {"client_credentials"}}, bodySecret(post))})
		if postTok.status != http.StatusOK {
			t.Fatalf("client_credentials, client_secret_post: %d %v", postTok.status, postTok.body)
		}
		otherToken := postTok.body["access_token"].(string)

		cc := url.Values{"grant_type": {"client_credentials"}}
		code := url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.y"}, "code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {rpRedirect}}
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		par := url.Values{"response_type": {"code"}, "client_id": {full.ClientID}, "redirect_uri": {rpRedirect}, "scope": {"openid profile"},
			"state": {"par-state-1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}
		parNoClient := with(par)
		parNoClient.Del("client_id")
		tokenOf := func(s string) url.Values { return url.Values{"token": {s}} }
		tests := []struct {
			name      string
			call      backChannelCall
			status    int
			code      string
			challenge bool
		}{
			// Token endpoint: grants.
			{"token: unknown grant type", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"urn:example:magic"}}, basic: full}, 400, "unsupported_grant_type", false},
			{"token: password grant", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"password"}, "username": {"olga"}, "password": {"correct horse battery"}}, basic: full}, 400, "unsupported_grant_type", false},
			{"token: device code grant", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"x"}, "client_id": {public.ClientID}}}, 400, "unsupported_grant_type", false},
			{"token: JWT bearer grant", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"eyJhbGciOiJub25lIn0.e30."}}}, 400, "unsupported_grant_type", false},
			{"token: two grant types in one", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"authorization_code client_credentials"}}, basic: full}, 400, "unsupported_grant_type", false},
			{"token: no grant type", backChannelCall{path: pathToken, form: url.Values{"scope": {"profile"}}, basic: full}, 400, "invalid_request", false},
			{"token: client_credentials, client not registered for it", backChannelCall{path: pathToken, form: cc, basic: codeOnly}, 400, "unauthorized_client", false},
			{"token: client_credentials with a scope, client not registered for it", backChannelCall{path: pathToken, form: with(cc, url.Values{"scope": {"nonsense"}}), basic: codeOnly}, 400, "unauthorized_client", false},
			{"token: client_credentials, public client", backChannelCall{path: pathToken, form: with(cc, url.Values{"client_id": {public.ClientID}})}, 400, "unauthorized_client", false},
			{"token: refresh_token, client not registered for it", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"ory_rt_x.y"}}, basic: codeOnly}, 400, "unauthorized_client", false},
			{"token: authorization_code, client not registered for it", backChannelCall{path: pathToken, form: with(code, bodySecret(post))}, 400, "unauthorized_client", false},
			// Token endpoint: scopes.
			{"token: client_credentials with offline_access", backChannelCall{path: pathToken, form: with(cc, url.Values{"scope": {"profile offline_access"}}), basic: full}, 400, "invalid_scope", false},
			{"token: client_credentials with openid", backChannelCall{path: pathToken, form: with(cc, url.Values{"scope": {"openid"}}), basic: full}, 400, "invalid_scope", false},
			{"token: client_credentials with an unregistered scope", backChannelCall{path: pathToken, form: with(cc, url.Values{"scope": {"phone"}}), basic: full}, 400, "invalid_scope", false},
			{"token: refresh widening the scope", backChannelCall{path: pathToken, form: with(refresh, url.Values{"scope": {"openid phone"}}), basic: full}, 400, "invalid_scope", false},
			// Token endpoint: parameters.
			{"token: grant_type twice", backChannelCall{path: pathToken, form: with(cc, cc), basic: full}, 400, "invalid_request", false},
			{"token: scope twice", backChannelCall{path: pathToken, form: with(cc, url.Values{"scope": {"profile", "email"}}), basic: full}, 400, "invalid_request", false},
			{"token: client_id twice", backChannelCall{path: pathToken, form: with(cc, bodySecret(post), url.Values{"client_id": {post.ClientID}})}, 400, "invalid_request", false},
			{"token: code twice", backChannelCall{path: pathToken, form: with(code, url.Values{"code": {"ory_ac_z.w"}}), basic: full}, 400, "invalid_request", false},
			{"token: refresh_token twice", backChannelCall{path: pathToken, form: with(refresh, url.Values{"refresh_token": {tok.RefreshToken}}), basic: full}, 400, "invalid_request", false},
			{"token: no code", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"authorization_code"}, "code_verifier": {oauth2.GenerateVerifier()}}, basic: full}, 400, "invalid_request", false},
			{"token: no code_verifier", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.y"}}, basic: full}, 400, "invalid_request", false},
			{"token: no refresh_token", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"refresh_token"}}, basic: full}, 400, "invalid_request", false},
			{"token: unknown code", backChannelCall{path: pathToken, form: code, basic: full}, 400, "invalid_grant", false},
			{"token: unknown refresh token", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"ory_rt_x.y"}}, basic: full}, 400, "invalid_grant", false},
			{"token: another client's refresh token", backChannelCall{path: pathToken, form: refresh, basic: full2}, 400, "invalid_grant", false},
			// Token endpoint: client authentication.
			{"token: no client credentials", backChannelCall{path: pathToken, form: cc}, 401, "invalid_client", true},
			{"token: wrong Basic secret", backChannelCall{path: pathToken, form: cc, basic: wrongSecret(full)}, 401, "invalid_client", true},
			{"token: unknown client, Basic", backChannelCall{path: pathToken, form: cc, basic: &oauth2.Config{ClientID: "no-such-client", ClientSecret: "x"}}, 401, "invalid_client", true},
			{"token: wrong secret in the body", backChannelCall{path: pathToken, form: with(cc, bodySecret(wrongSecret(post)))}, 400, "invalid_client", false},
			{"token: Basic client sending its secret in the body", backChannelCall{path: pathToken, form: with(cc, bodySecret(full))}, 400, "invalid_client", false},
			{"token: assertion for another audience", backChannelCall{path: pathToken, form: with(cc, other)}, 400, "invalid_client", false},
			// An array naming another server beside Propusk: an assertion a
			// malicious server could have had signed, then replayed here.
			{"token: assertion for us and another audience", backChannelCall{path: pathToken,
				form: with(cc, assertion(jwt.Audience{"https://elsewhere.example", p.issuer}))}, 400, "invalid_client", false},
			{"token: replayed assertion", backChannelCall{path: pathToken, form: with(cc, other)}, 400, "invalid_client", false},
			{"token: Basic and an assertion", backChannelCall{path: pathToken, form: with(cc, assertion(jwt.Audience{p.issuer})), basic: full}, 400, "invalid_request", false},
			{"token: Basic and a body secret", backChannelCall{path: pathToken, form: with(cc, url.Values{"client_secret": {full.ClientSecret}}), basic: full}, 400, "invalid_request", false},
			{"token: client_secret in the URL", backChannelCall{path: pathToken, form: with(cc, url.Values{"client_id": {post.ClientID}}), query: url.Values{"client_secret": {post.ClientSecret}}}, 400, "invalid_request", false},
			// An authentication method Propusk does not support: invalid_client
			// (RFC 6749 §5.2, RFC 7521 §4.2.1).
			{"token: assertion with an unknown type", backChannelCall{path: pathToken, form: with(cc, url.Values{"client_assertion_type": {"urn:example:other"}, "client_assertion": {"x"}})}, 400, "invalid_client", false},

			// PAR (RFC 9126 §2.3).
			{"par: scope twice", backChannelCall{path: pathPAR, form: with(par, url.Values{"scope": {"openid"}}), basic: full}, 400, "invalid_request", false},
			{"par: state twice", backChannelCall{path: pathPAR, form: with(par, url.Values{"state": {"par-state-2"}}), basic: full}, 400, "invalid_request", false},
			{"par: request_uri", backChannelCall{path: pathPAR, form: with(par, url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}), basic: full}, 400, "invalid_request", false},
			{"par: request object", backChannelCall{path: pathPAR, form: with(par, url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}), basic: full}, 400, "request_not_supported", false},
			{"par: for another client", backChannelCall{path: pathPAR, form: par, basic: codeOnly}, 400, "invalid_request", false},
			{"par: no client credentials", backChannelCall{path: pathPAR, form: parNoClient}, 401, "invalid_client", true},
			{"par: wrong Basic secret", backChannelCall{path: pathPAR, form: par, basic: wrongSecret(full)}, 401, "invalid_client", true},
			{"par: assertion for another audience", backChannelCall{path: pathPAR, form: with(url.Values{"response_type": {"code"}, "redirect_uri": {rpRedirect}, "scope": {"openid"},
				"state": {"par-state-1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}},
				assertion(jwt.Audience{"https://elsewhere.example/par"}))}, 400, "invalid_client", false},
			{"par: unregistered redirect_uri", backChannelCall{path: pathPAR, form: with(url.Values{"response_type": {"code"}, "client_id": {full.ClientID}, "redirect_uri": {"http://127.0.0.1:9/elsewhere"}, "scope": {"openid"},
				"state": {"par-state-1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}), basic: full}, 400, "invalid_request", false},
			{"par: client not registered for authorization_code", backChannelCall{path: pathPAR, form: with(parNoClient, bodySecret(post))}, 400, "unauthorized_client", false},
			{"par: client_secret in the URL", backChannelCall{path: pathPAR, form: par, query: url.Values{"client_secret": {full.ClientSecret}}}, 400, "invalid_request", false},

			// Introspection (RFC 7662 §2.3).
			{"introspect: no client credentials", backChannelCall{path: pathIntrospect, form: tokenOf(tok.AccessToken)}, 401, "invalid_client", true},
			{"introspect: a bearer token instead", backChannelCall{path: pathIntrospect, form: tokenOf(otherToken), authz: "Bearer " + tok.AccessToken}, 401, "invalid_client", true},
			{"introspect: wrong Basic secret", backChannelCall{path: pathIntrospect, form: tokenOf(tok.AccessToken), basic: wrongSecret(full)}, 401, "invalid_client", true},
			{"introspect: wrong secret in the body", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), bodySecret(wrongSecret(post)))}, 400, "invalid_client", false},
			{"introspect: Basic client sending its secret in the body", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), bodySecret(full))}, 400, "invalid_client", false},
			{"introspect: public client", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), url.Values{"client_id": {public.ClientID}})}, 401, "invalid_client", true},
			{"introspect: assertion for another audience", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), assertion(jwt.Audience{"https://elsewhere.example/introspect"}))}, 400, "invalid_client", false},
			{"introspect: no token", backChannelCall{path: pathIntrospect, form: url.Values{"token_type_hint": {"access_token"}}, basic: full}, 400, "invalid_request", false},
			{"introspect: token twice", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), tokenOf(otherToken)), basic: full}, 400, "invalid_request", false},
			{"introspect: token_type_hint twice", backChannelCall{path: pathIntrospect, form: with(tokenOf(tok.AccessToken), url.Values{"token_type_hint": {"access_token", "refresh_token"}}), basic: full}, 400, "invalid_request", false},
			{"introspect: unknown token", backChannelCall{path: pathIntrospect, form: tokenOf("ory_at_x.y"), basic: full}, 200, "", false},

			// Revocation (RFC 7009 §2.2.1).
			{"revoke: no client credentials", backChannelCall{path: pathRevoke, form: tokenOf(otherToken)}, 401, "invalid_client", true},
			{"revoke: wrong Basic secret", backChannelCall{path: pathRevoke, form: tokenOf(otherToken), basic: wrongSecret(full)}, 401, "invalid_client", true},
			{"revoke: wrong secret in the body", backChannelCall{path: pathRevoke, form: with(tokenOf(otherToken), bodySecret(wrongSecret(post)))}, 400, "invalid_client", false},
			{"revoke: assertion for another audience", backChannelCall{path: pathRevoke, form: with(tokenOf(otherToken), assertion(jwt.Audience{"https://elsewhere.example/revoke"}))}, 400, "invalid_client", false},
			{"revoke: no token", backChannelCall{path: pathRevoke, form: url.Values{"token_type_hint": {"access_token"}}, basic: full}, 400, "invalid_request", false},
			{"revoke: token twice", backChannelCall{path: pathRevoke, form: with(tokenOf(otherToken), tokenOf(tok.AccessToken)), basic: full}, 400, "invalid_request", false},
			{"revoke: another client's token", backChannelCall{path: pathRevoke, form: tokenOf(otherToken), basic: full}, 400, "unauthorized_client", false},
			{"revoke: unknown token", backChannelCall{path: pathRevoke, form: tokenOf("ory_at_x.y"), basic: full}, 200, "", false},
			{"revoke: unknown token_type_hint", backChannelCall{path: pathRevoke, form: with(tokenOf("ory_at_x.y"), url.Values{"token_type_hint": {"urn:example:other"}}), basic: full}, 200, "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				checkAnswer(t, p.call(t, tc.call), tc.status, tc.code, tc.challenge)
			})
		}
		// None of these refusals cost the person's grant or the other
		// client's token anything.
		if !p.introspect(t, full, tok.AccessToken) {
			t.Fatal("the person's access token is no longer active")
		}
		if got := p.call(t, backChannelCall{path: pathIntrospect, form: tokenOf(otherToken), basic: full}); got.body["active"] != true {
			t.Fatalf("another client's token after a refused revocation: %v", got.body)
		}
	})
}

// Introspection and revocation accept a client's own registered method —
// client_secret_basic, client_secret_post, private_key_jwt — as discovery
// says; an assertion may name the issuer or the endpoint it is sent to, as
// a string or in a list.
func TestEndToEndClientAuthenticationMethods(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		basic, _ := p.rp(t, clients.Registration{GrantTypes: []string{"client_credentials"}})
		post, _ := p.rp(t, clients.Registration{AuthMethod: "client_secret_post", GrantTypes: []string{"client_credentials"}})
		_, assertion := p.jwtClient(t, []string{"authorization_code", "client_credentials"})
		cc := url.Values{"grant_type": {"client_credentials"}}
		token := func(t *testing.T, c backChannelCall) string {
			t.Helper()
			got := p.call(t, c)
			if got.status != http.StatusOK || got.body["access_token"] == nil {
				t.Fatalf("token: %d %v", got.status, got.body)
			}
			return got.body["access_token"].(string)
		}
		active := func(t *testing.T, tok string) bool {
			t.Helper()
			got := p.call(t, backChannelCall{path: pathIntrospect, form: url.Values{"token": {tok}}, basic: basic})
			if got.status != http.StatusOK {
				t.Fatalf("introspection: %d %v", got.status, got.body)
			}
			return got.body["active"] == true
		}
		for _, tc := range []struct {
			name string
			cred func(path string) backChannelCall // the client's credentials for a request to path
		}{
			{"client_secret_basic", func(path string) backChannelCall { return backChannelCall{path: path, basic: basic} }},
			{"client_secret_post", func(path string) backChannelCall {
				return backChannelCall{path: path, form: bodySecret(post)}
			}},
			{"private_key_jwt, aud the endpoint", func(path string) backChannelCall {
				return backChannelCall{path: path, form: assertion(jwt.Audience{p.issuer + path})}
			}},
			{"private_key_jwt, aud the issuer", func(path string) backChannelCall {
				return backChannelCall{path: path, form: assertion(jwt.Audience{p.issuer})}
			}},
			{"private_key_jwt, aud a list of ours", func(path string) backChannelCall {
				return backChannelCall{path: path, form: assertion(jwt.Audience{p.issuer, p.issuer + path})}
			}},
			{"private_key_jwt, aud the token endpoint everywhere", func(path string) backChannelCall {
				return backChannelCall{path: path, form: assertion(jwt.Audience{p.issuer + pathToken})}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				at := func(path string, form url.Values) backChannelCall {
					c := tc.cred(path)
					c.form = with(c.form, form)
					return c
				}
				tok := token(t, at(pathToken, cc))
				got := p.call(t, at(pathIntrospect, url.Values{"token": {tok}}))
				if got.status != http.StatusOK || got.body["active"] != true {
					t.Fatalf("introspection: %d %v", got.status, got.body)
				}
				if got := p.call(t, at(pathRevoke, url.Values{"token": {tok}})); got.status != http.StatusOK {
					t.Fatalf("revocation: %d %v", got.status, got.body)
				}
				if active(t, tok) {
					t.Fatal("the token is active after its revocation")
				}
			})
		}
		// PAR with private_key_jwt, aud the issuer.
		pkce := oauth2.GenerateVerifier()
		par := with(url.Values{"response_type": {"code"}, "redirect_uri": {rpRedirect}, "scope": {"openid"}, "state": {"par-state-1"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}, assertion(jwt.Audience{p.issuer}))
		if got := p.call(t, backChannelCall{path: pathPAR, form: par}); got.status != http.StatusCreated || got.body["request_uri"] == nil {
			t.Fatalf("PAR with private_key_jwt: %d %v", got.status, got.body)
		}
	})
}

// syncBuffer is a log sink the handlers write to from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startIDPLogged is startIDP with its log kept for the test to read.
func startIDPLogged(t *testing.T, db database) (*idp, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	logs := &syncBuffer{}
	ring := newRing(t)
	logger := slog.New(reqlog.Handler{Handler: slog.NewTextHandler(logs, nil)})
	h, _, err := newHandler(t.Context(), issuer, db, ring, logger, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &idp{issuer: issuer, db: db, ring: ring, srv: srv}, logs
}

// With the database gone, no back-channel endpoint can say whether a token,
// a code or a client is good: each answers 503 temporarily_unavailable with
// Retry-After (RFC 6749 §5.2, RFC 7009 §2.2.1), never "inactive" or
// "invalid", and logs the failure. Both for clients the node holds in its
// cache and for clients it must read.
func TestEndToEndBackChannelDatabaseGone(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, backend)
			p, logs := startIDPLogged(t, db)
			p.person(t, "pavel", "simplified")
			full, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}})
			cold, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: []string{"authorization_code", "client_credentials"}})
			_, assertion := p.jwtClient(t, []string{"client_credentials"})
			full.Scopes = append(full.Scopes, "offline_access")
			pkce := oauth2.GenerateVerifier()
			back := newBrowser(t).signIn(full.AuthCodeURL("s-gone-123", oauth2.S256ChallengeOption(pkce)), "pavel", "correct horse battery", nil)
			tok, err := full.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("exchange: %v %+v", err, tok)
			}
			// Warm the client cache: full and the JWT client authenticate
			// once while the database is there.
			if !p.introspect(t, full, tok.AccessToken) {
				t.Fatal("fresh access token not active")
			}
			cc := url.Values{"grant_type": {"client_credentials"}}
			if got := p.call(t, backChannelCall{path: pathToken, form: with(cc, assertion(jwt.Audience{p.issuer + pathToken}))}); got.status != http.StatusOK {
				t.Fatalf("private_key_jwt: %d %v", got.status, got.body)
			}
			db.Close()

			par := url.Values{"response_type": {"code"}, "redirect_uri": {rpRedirect}, "scope": {"openid"}, "state": {"par-state-1"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}
			code := url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.y"}, "code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {rpRedirect}}
			for _, tc := range []struct {
				name string
				call backChannelCall
			}{
				{"introspect a live token", backChannelCall{path: pathIntrospect, form: url.Values{"token": {tok.AccessToken}}, basic: full}},
				{"introspect, uncached client", backChannelCall{path: pathIntrospect, form: url.Values{"token": {tok.AccessToken}}, basic: cold}},
				{"token: client_credentials", backChannelCall{path: pathToken, form: cc, basic: full}},
				{"token: refresh", backChannelCall{path: pathToken, form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic: full}},
				{"token: code", backChannelCall{path: pathToken, form: code, basic: full}},
				{"token: uncached client", backChannelCall{path: pathToken, form: cc, basic: cold}},
				{"token: private_key_jwt", backChannelCall{path: pathToken, form: with(cc, assertion(jwt.Audience{p.issuer + pathToken}))}},
				{"par", backChannelCall{path: pathPAR, form: with(par, url.Values{"client_id": {full.ClientID}}), basic: full}},
				{"par, uncached client", backChannelCall{path: pathPAR, form: with(par, url.Values{"client_id": {cold.ClientID}}), basic: cold}},
				{"revoke", backChannelCall{path: pathRevoke, form: url.Values{"token": {tok.RefreshToken}}, basic: full}},
				{"revoke, uncached client", backChannelCall{path: pathRevoke, form: url.Values{"token": {tok.RefreshToken}}, basic: cold}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := p.call(t, tc.call)
					checkAnswer(t, got, http.StatusServiceUnavailable, "temporarily_unavailable", false)
					if got.header.Get("Retry-After") == "" {
						t.Error("503 without Retry-After")
					}
				})
			}
			for _, msg := range []string{"token request refused", "introspection refused", "pushed authorization refused", "revocation refused"} {
				if !strings.Contains(logs.String(), `level=ERROR msg="`+msg+`" error=temporarily_unavailable`) {
					t.Errorf("no error logged for %q:\n%s", msg, logs)
				}
			}
		})
	}
}
