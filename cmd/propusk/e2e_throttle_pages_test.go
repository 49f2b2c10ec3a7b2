package main

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/mfa"
)

// submitHeader is submit, also keeping the answer's headers.
func submitHeader(t *testing.T, b *browser, p browserPage, action string, fields url.Values) (browserPage, http.Header) {
	t.Helper()
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(p.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	target := p.url.ResolveReference(&url.URL{Path: action, RawQuery: p.url.RawQuery})
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.url.Scheme+"://"+p.url.Host)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return browserPage{status: resp.StatusCode, url: resp.Request.URL, body: string(body)}, resp.Header
}

// retryAfter is a 429's Retry-After in seconds; it fails the test when
// there is none.
func retryAfter(t *testing.T, what string, h http.Header) int {
	t.Helper()
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n <= 0 {
		t.Fatalf("%s: Retry-After %q, want a number of seconds", what, h.Get("Retry-After"))
	}
	return n
}

// The second-factor pages' 429 says when to retry, as the sign-in page's
// does: a client (or a script a person runs) is told, not left to poll.
func TestEndToEndSecondFactorLockRetryAfter(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "rita", "standard")
		secret := p.enrolApp(t, id, "rita")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		br := newBrowser(t)
		page := br.enterPassword(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), uiEnglish), "rita")
		if !strings.HasSuffix(page.url.Path, "/login/otp") {
			t.Fatalf("after the password: %d %s", page.status, page.url)
		}
		wrong := codeOutsideWindow(t, secret)
		var h http.Header
		for range mfa.FreeFailures {
			page, h = submitHeader(t, br, page, "/login/otp", url.Values{"code": {wrong}})
		}
		if page.status != http.StatusTooManyRequests {
			t.Fatalf("after %d wrong codes: %d, want 429", mfa.FreeFailures, page.status)
		}
		n := retryAfter(t, "the wrong code that locks", h)
		if !pageShows(page, english.T("mfa.error.locked", n)) {
			t.Errorf("the page does not say the wait of Retry-After (%d s):\n%s", n, page.body)
		}
		// The right code, and a recovery code, while locked: 429 with
		// Retry-After too.
		page, h = submitHeader(t, br, page, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now().Add(30*time.Second))}})
		if page.status != http.StatusTooManyRequests {
			t.Fatalf("the right code while locked: %d, want 429", page.status)
		}
		retryAfter(t, "the right code while locked", h)
		rec := br.get(p.issuer + "/login/recovery?" + page.url.RawQuery)
		rec, h = submitHeader(t, br, rec, "/login/recovery", url.Values{"code": {"aaaa-bbbb-cccc"}})
		if rec.status != http.StatusTooManyRequests {
			t.Fatalf("a recovery code while locked: %d %s, want 429", rec.status, rec.url)
		}
		retryAfter(t, "a recovery code while locked", h)
	})
}

// An account that refuses unknown browsers (a guesser ran it up to
// AccountFailures) says so on the account page too, not "wait a little":
// waiting does not help for 30 days. The browser here signed in, so it is
// known; past its own allowance of wrong current passwords it is one
// more unknown browser.
func TestEndToEndAccountPasswordLocked(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		const username = "gleb"
		p.accountPerson(t, username, "en")
		br := newBrowser(t)
		page := signInToAccount(t, p, br, username, accountPassword, "", nil)

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

		guess := url.Values{"current_password": {"not my password"}, "new_password": {accountNewPassword}}
		for i := 1; i <= accounts.DeviceAttempts; i++ {
			if page = br.submit(page, "/account/password", guess); page.status != http.StatusUnauthorized {
				t.Fatalf("wrong current password %d from the known browser: %d, want 401", i, page.status)
			}
		}
		held, h := submitHeader(t, br, page, "/account/password", guess)
		if held.status != http.StatusTooManyRequests || !pageShows(held, english.T("account.error.password_locked")) ||
			pageShows(held, english.T("account.error.password_throttled")) {
			t.Fatalf("past the browser's allowance on a locked account: %d %s, want 429 and the locked notice:\n%s", held.status, held.url, held.body)
		}
		if n := retryAfter(t, "locked", h); n < 29*24*3600 {
			t.Errorf("Retry-After %d s on a locked account, want the rest of its 30 days", n)
		}
	})
}
