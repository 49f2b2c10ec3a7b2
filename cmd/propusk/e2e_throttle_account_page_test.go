package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/propusk/propusk/accounts"
)

// Targeted lock-out, on the account page: the owner, signed in a moment
// ago from a browser the account knows, changes the password while someone
// who knows the username is guessing at the login page. The guesses must
// not hold the owner's known browser back here either (issue 12 #5): the
// password change is what the owner reaches for when they suspect an
// attack. Today the device cookie is sent only to /login, so the account
// page counts the owner's current password as an unknown browser's and
// refuses it during the guesser's pause; a guesser who takes every turn
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
