package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// OIDC Core §5.5.1: when the claims parameter asks for sub with a value,
// the provider "MUST NOT reply with an ID Token or Access Token for a
// different user". Propusk ignores the value: a relying party that asks
// for one person gets a code for whoever holds the browser's SSO session.
func TestEndToEndClaimsSubValueNamesAnotherPerson(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "vera", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		if back := br.signIn(cfg.AuthCodeURL("s-sub-1", oauth2.S256ChallengeOption(pkce)), "vera", "correct horse battery", nil); back.Query().Get("code") == "" {
			t.Fatalf("sign-in: %v", back)
		}
		claims := `{"id_token":{"sub":{"value":"someone-else"}}}`
		pg := br.get(cfg.AuthCodeURL("s-sub-2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("claims", claims)))
		if pg.loc != nil && pg.loc.Query().Get("code") != "" {
			t.Fatalf("a request for sub=someone-else got a code for the signed-in person: %v", pg.loc)
		}
		none := br.get(cfg.AuthCodeURL("s-sub-3", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("claims", claims),
			oauth2.SetAuthURLParam("prompt", "none")))
		if none.loc == nil || none.loc.Query().Get("code") != "" {
			t.Fatalf("prompt=none for sub=someone-else answered: %d %v", none.status, none.loc)
		}
	})
}

// The confirmed sign-out is a double-submit form: cookie propusk_logout
// equal to the posted csrf. The cookie has no __Host- prefix and the
// endpoint has no cross-origin check (the account forms have both), so a
// sibling subdomain (same site: the SameSite=Lax SSO cookie goes along)
// that plants propusk_logout for the parent domain and posts a matching
// csrf signs the person out (cookie tossing, OWASP's "naive double submit").
func TestEndToEndLogoutConfirmRefusesSameSiteCrossOriginPost(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "yana", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		br.signIn(cfg.AuthCodeURL("s-toss-1", oauth2.S256ChallengeOption(pkce)), "yana", "correct horse battery", nil)
		alive := func() bool {
			pg := br.get(cfg.AuthCodeURL("s-toss-2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
			return pg.loc != nil && pg.loc.Query().Get("code") != ""
		}
		if !alive() {
			t.Fatal("not signed in")
		}
		// What the sibling's page makes the browser send: its planted
		// cookie, the SSO cookie, and a form posted from another origin.
		u, _ := url.Parse(p.issuer + "/oauth2/sessions/logout")
		br.client.Jar.SetCookies(u, []*http.Cookie{{Name: "propusk_logout", Value: "planted", Path: "/oauth2/sessions/logout"}})
		req, _ := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(url.Values{"decision": {"confirm"}, "csrf": {"planted"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example.org")
		req.Header.Set("Sec-Fetch-Site", "same-site")
		br.do(req)
		if !alive() {
			t.Fatal("a same-site, cross-origin POST with a planted double-submit cookie signed the person out")
		}
	})
}

// id_token_hint and a claims sub value naming two different people is a
// malformed request (invalid_request), not a sign-in of either.
func TestEndToEndHintAndClaimsSubDisagree(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "lev", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		back := br.signIn(cfg.AuthCodeURL("s-two-1", oauth2.S256ChallengeOption(pkce)), "lev", "correct horse battery", nil)
		tok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatal(err)
		}
		pg := br.get(cfg.AuthCodeURL("s-two-2", oauth2.S256ChallengeOption(pkce),
			oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)),
			oauth2.SetAuthURLParam("claims", `{"id_token":{"sub":{"value":"someone-else"}}}`)))
		if pg.loc == nil || pg.loc.Query().Get("error") != "invalid_request" || pg.loc.Query().Get("code") != "" {
			t.Fatalf("hint and claims sub for two people: %d %v", pg.status, pg.loc)
		}
	})
}
