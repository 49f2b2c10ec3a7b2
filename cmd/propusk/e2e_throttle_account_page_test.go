package main

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	"testing"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/clock"
)

// Targeted lock-out, on the account page: the owner, signed in a moment
// ago from a browser the account knows, changes the password while someone
// who knows the username is guessing at the login page. The guesses must
// not hold the owner's known browser back here either (issue 12 #5): the
// password change is what the owner reaches for when they suspect an
// attack. The device cookie was sent only to /login, so the account
// page counted the owner's current password as an unknown browser's and
// refused it during the guesser's pause; a guesser who takes every turn
// the moment it opens (the Retry-After tells them when) keeps the owner
// from ever changing the password there, and every new sign-in the owner
// makes to get a fresh session only restarts the guesser's free attempts.
func TestEndToEndAccountPasswordChangeNotHeldBackByGuesses(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		const username = "vera"
		p.accountPerson(t, username, "en")
		owner := newBrowser(t)
		page := signInToAccount(t, p, owner, username, accountPassword, "", nil)
		if !hasDeviceCookie(t, owner, p.issuer) {
			t.Fatal("no device cookie after a complete sign-in")
		}

		attacker := newBrowser(t)
		guess := attacker.get(p.issuer + "/account")
		for i := range accounts.AccountAttempts {
			guess = attacker.submit(guess, "/login", url.Values{"username": {username}, "password": {"wrong password!"}})
			if guess.status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d %s", i+1, guess.status, guess.url)
			}
		}

		got := owner.submit(page, "/account/password", url.Values{"current_password": {accountPassword}, "new_password": {accountNewPassword}})
		if got.url.Query().Get("notice") != "password_changed" {
			t.Fatalf("the owner's password change from a known browser, fresh session, right current password, during a guesser's pause: %d %s, want the account page with the notice", got.status, got.url)
		}
	})
}

// The browser that changes the password on the account page has just
// proven the password (and holds a fresh sign-in); it must stay a browser
// the account knows. Its device token is MACed over the old password
// hash; without a new one, right after the change it was an unknown
// browser: a guesser who has run the account up to AccountFailures (a
// day's work, from anywhere) kept the owner out of
// the very browser they changed the password in, for the rest of the 30
// days. (Changing the password is what an owner who suspects an attack
// does.)
func TestEndToEndPasswordChangeKeepsThisBrowserKnown(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		const username = "vera"
		p.accountPerson(t, username, "en")
		owner := newBrowser(t)
		page := signInToAccount(t, p, owner, username, accountPassword, "", nil)
		changed := owner.submit(page, "/account/password", url.Values{"current_password": {accountPassword}, "new_password": {accountNewPassword}})
		if changed.url.Query().Get("notice") != "password_changed" {
			t.Fatalf("password change: %d %s", changed.status, changed.url)
		}

		// A guesser ran the account up to the limit over the last day,
		// from unknown browsers, as fast as it was let.
		clk := clock.NewFake(timeNow().Add(-25 * time.Hour))
		guesser := &accounts.LoginThrottle{Store: p.db, Clock: clk.Now}
		for n, i := 0, 0; n < accounts.AccountFailures; i++ {
			r, err := guesser.Reserve(t.Context(), username, "198.51.100."+strconv.Itoa(i%250), "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Wait > 0 {
				clk.Advance(r.Wait)
				continue
			}
			n++
		}

		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		authURL := cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login"))
		if a := tryPassword(t, owner, authURL, username, accountNewPassword); a.code == "" {
			t.Fatalf("the browser the password was changed in, with the new password: %+v, want a code", a)
		}
	})
}
