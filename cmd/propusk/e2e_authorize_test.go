package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// stopOutside makes the browser stop at any address that is not the
// provider's, so a redirect to a relying party on any port is seen, never
// followed.
func stopOutside(br *browser, p *idp) {
	host := strings.TrimPrefix(p.issuer, "http://")
	br.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// authQuery is a code + PKCE S256 authorization request of cfg's client
// with extra parameters; state only when extra sets it.
func authQuery(cfg *oauth2.Config, verifier string, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID}, "redirect_uri": {cfg.RedirectURL},
		"scope": {strings.Join(cfg.Scopes, " ")}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return cfg.Endpoint.AuthURL + "?" + q.Encode()
}

// Redirect URIs match byte for byte: fosite let any port through for a
// registered loopback URI, so a confidential client's code could be sent
// to whatever listened on another port. The port is free only for a
// public client (a native app, RFC 8252 §7.3). A refusal is an error page,
// never a redirect.
func TestEndToEndRedirectURIExact(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "zoya", "simplified")
		cfg, _ := p.rp(t, clients.Registration{RedirectURIs: []string{"http://127.0.0.1:9999/cb"}})
		br := newBrowser(t)
		stopOutside(br, p)
		pkce := oauth2.GenerateVerifier()
		back := br.signIn(authQuery(cfg, pkce, url.Values{"state": {"s-exact-1"}}), "zoya", "correct horse battery",
			url.Values{"decision": {"allow"}, "remember": {"1"}})
		if back.Query().Get("code") == "" || back.Host != "127.0.0.1:9999" {
			t.Fatalf("sign-in with the registered URI: %s", back)
		}
		other := *cfg
		for _, uri := range []string{"http://127.0.0.1:19999/cb", "http://127.0.0.1/cb", "http://127.0.0.1:9999/cb/", "http://[::1]:9999/cb"} {
			other.RedirectURL = uri
			// Signed in with remembered consent, the code would go straight
			// out; a fresh browser would be shown the login page.
			for name, b := range map[string]*browser{"signed in": br, "signed out": newBrowser(t)} {
				stopOutside(b, p)
				pg := b.get(authQuery(&other, pkce, url.Values{"state": {"s-exact-2"}}))
				if pg.loc != nil || pg.status != http.StatusBadRequest || !strings.Contains(pg.body, "<html") {
					t.Fatalf("%s, redirect_uri %s: %d %v (want the 400 page)", name, uri, pg.status, pg.loc)
				}
			}
			// Pushed: refused at the push.
			status, m, _ := postForm(t, p.issuer+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID},
				"redirect_uri": {uri}, "scope": {"openid"}, "state": {"s-exact-3"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}, cfg.ClientID, cfg.ClientSecret)
			if status != http.StatusBadRequest || m["error"] != "invalid_request" {
				t.Fatalf("push with redirect_uri %s: %d %v", uri, status, m)
			}
		}
		// An error of the request (here an unknown prompt value) with a
		// wrong port is not sent there either.
		other.RedirectURL = "http://127.0.0.1:19999/cb"
		if pg := br.get(authQuery(&other, pkce, url.Values{"prompt": {"bogus"}})); pg.loc != nil || pg.status != http.StatusBadRequest {
			t.Fatalf("an invalid request to another port: %d %v", pg.status, pg.loc)
		}

		// A public client's loopback redirect may take any port.
		app, _ := p.rp(t, clients.Registration{Name: "Desktop app", Public: true, AuthMethod: "none",
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		app.ClientSecret = ""
		app.RedirectURL = "http://127.0.0.1:43210/cb"
		back = br.signIn(authQuery(app, pkce, url.Values{"state": {"s-exact-4"}}), "zoya", "correct horse battery", nil)
		if back.Query().Get("code") == "" || back.Host != "127.0.0.1:43210" {
			t.Fatalf("public client on a loopback port: %s", back)
		}
		if _, err := app.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce)); err != nil {
			t.Fatalf("public client's exchange: %v", err)
		}
		// ...but not another path or host.
		for _, uri := range []string{"http://127.0.0.1:43210/other", "http://[::1]:43210/cb"} {
			app.RedirectURL = uri
			if pg := br.get(authQuery(app, pkce, url.Values{"state": {"s-exact-5"}})); pg.loc != nil || pg.status != http.StatusBadRequest {
				t.Fatalf("public client, redirect_uri %s: %d %v", uri, pg.status, pg.loc)
			}
		}
	})
}

// state is optional (RFC 6749 §4.1.1; PKCE is required of every client),
// and a state or nonce of any length is taken: fosite refused a request
// without state, or with one shorter than 8 characters, with invalid_state.
// A response to a request without state carries none.
func TestEndToEndStateOptional(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "yuri", "simplified")
		cfg, provider := p.rp(t, clients.Registration{FirstParty: true})
		verifier := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID})
		br := newBrowser(t)
		pkce := oauth2.GenerateVerifier()

		// Signed out, prompt=none: the error has no state either.
		pg := br.get(authQuery(cfg, pkce, url.Values{"prompt": {"none"}}))
		if pg.loc == nil || pg.loc.Query().Get("error") != "login_required" || pg.loc.Query().Has("state") {
			t.Fatalf("prompt=none without state: %d %v %s", pg.status, pg.loc, pg.body)
		}

		back := br.signIn(authQuery(cfg, pkce, url.Values{"nonce": {"n"}}), "yuri", "correct horse battery", nil)
		if back.Query().Get("code") == "" || back.Query().Has("state") || back.Query().Get("iss") != p.issuer {
			t.Fatalf("without state: %s", back)
		}
		tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("exchange (one-character nonce): %v", err)
		}
		idt, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil || idt.Nonce != "n" {
			t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
		}

		// A one-character state comes back as it was.
		if pg := br.get(authQuery(cfg, pkce, url.Values{"state": {"x"}})); pg.loc == nil || pg.loc.Query().Get("code") == "" || pg.loc.Query().Get("state") != "x" {
			t.Fatalf("short state: %d %v", pg.status, pg.loc)
		}
		// form_post without state: no state field.
		pg = br.get(authQuery(cfg, pkce, url.Values{"response_mode": {"form_post"}}))
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `name="code"`) || strings.Contains(pg.body, `name="state"`) {
			t.Fatalf("form_post without state: %d\n%s", pg.status, pg.body)
		}

		// Pushed without state, then used.
		status, m, _ := postForm(t, p.issuer+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID},
			"redirect_uri": {cfg.RedirectURL}, "scope": {"openid"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusCreated {
			t.Fatalf("push without state: %d %v", status, m)
		}
		pg = br.get(cfg.Endpoint.AuthURL + "?" + url.Values{"client_id": {cfg.ClientID}, "request_uri": {m["request_uri"].(string)}}.Encode())
		if pg.loc == nil || pg.loc.Query().Get("code") == "" || pg.loc.Query().Has("state") {
			t.Fatalf("pushed request without state: %d %v", pg.status, pg.loc)
		}
		// The OpenID Connect rule fosite checks after state still holds.
		status, m, _ = postForm(t, p.issuer+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID},
			"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(pkce)}, "code_challenge_method": {"S256"}}, cfg.ClientID, cfg.ClientSecret)
		if status != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Fatalf("push without state and redirect_uri: %d %v", status, m)
		}
	})
}

// A relying party's server (oauth2-proxy's back-end logout) calls the
// end-session endpoint with the ID token and no cookie of the person's: the
// session the token names (sid) ends, and only that one. Before, the answer
// was "you have signed out" while the session lived on. A hint whose
// session is gone gets a page that says nothing was ended.
func TestEndToEndLogoutByHintWithoutCookie(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "nina", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		signIn := func(br *browser) string {
			t.Helper()
			back := br.signIn(cfg.AuthCodeURL("s-bcl-1", oauth2.S256ChallengeOption(pkce)), "nina", "correct horse battery", nil)
			tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			return tok.Extra("id_token").(string)
		}
		signedIn := func(br *browser) bool {
			t.Helper()
			pg := br.get(cfg.AuthCodeURL("s-bcl-2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
			if pg.loc == nil {
				t.Fatalf("prompt=none showed a page: %d %s", pg.status, pg.url)
			}
			switch q := pg.loc.Query(); {
			case q.Get("code") != "":
				return true
			case q.Get("error") == "login_required":
				return false
			default:
				t.Fatalf("prompt=none: %v", pg.loc)
				return false
			}
		}
		logout := func(hint, lang string) (int, string) {
			t.Helper()
			resp, err := http.Get(p.issuer + "/oauth2/sessions/logout?" + url.Values{"id_token_hint": {hint}, "ui_locales": {lang}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			if _, err := io.Copy(&b, resp.Body); err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, b.String()
		}

		laptop, phone := newBrowser(t), newBrowser(t)
		hint := signIn(laptop)
		signIn(phone)
		status, body := logout(hint, "en")
		if status != http.StatusOK || !strings.Contains(body, "You have signed out") {
			t.Fatalf("back-end logout: %d\n%s", status, body)
		}
		if signedIn(laptop) {
			t.Fatal("the session the hint names is still alive after the back-end logout")
		}
		if !signedIn(phone) {
			t.Fatal("the back-end logout ended another session of the person's")
		}
		// Again: nothing is left to end, and the page says so.
		for lang, want := range map[string]string{"en": "There was no sign-in to end", "ru": "Завершать было нечего"} {
			status, body = logout(hint, lang)
			if status != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, "You have signed out") || strings.Contains(body, "Вы вышли из Пропуска") {
				t.Fatalf("back-end logout of an ended session (%s): %d\n%s", lang, status, body)
			}
		}
		// A tampered hint ends nothing.
		phoneHint := signIn(phone)
		if status, _ := logout(phoneHint[:len(phoneHint)-4]+"AAAA", "en"); status != http.StatusBadRequest {
			t.Fatalf("tampered hint: %d", status)
		}
		if !signedIn(phone) {
			t.Fatal("a tampered hint ended a session")
		}
	})
}

var tickedRE = regexp.MustCompile(`<input type="checkbox"[^>]* name="([a-z_]+)" value="([^"]*)" checked>`)

// asTicked is fields plus the boxes the page shows ticked, as a browser
// posts them when the person leaves them as they are.
func asTicked(p browserPage, fields url.Values) url.Values {
	out := url.Values{}
	for _, m := range tickedRE.FindAllStringSubmatch(p.body, -1) {
		out.Set(m[1], m[2])
	}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

// scopeList is the text of the consent page's list of what is asked.
func scopeList(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `<ul class="scopes">`)
	list, _, ok2 := strings.Cut(rest, "</ul>")
	if !ok || !ok2 {
		t.Fatalf("no scope list on the page:\n%s", body)
	}
	return list
}

// Remembered consent is the default for a confidential client: the box is
// ticked, so a person who just presses Allow is not asked again, and
// prompt=none answers with a code. Before, the box was unticked, and every
// sign-in asked again. What is remembered is what was allowed: a request
// for more asks again, about the new scope only.
func TestEndToEndRememberedConsentByDefault(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "olga", "simplified")
		cfg, _ := p.rp(t, clients.Registration{})
		cfg.Scopes = []string{"openid", "profile"}
		pkce := oauth2.GenerateVerifier()
		auth := func(opts ...oauth2.AuthCodeOption) string {
			return cfg.AuthCodeURL("s-remember", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce),
				oauth2.SetAuthURLParam("ui_locales", "en")}, opts...)...)
		}
		br := newBrowser(t)
		pg := br.submit(br.get(auth()), "/login", url.Values{"username": {"olga"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/consent") || !strings.Contains(pg.body, `name="remember" value="1" checked`) {
			t.Fatalf("first consent page (remember ticked?): %d %s\n%s", pg.status, pg.url, pg.body)
		}
		if back := br.submit(pg, "/consent", asTicked(pg, url.Values{"decision": {"allow"}})); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("allow: %d %v", back.status, back.loc)
		}

		// Signing in again, in another browser: no consent page.
		other := newBrowser(t)
		if back := other.submit(other.get(auth()), "/login", url.Values{"username": {"olga"}, "password": {"correct horse battery"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("second sign-in showed a page: %d %s", back.status, back.url)
		}
		// prompt=none right after: a code, not consent_required.
		if none := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("code") == "" {
			t.Fatalf("prompt=none after remembered consent: %d %v", none.status, none.loc)
		}

		// One scope more: the page again, listing only the new one, and
		// saying the rest was allowed before.
		cfg.Scopes = []string{"openid", "profile", "email"}
		pg = br.get(auth())
		if pg.loc != nil || !strings.HasSuffix(pg.url.Path, "/consent") {
			t.Fatalf("a request for a new scope skipped the consent page: %d %v", pg.status, pg.loc)
		}
		list := scopeList(t, pg.body)
		if !strings.Contains(list, "Your email address") || strings.Contains(list, "Your name") || strings.Contains(list, "Your account identifier") {
			t.Fatalf("the page asks about more than the new scope: %s", list)
		}
		if !strings.Contains(pg.body, "The rest you already allowed it to receive:") || !strings.Contains(pg.body, "Your name") {
			t.Fatalf("the page does not say what was allowed before:\n%s", pg.body)
		}
		if none := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none for a scope not allowed yet: %d %v", none.status, none.loc)
		}
		if back := br.submit(pg, "/consent", asTicked(pg, url.Values{"decision": {"allow"}})); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("allow the new scope: %d %v", back.status, back.loc)
		}
		if none := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("code") == "" {
			t.Fatalf("prompt=none after allowing the new scope: %d %v", none.status, none.loc)
		}
		// Unticked, nothing new is remembered.
		cfg.Scopes = []string{"openid", "identity"}
		pg = br.get(auth())
		if back := br.submit(pg, "/consent", url.Values{"decision": {"allow"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("allow without remember: %d %v", back.status, back.loc)
		}
		if none := br.get(auth(oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none after an unremembered consent: %d %v", none.status, none.loc)
		}
	})
}

// A client registered without the authorization_code grant (a
// machine-to-machine client that happens to list a redirect URI) cannot
// start a sign-in: unauthorized_client (RFC 6749 §4.1.2.1), sent to its
// redirect URI, before anyone is asked for a password.
func TestEndToEndAuthorizeNeedsTheCodeGrant(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		cfg, _ := p.rp(t, clients.Registration{GrantTypes: []string{"client_credentials"}})
		pg := newBrowser(t).get(authQuery(cfg, oauth2.GenerateVerifier(), url.Values{"state": {"s-m2m"}}))
		if pg.loc == nil || pg.loc.Query().Get("error") != "unauthorized_client" || pg.loc.Query().Get("state") != "s-m2m" {
			t.Fatalf("authorization request of a client_credentials-only client: %d %v\n%s", pg.status, pg.loc, pg.body)
		}
	})
}
