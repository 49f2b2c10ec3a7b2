package main

import (
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
)

// OIDC Core §5.5.1: when the claims parameter asks for sub with a value,
// the provider "MUST NOT reply with an ID Token or Access Token for a
// different user". Propusk ignores the value: a relying party that asks
// for one person gets a code for whoever holds the browser's SSO session.
func TestRV5ClaimsSubValueNamesAnotherPerson(t *testing.T) {
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
