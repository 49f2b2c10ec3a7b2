package main

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// The consent page lists what is asked in the account page's order,
// whatever order the request named the scopes in: openid first and
// offline_access ("access to this data after you sign out") last, after
// the data it speaks of.
func TestEndToEndConsentListsScopesInReadingOrder(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "anna", "standard")
		cfg, _ := p.rp(t, clients.Registration{})
		cfg.Scopes = []string{"offline_access", "profile", "openid"}
		br := newBrowser(t)
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("ui_locales", "en")))
		pg = br.submit(pg, "/login", url.Values{"username": {"anna"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/consent") {
			t.Fatalf("after the password: %d %s", pg.status, pg.url)
		}
		body := html.UnescapeString(pg.body)
		at := func(scope string) int {
			i := strings.Index(body, english.T("scope."+scope))
			if i < 0 {
				t.Fatalf("the consent page does not list %s:\n%s", scope, pg.body)
			}
			return i
		}
		if !(at("openid") < at("profile") && at("profile") < at("offline_access")) {
			t.Fatalf("scopes listed out of order (openid %d, profile %d, offline_access %d)", at("openid"), at("profile"), at("offline_access"))
		}
	})
}
