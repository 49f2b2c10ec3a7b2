package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/internal/testdb"
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
// it) while an authorization resting on that remembered consent is
// between its consent check and its code: a silent one (prompt=none, as a
// relying party's session check sends every few minutes), an interactive
// one answered from the SSO session, or one whose sign-in has just
// finished. No code issued after the withdrawal may redeem for working
// tokens, which the withdrawal never saw: the silent one is refused with
// consent_required, the interactive ones go to the consent page.
func TestWithdrawalRacingAuthorization(t *testing.T) {
	for _, path := range []string{"silent", "session", "sign_in"} {
		for _, backend := range testdb.Backends {
			t.Run(path+"/backend="+backend, func(t *testing.T) {
				raw := testdb.Open(t, backend)
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
				pkce := oauth2.GenerateVerifier()
				opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(pkce)}
				if path == "silent" {
					opts = append(opts, oauth2.SetAuthURLParam("prompt", "none"))
				}
				authURL := card.AuthCodeURL("s-"+random(t), opts...)
				var back browserPage
				if path == "sign_in" {
					br = newBrowser(t) // no SSO session: the login page first
					pg := br.get(authURL)
					if pg.url.Path != "/login" {
						t.Fatalf("expected the login page, got %d %s", pg.status, pg.url)
					}
					db.armed.Store(true)
					back = br.submit(pg, "/login", url.Values{"username": {username}, "password": {accountPassword}})
				} else {
					db.armed.Store(true)
					back = br.get(authURL)
				}
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
				if code != "" {
					tok, err := card.Exchange(t.Context(), code, oauth2.VerifierOption(pkce))
					var re *oauth2.RetrieveError
					if err != nil && !errors.As(err, &re) {
						t.Fatal(err)
					}
					if err == nil {
						if p.introspect(t, card, tok.AccessToken) {
							t.Error("an access token from a code issued across the withdrawal is active after it")
						}
						if _, err := card.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
							t.Error("a refresh token from a code issued across the withdrawal works after it")
						}
					}
					t.Fatalf("a code was issued across the withdrawal (%s)", back.loc)
				}
				if path == "silent" {
					if back.loc == nil || back.loc.Query().Get("error") != "consent_required" {
						t.Fatalf("silent authorization after the withdrawal: %d %s, want error=consent_required", back.status, back.url)
					}
					return
				}
				if back.status != http.StatusOK || back.url.Path != "/consent" {
					t.Fatalf("interactive authorization after the withdrawal: %d %s, want the consent page", back.status, back.url)
				}
				// Asked again, the person allows, and the client gets its code.
				again := br.submit(back, "/consent", url.Values{"decision": {"allow"}, "remember": {"1"}})
				if again.loc == nil || again.loc.Query().Get("code") == "" {
					t.Fatalf("consent after the withdrawal did not return a code: %d %s", again.status, again.url)
				}
				if _, err := card.Exchange(t.Context(), again.loc.Query().Get("code"), oauth2.VerifierOption(pkce)); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// withdrawDuringCodeWrite starts hook once, right after the next
// authorization code is written, and gives it time to reach the database
// before the code's transaction goes on.
type withdrawDuringCodeWrite struct {
	database
	armed atomic.Bool
	hook  func()
}

func (w *withdrawDuringCodeWrite) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	err := w.database.CreateOAuthRecord(ctx, r)
	if r.Kind == store.OAuthCode && w.armed.CompareAndSwap(true, false) {
		w.hook()
	}
	return err
}

// The withdrawal starts after the authorization's consent check passed,
// while its code is being written: it must wait for the code and end it,
// not skip a row it could not yet see (PostgreSQL, READ COMMITTED).
func TestWithdrawalDuringCodeWrite(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			raw := testdb.Open(t, backend)
			db := &withdrawDuringCodeWrite{database: raw}
			p := startIDP(t, db, newRing(t))
			const username = "olga"
			id := p.accountPerson(t, username, "en")
			card, _ := p.rp(t, clients.Registration{Name: "Compatriot card"})
			card.Scopes = append(card.Scopes, "offline_access")
			br := newBrowser(t)
			consentAndTokens(t, p, br, card, username)

			consents := &consent.Service{Store: raw, Grants: raw}
			wdone := make(chan error, 1)
			db.hook = func() {
				go func() { wdone <- consents.Withdraw(context.Background(), id, card.ClientID, "192.0.2.1") }()
				time.Sleep(300 * time.Millisecond) // the withdrawal reaches its first statement
			}
			db.armed.Store(true)
			pkce := oauth2.GenerateVerifier()
			back := br.get(card.AuthCodeURL("s-"+random(t), oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
			if err := <-wdone; err != nil {
				t.Fatalf("withdraw: %v", err)
			}
			if back.loc == nil || back.loc.Query().Get("code") == "" {
				t.Fatalf("no code: %d %s", back.status, back.url)
			}
			tok, err := card.Exchange(t.Context(), back.loc.Query().Get("code"), oauth2.VerifierOption(pkce))
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				return // the code was ended with the rest
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.introspect(t, card, tok.AccessToken) {
				t.Error("an access token from a code written during the withdrawal is active after it")
			}
		})
	}
}
