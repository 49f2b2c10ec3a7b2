package main

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// Browser binding and form tokens at the consent step (issue 12 points 1 and 7).

// Issue 12 point 7: "a stale or missing token re-shows the page with a
// notice and keeps what the person typed, never a bare error page". The
// login, code, recovery, enrolment and account forms do; the consent form
// answers a wrong or missing token with the bare "form could not be
// accepted" error page (postConsent hands flow.ErrCSRF from Advance to
// h.fail).
func TestEndToEndConsentFormWithStaleTokenShowsThePageAgain(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "olga", "standard")
		cfg, _ := p.rp(t, clients.Registration{Name: "Entry app"})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		pg := br.enterPassword(cfg.AuthCodeURL("s-consent-stale", oauth2.S256ChallengeOption(pkce), uiEnglish), "olga")
		if pg.url.Path != "/consent" || hiddenField(pg, "csrf") == "" {
			t.Fatalf("after the password: %d %s", pg.status, pg.url)
		}
		for name, body := range map[string]string{
			"wrong token": strings.ReplaceAll(pg.body, `name="csrf" value="`, `name="csrf" value="x`),
			"no token":    strings.ReplaceAll(pg.body, `name="csrf"`, `name="x"`),
		} {
			got := br.submit(browserPage{url: pg.url, body: body}, "/consent", url.Values{"decision": {"allow"}, "remember": {"1"}})
			if pageShows(got, english.T("error.csrf.title")) || got.url.Path != "/consent" || !pageShows(got, english.T("consent.allow")) {
				t.Errorf("consent form with a %s: %d %s, want the consent page again with a notice, not an error page:\n%s", name, got.status, got.url, got.body)
			}
		}
		if back := br.submit(pg, "/consent", url.Values{"decision": {"allow"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("the page's own form afterwards: %d %s %v", back.status, back.url, back.loc)
		}
	})
}

// Two tabs of one browser: tab 1 signs in for a service that asks for
// consent and shows the consent page; tab 2, whose login page was open
// already, signs in too (every sign-in makes a new SSO session and ends
// the browser's previous one). Tab 1's consent form, in the browser the
// flow is bound to, is then answered with the CSRF page ("reload the page
// and try again"), and reloading shows the same page again: the person is
// stuck on a flow that can never finish (holdsFlowSession answers a
// session cookie other than the flow's with CSRF, web/secondfactor.go).
func TestEndToEndConsentAfterSigningInAgainInAnotherTab(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "pavel", "standard")
		third, _ := p.rp(t, clients.Registration{Name: "Entry app"})
		first, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		tab2 := br.get(first.AuthCodeURL("s-tab-2", oauth2.S256ChallengeOption(pkce), uiEnglish))
		if tab2.url.Path != "/login" {
			t.Fatalf("tab 2: %d %s", tab2.status, tab2.url)
		}
		tab1 := br.enterPassword(third.AuthCodeURL("s-tab-1", oauth2.S256ChallengeOption(pkce), uiEnglish), "pavel")
		if tab1.url.Path != "/consent" {
			t.Fatalf("tab 1 after the password: %d %s", tab1.status, tab1.url)
		}
		if back := br.submit(tab2, "/login", url.Values{"username": {"pavel"}, "password": {"correct horse battery"}}); back.loc == nil || back.loc.Query().Get("code") == "" {
			t.Fatalf("tab 2's sign-in: %d %s %v\n%s", back.status, back.url, back.loc, back.body)
		}

		got := br.submit(tab1, "/consent", url.Values{"decision": {"allow"}})
		reload := br.get(tab1.url.String())
		for what, pg := range map[string]browserPage{"tab 1's consent form": got, "tab 1 reloaded": reload} {
			if pageShows(pg, english.T("error.csrf.message")) {
				t.Errorf("%s: %d, the page says to reload and try again, which can never succeed:\n%s", what, pg.status, pg.body)
			}
		}
	})
}
