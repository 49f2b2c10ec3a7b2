package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/testdb"
)

// holdGrantLock takes subject's grant lock in a transaction of its own and
// keeps it until the test ends (or release is called).
func holdGrantLock(t *testing.T, db database, subject string) (release func()) {
	t.Helper()
	held, rel, done := make(chan error, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		db.InTx(context.Background(), func(ctx context.Context) error {
			err := db.LockGrants(ctx, subject)
			held <- err
			<-rel
			return err
		})
	}()
	if err := <-held; err != nil {
		t.Fatalf("hold the grant lock: %v", err)
	}
	var closed bool
	release = func() {
		if !closed {
			closed = true
			close(rel)
			<-done
		}
	}
	t.Cleanup(release)
	return release
}

// A code cannot be issued because the person's grant lock cannot be had
// (PostgreSQL's lock_timeout, which an operator sets in the connection
// string, answers 55P03; a deadlock 40P01; both are store.ErrConflict):
// the database is busy, not broken. The token endpoint says so with 503
// temporarily_unavailable and Retry-After; the authorization endpoint must
// say it too (RFC 6749 §4.1.2.1 temporarily_unavailable), not server_error,
// the redirect's form of a 500, which tells the relying party Propusk is
// broken and is logged as an internal error.
func TestGrantLockBusyAtAuthorization(t *testing.T) {
	db := testdb.Postgres(t, "lock_timeout=300")
	p := startIDP(t, db, newRing(t))
	const username = "olga"
	id := p.accountPerson(t, username, "en")
	card, _ := p.rp(t, clients.Registration{Name: "Compatriot card"})
	card.Scopes = append(card.Scopes, "offline_access")
	br := newBrowser(t)
	tok := consentAndTokens(t, p, br, card, username)

	holdGrantLock(t, db, id) // a withdrawal, say, that is taking its time

	// The token endpoint, for comparison.
	got, m, hdr := postForm(t, card.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
		card.ClientID, card.ClientSecret)
	if got != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" || hdr.Get("Retry-After") == "" {
		t.Errorf("refresh while the grant lock is busy: %d %v, want 503 temporarily_unavailable", got, m)
	}

	pkce := oauth2.GenerateVerifier()
	back := br.get(card.AuthCodeURL("s-"+random(t), oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "none")))
	if back.loc == nil {
		if back.status != http.StatusServiceUnavailable {
			t.Fatalf("silent authorization while the grant lock is busy: %d %s, want a redirect with temporarily_unavailable or a 503 page", back.status, back.url)
		}
		return
	}
	if e := back.loc.Query().Get("error"); e != "temporarily_unavailable" {
		t.Fatalf("silent authorization while the grant lock is busy: redirected with error=%q (%s), want temporarily_unavailable", e, back.loc)
	}
}
