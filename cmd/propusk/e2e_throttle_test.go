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
)

// loginAttempt is the answer to one password sent from the login page.
type loginAttempt struct {
	status     int
	retryAfter time.Duration // from Retry-After; 0 when absent
	code       string        // set when the browser got back to the relying party
}

// tryPassword opens authURL's login page in br and sends username and
// password, keeping the answer's Retry-After.
func tryPassword(t *testing.T, br *browser, authURL, username, password string) loginAttempt {
	t.Helper()
	pg := br.get(authURL)
	if !strings.HasSuffix(pg.url.Path, "/login") {
		t.Fatalf("expected the login page, got %d %s", pg.status, pg.url)
	}
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(pg.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("username", username)
	form.Set("password", password)
	req, _ := http.NewRequest(http.MethodPost, pg.url.ResolveReference(&url.URL{Path: "/login"}).String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", pg.url.Scheme+"://"+pg.url.Host)
	resp, err := br.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	a := loginAttempt{status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("Retry-After %q", s)
		}
		a.retryAfter = time.Duration(n) * time.Second
	}
	if loc, err := resp.Location(); err == nil {
		a.code = loc.Query().Get("code")
	}
	return a
}

// Targeted lock-out, with three browsers: a guesser who knows a username
// sends it many wrong passwords; the owner's browser, which has signed in
// before, still signs in at once with the right one; a browser never used
// for the account is slowed down (seconds), not locked out for the window,
// and not at all once the owner has signed in.
func TestEndToEndSignInThrottleKnownBrowser(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.person(t, "olga", "simplified")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		authURL := cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "login"))
		const right = "correct horse battery"

		owner := newBrowser(t)
		if a := tryPassword(t, owner, authURL, "olga", right); a.code == "" {
			t.Fatalf("owner's first sign-in: %+v", a)
		}
		if !hasDeviceCookie(t, owner, p.issuer) {
			t.Fatal("no device cookie after a complete sign-in")
		}
		// The account page's password change checks the password under the
		// same limits, so it must know the browser too.
		accountURL, _ := url.Parse(p.issuer + "/account")
		sent := false
		for _, c := range owner.client.Jar.Cookies(accountURL) {
			sent = sent || c.Name == "propusk_device"
		}
		if !sent {
			t.Error("the device cookie is not sent to the account page")
		}

		// The guesser sends wrong passwords as fast as it is let, until it is
		// told to wait 4 s (after five free, 1 s, then 2 s: seven checked), then
		// hammers on; a lock-out would tell it to wait the whole window.
		attacker := newBrowser(t)
		wrong := 0
		for {
			a := tryPassword(t, attacker, authURL, "olga", "wrong password!")
			if a.status == http.StatusUnauthorized {
				wrong++
				continue
			}
			if a.status != http.StatusTooManyRequests || a.retryAfter <= 0 || a.retryAfter > time.Minute {
				t.Fatalf("after %d wrong passwords the guesser got %+v, want a wait of at most a minute", wrong, a)
			}
			if a.retryAfter >= 4*time.Second {
				break
			}
			time.Sleep(a.retryAfter)
		}
		for range 10 {
			if a := tryPassword(t, attacker, authURL, "olga", "wrong password!"); a.status != http.StatusTooManyRequests {
				t.Fatalf("hammering during the pause: %+v", a)
			}
		}
		if wrong < accounts.AccountAttempts+2 {
			t.Fatalf("%d wrong passwords checked before a 4 s pause", wrong)
		}

		// A new browser with the right password waits seconds, not the
		// window: a slowdown.
		third := newBrowser(t)
		a := tryPassword(t, third, authURL, "olga", right)
		if a.status != http.StatusTooManyRequests || a.retryAfter <= 0 || a.retryAfter > 4*time.Second {
			t.Fatalf("unknown browser after the guessing: %+v, want a wait of seconds", a)
		}

		// The owner's browser is not held back by the guesses, and its
		// sign-in ends the run of failures: the new browser gets in at once.
		if a := tryPassword(t, owner, authURL, "olga", right); a.code == "" {
			t.Fatalf("owner's browser after the guessing: %+v", a)
		}
		if a := tryPassword(t, third, authURL, "olga", right); a.code == "" {
			t.Fatalf("unknown browser after the owner's sign-in: %+v", a)
		}
	})
}

// hasDeviceCookie reports whether br holds a device cookie for issuer's
// sign-in pages.
func hasDeviceCookie(t *testing.T, br *browser, issuer string) bool {
	t.Helper()
	u, _ := url.Parse(issuer + "/login")
	for _, c := range br.client.Jar.Cookies(u) {
		if c.Name == "propusk_device" {
			return true
		}
	}
	return false
}

// For an account with an authenticator the browser becomes known only
// when the second factor is proven: a password alone (perhaps a stolen
// one) earns no device cookie.
func TestEndToEndDeviceCookieAfterSecondFactor(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		id := p.person(t, "nina", "standard")
		secret := p.enrolApp(t, id, "nina")
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		br := newBrowser(t)
		pg := br.get(cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce)))
		pg = br.submit(pg, "/login", url.Values{"username": {"nina"}, "password": {"correct horse battery"}})
		if !strings.HasSuffix(pg.url.Path, "/login/otp") {
			t.Fatalf("after the password: %d %s", pg.status, pg.url)
		}
		if hasDeviceCookie(t, br, p.issuer) {
			t.Fatal("a device cookie after the password alone")
		}
		back := br.submit(pg, "/login/otp", url.Values{"code": {appCode(t, secret, time.Now().Add(30*time.Second))}})
		if back.loc == nil {
			t.Fatalf("right code: %d %s", back.status, back.url)
		}
		if !hasDeviceCookie(t, br, p.issuer) {
			t.Fatal("no device cookie after the second factor")
		}
	})
}
