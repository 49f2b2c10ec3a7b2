package main

import (
	"net/url"
	"testing"

	"github.com/propusk/propusk/clients"
)

// The account page's "you withdrew access for …" notice takes the
// client from its address. A crafted link naming any registered service
// (one the person never allowed, say a look-alike "Госуслуги") must not
// make Propusk's own page state that the person cut that service off;
// only the person's own withdrawal, a moment ago, is named.
func TestWithdrawnNoticeNamesOnlyOwnWithdrawal(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		const username = "olga"
		p.accountPerson(t, username, "en")
		card, _ := p.rp(t, clients.Registration{Name: "Compatriot card"})
		other, _ := p.rp(t, clients.Registration{Name: "Tax office"})
		card.Scopes = append(card.Scopes, "offline_access")
		br := newBrowser(t)
		consentAndTokens(t, p, br, card, username)

		crafted := br.get(p.issuer + "/account?notice=withdrawn&client=" + url.QueryEscape(other.ClientID))
		expectAccountPage(t, crafted, username)
		if pageShows(crafted, english.T("account.notice.withdrawn", "Tax office")) {
			t.Error("a crafted link makes the account page say the person withdrew a service they never allowed")
		}

		done := br.submit(br.get(p.issuer+"/account"), "/account/services/withdraw", url.Values{"client": {card.ClientID}})
		if !pageShows(done, english.T("account.notice.withdrawn", "Compatriot card")) {
			t.Fatalf("the person's own withdrawal is not named: %s\n%s", done.url, done.body)
		}
		crafted = br.get(p.issuer + "/account?notice=withdrawn&client=" + url.QueryEscape(other.ClientID))
		if pageShows(crafted, english.T("account.notice.withdrawn", "Tax office")) {
			t.Error("after a real withdrawal of another service, a crafted link still names one never allowed")
		}
	})
}
