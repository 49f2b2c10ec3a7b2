package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/store"
)

// withdrawAfterRead runs hook once, right after the next consent read: a
// withdrawal on the account page that commits between the authorization
// endpoint's check of the remembered consent and the code it issues.
type withdrawAfterRead struct {
	database
	armed atomic.Bool
	hook  func()
}

func (w *withdrawAfterRead) GetConsent(ctx context.Context, accountID, clientID string) (store.Consent, error) {
	c, err := w.database.GetConsent(ctx, accountID, clientID)
	if w.armed.CompareAndSwap(true, false) {
		w.hook()
	}
	return c, err
}

// The person withdraws consent (the page says so, the audit log records
// it) while the client's silent authorization (prompt=none, as a
// relying party's session check sends every few minutes) is between its
// consent check and its code: the code issued after the withdrawal
// redeems for working access and refresh tokens, which the withdrawal
// never saw. Nothing ends them but their expiry.
func TestRV7WithdrawRacingSilentAuthorization(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run("backend="+backend, func(t *testing.T) {
			raw := openE2EDB(t, backend)
			db := &withdrawAfterRead{database: raw}
			p := startIDP(t, db, newRing(t))
			const username = "olga"
			id := p.accountPerson(t, username, "en")
			card, _ := p.rp(t, clients.Registration{Name: "Compatriot card"})
			card.Scopes = append(card.Scopes, "offline_access")
			br := newBrowser(t)
			consentAndTokens(t, p, br, card, username)

			consents := &consent.Service{Store: raw, Grants: raw}
			var werr error
			db.hook = func() { werr = consents.Withdraw(context.Background(), id, card.ClientID, "192.0.2.1") }
			db.armed.Store(true)
			pkce := oauth2.GenerateVerifier()
			back := br.get(card.AuthCodeURL("s-"+random(t), oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
			if werr != nil {
				t.Fatalf("withdraw: %v", werr)
			}
			if ev, _ := raw.ListAudit(t.Context(), auditFilter(id, "consent.withdrawn")); len(ev) != 1 {
				t.Fatalf("%d consent.withdrawn events, want 1 (the withdrawal did not happen)", len(ev))
			}
			code := ""
			if back.loc != nil {
				code = back.loc.Query().Get("code")
			}
			if code == "" {
				return // refused: consent_required
			}
			tok, err := card.Exchange(t.Context(), code, oauth2.VerifierOption(pkce))
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				return // refused at the token endpoint
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.introspect(t, card, tok.AccessToken) {
				t.Error("an access token from a code issued across the withdrawal is active after it")
			}
			if _, err := card.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("a refresh token from a code issued across the withdrawal works after it")
			}
		})
	}
}
