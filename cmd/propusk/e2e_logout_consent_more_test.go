package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// Logout probes that hold today; kept as regression tests.
func TestEndToEndLogoutHintRules(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		p.person(t, "lev", "simplified")
		cfgA, _ := p.rp(t, clients.Registration{FirstParty: true})
		cfgB, _ := p.rp(t, clients.Registration{FirstParty: true, Name: "Other"})
		pkce := oauth2.GenerateVerifier()
		signIn := func(br *browser) string {
			t.Helper()
			back := br.signIn(cfgA.AuthCodeURL("s-lh-1", oauth2.S256ChallengeOption(pkce)), "lev", "correct horse battery", nil)
			tok, err := cfgA.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			return tok.Extra("id_token").(string)
		}
		alive := func(br *browser) bool {
			t.Helper()
			pg := br.get(cfgA.AuthCodeURL("s-lh-2", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
			return pg.loc != nil && pg.loc.Query().Get("code") != ""
		}
		noCookie := func(q url.Values) *http.Response {
			t.Helper()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(p.issuer + "/oauth2/sessions/logout?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		br := newBrowser(t)
		hint := signIn(br)
		// A hint issued to A, presented by B.
		if r := noCookie(url.Values{"id_token_hint": {hint}, "client_id": {cfgB.ClientID}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("A's hint with client_id=B: %d", r.StatusCode)
		}
		// An unregistered post-logout redirect: refused before anything ends.
		if r := noCookie(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/evil"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("unregistered redirect: %d", r.StatusCode)
		}
		// A bare link with no hint, from the person's own browser: a page.
		if pg := br.get(p.issuer + "/oauth2/sessions/logout?post_logout_redirect_uri=" + url.QueryEscape("http://127.0.0.1:9/bye") + "&client_id=" + cfgA.ClientID); pg.loc != nil {
			t.Fatalf("a bare link signed out: %v", pg.loc)
		}
		if !alive(br) {
			t.Fatal("a refused logout ended the session")
		}
		// No cookie, valid hint, registered redirect, state: ended, state echoed.
		r := noCookie(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"st-1"}})
		loc, _ := r.Location()
		if r.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("state") != "st-1" || !strings.HasPrefix(loc.String(), "http://127.0.0.1:9/bye") {
			t.Fatalf("back-end logout with redirect: %d %v", r.StatusCode, loc)
		}
		if alive(br) {
			t.Fatal("the hinted session survived")
		}
	})
}

// Remembered consent probes that hold today: prompt=consent asks again
// about everything; one client's consent does not cover another's.
func TestEndToEndRememberedConsentRules(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "mila", "simplified")
		cfgA, _ := p.rp(t, clients.Registration{})
		cfgB, _ := p.rp(t, clients.Registration{Name: "Other service"})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		auth := func(cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
			return cfg.AuthCodeURL("s-rc", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("ui_locales", "en")}, opts...)...)
		}
		pg := br.submit(br.get(auth(cfgA)), "/login", url.Values{"username": {"mila"}, "password": {"correct horse battery"}})
		if back := br.submit(pg, "/consent", asTicked(pg, url.Values{"decision": {"allow"}})); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("allow: %d %v", back.status, back.loc)
		}
		forced := br.get(auth(cfgA, oauth2.SetAuthURLParam("prompt", "consent")))
		if forced.loc != nil || !strings.HasSuffix(forced.url.Path, "/consent") || strings.Contains(forced.body, "already allowed") {
			t.Fatalf("prompt=consent after a remembered consent: %d %v\n%s", forced.status, forced.loc, forced.body)
		}
		if list := scopeList(t, forced.body); !strings.Contains(list, "Your name") || !strings.Contains(list, "Your email address") {
			t.Fatalf("prompt=consent lists less than is asked: %s", list)
		}
		if none := br.get(auth(cfgB, oauth2.SetAuthURLParam("prompt", "none"))); none.loc == nil || none.loc.Query().Get("error") != "consent_required" {
			t.Fatalf("A's consent used for B: %d %v", none.status, none.loc)
		}
	})
}
