package main

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// Remembered consent is the default for confidential clients; the account
// page is where the person withdraws it. Withdrawing ends the client's
// access at once (introspection, refresh) and the next sign-in asks again;
// another client's consent and tokens stay.

// accountServiceRE is one service on the account page: its name, then its
// withdraw form's client ID.
var accountServiceRE = regexp.MustCompile(`(?s)<strong id="service-\d+">([^<]*)</strong>.*?<input type="hidden" name="client" value="([^"]+)">`)

// accountServices lists the services the account page shows, name to
// client ID.
func accountServices(p browserPage) map[string]string {
	out := map[string]string{}
	for _, m := range accountServiceRE.FindAllStringSubmatch(p.body, -1) {
		out[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// consentAndTokens signs the browser in to cfg (or uses its session),
// expects the consent page with "remember" ticked by default, allows as a
// browser with the box left ticked would, and redeems the code.
func consentAndTokens(t *testing.T, p *idp, br *browser, cfg *oauth2.Config, username string) *oauth2.Token {
	t.Helper()
	pkce := oauth2.GenerateVerifier()
	pg := br.get(cfg.AuthCodeURL("s-"+random(t), oauth2.S256ChallengeOption(pkce)))
	if pg.url.Path == "/login" {
		pg = br.submit(pg, "/login", url.Values{"username": {username}, "password": {accountPassword}})
	}
	if pg.status != http.StatusOK || pg.url.Path != "/consent" {
		t.Fatalf("expected the consent page, got %d %s:\n%s", pg.status, pg.url, pg.body)
	}
	if !strings.Contains(pg.body, `name="remember" value="1" checked`) {
		t.Fatalf("the consent page of a confidential client does not tick remember by default:\n%s", pg.body)
	}
	back := br.submit(pg, "/consent", url.Values{"decision": {"allow"}, "remember": {"1"}})
	if back.loc == nil || back.loc.Query().Get("code") == "" {
		t.Fatalf("consent did not return a code: %d %s\n%s", back.status, back.url, back.body)
	}
	tok, err := cfg.Exchange(t.Context(), back.loc.Query().Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	return tok
}

func TestEndToEndWithdrawConsent(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		ctx := t.Context()
		const username = "olga"
		id := p.accountPerson(t, username, "en")
		card, _ := p.rp(t, clients.Registration{Name: "Compatriot card"})
		mail, _ := p.rp(t, clients.Registration{Name: "Consular mail"})
		for _, cfg := range []*oauth2.Config{card, mail} {
			cfg.Scopes = append(cfg.Scopes, "offline_access")
		}
		br := newBrowser(t)
		cardTok := consentAndTokens(t, p, br, card, username)
		mailTok := consentAndTokens(t, p, br, mail, username)
		if !p.introspect(t, card, cardTok.AccessToken) || !p.introspect(t, mail, mailTok.AccessToken) {
			t.Fatal("fresh access tokens are not active")
		}
		// Remembered: the next sign-in to card does not ask.
		if again := br.get(card.AuthCodeURL("s-"+random(t), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); again.loc == nil {
			t.Fatalf("the remembered consent was asked again: %d %s", again.status, again.url)
		}

		page := br.get(p.issuer + "/account")
		expectAccountPage(t, page, username)
		if got := accountServices(page); len(got) != 2 || got["Compatriot card"] != card.ClientID || got["Consular mail"] != mail.ClientID {
			t.Fatalf("the account page lists services %v, want Compatriot card and Consular mail", got)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		for _, want := range []string{
			english.T("account.services.heading"), english.T("account.services.since", today),
			english.T("scope.profile"), english.T("scope.offline_access"),
		} {
			if !pageShows(page, want) {
				t.Errorf("the account page lacks %q:\n%s", want, page.body)
			}
		}

		// A stale form token: the page again with the notice, nothing
		// withdrawn.
		stale := br.submit(browserPage{url: page.url, body: strings.ReplaceAll(page.body, hiddenField(page, "csrf"), "x"+random(t))},
			"/account/services/withdraw", url.Values{"client": {card.ClientID}})
		if stale.status != http.StatusForbidden || stale.url.Path != "/account/services/withdraw" ||
			!strings.Contains(stale.body, `role="alert"`) || !pageShows(stale, english.T("account.error.stale")) {
			t.Fatalf("a withdrawal with a stale token: %d %s, want 403 and the account page with the notice:\n%s", stale.status, stale.url, stale.body)
		}
		if got := accountServices(stale); got["Compatriot card"] != card.ClientID {
			t.Errorf("the page after the stale form lists %v", got)
		}
		if !p.introspect(t, card, cardTok.AccessToken) {
			t.Fatal("a refused withdrawal ended the access token")
		}
		if ev, _ := p.db.ListAudit(ctx, auditFilter(id, "consent.withdrawn")); len(ev) != 0 {
			t.Fatalf("a refused withdrawal was audited: %+v", ev)
		}

		// Withdrawing takes access away: an old sign-in is enough.
		p.ageSignIn(t, br, 30*time.Minute)
		page = br.get(p.issuer + "/account")
		done := br.submit(page, "/account/services/withdraw", url.Values{"client": {card.ClientID}})
		expectAccountPage(t, done, username)
		notice := english.T("account.notice.withdrawn", "Compatriot card")
		if done.url.Query().Get("notice") != "withdrawn" || !pageShows(done, notice) {
			t.Fatalf("after withdrawing: %s, want the notice %q:\n%s", done.url, notice, done.body)
		}
		if got := accountServices(done); len(got) != 1 || got["Consular mail"] != mail.ClientID {
			t.Errorf("after withdrawing card the account page lists %v, want Consular mail only", got)
		}
		ev, err := p.db.ListAudit(ctx, auditFilter(id, "consent.withdrawn"))
		if err != nil || len(ev) != 1 || ev[0].ClientID != card.ClientID || ev[0].ActorID != id {
			t.Fatalf("consent.withdrawn events: %+v, %v; want one for card by the person", ev, err)
		}
		// A reload of the notice's address after consenting again says
		// nothing false; an unknown client is not named.
		if pg := br.get(p.issuer + "/account?notice=withdrawn&client=" + url.QueryEscape(mail.ClientID)); pageShows(pg, english.T("account.notice.withdrawn", "Consular mail")) {
			t.Error("the account page says mail was withdrawn while its consent stands")
		}

		// Card's access ended at once, mail's did not.
		if p.introspect(t, card, cardTok.AccessToken) {
			t.Error("card's access token is still active after the withdrawal")
		}
		_, err = card.TokenSource(ctx, &oauth2.Token{RefreshToken: cardTok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("card's refresh token after the withdrawal: %v, want invalid_grant", err)
		}
		if !p.introspect(t, mail, mailTok.AccessToken) {
			t.Error("withdrawing card ended mail's access token")
		}
		if _, err := mail.TokenSource(ctx, &oauth2.Token{RefreshToken: mailTok.RefreshToken}).Token(); err != nil {
			t.Errorf("withdrawing card broke mail's refresh token: %v", err)
		}

		// The next sign-in to card asks again (and remembers again).
		again := consentAndTokens(t, p, br, card, username)
		if !p.introspect(t, card, again.AccessToken) {
			t.Error("the access token after consenting again is not active")
		}

		// Withdrawing what is not given (a client the person never
		// allowed, or one another tab withdrew): nothing to do or audit.
		twice := br.submit(page, "/account/services/withdraw", url.Values{"client": {"no-such-client"}})
		expectAccountPage(t, twice, username)
		if twice.url.Query().Get("notice") != "" {
			t.Errorf("withdrawing what was never given: %s, want the page without a notice", twice.url)
		}
		if ev, _ := p.db.ListAudit(ctx, auditFilter(id, "consent.withdrawn")); len(ev) != 1 {
			t.Errorf("%d consent.withdrawn events, want 1", len(ev))
		}
	})
}
