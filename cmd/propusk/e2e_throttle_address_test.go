package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
)

// A sprayer sends one wrong password to each of many usernames from one
// address, all at once: the per-address limit (30 a window) must hold for
// the burst, as the per-account one does. (Were the address read before
// the password check and counted after it, every request of the burst
// would have its password checked.)
func TestEndToEndSignInThrottleAddressBurst(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
		pkce := oauth2.GenerateVerifier()
		authURL := cfg.AuthCodeURL("s-12345678", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("prompt", "login"))
		const burst = accounts.AddressAttempts + 10
		reqs := make([]*http.Request, burst)
		browsers := make([]*browser, burst)
		for i := range burst {
			br := newBrowser(t)
			pg := br.get(authURL)
			if !strings.HasSuffix(pg.url.Path, "/login") {
				t.Fatalf("expected the login page, got %d %s", pg.status, pg.url)
			}
			form := url.Values{}
			for _, m := range inputRE.FindAllStringSubmatch(pg.body, -1) {
				form.Set(m[1], htmlUnescape(m[2]))
			}
			form.Set("username", fmt.Sprintf("sprayed%03d", i))
			form.Set("password", "Summer2026!")
			req, _ := http.NewRequest(http.MethodPost, pg.url.ResolveReference(&url.URL{Path: "/login"}).String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", pg.url.Scheme+"://"+pg.url.Host)
			reqs[i], browsers[i] = req, br
		}
		statuses := make([]int, burst)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := browsers[i].client.Do(reqs[i])
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}()
		}
		close(start)
		wg.Wait()
		checked := 0
		for _, s := range statuses {
			if s == http.StatusUnauthorized {
				checked++
			}
		}
		if checked > accounts.AddressAttempts {
			t.Errorf("%d of %d simultaneous wrong passwords from one address were checked, want at most %d (statuses %v)", checked, burst, accounts.AddressAttempts, statuses)
		}
	})
}

// A café: an attacker behind its one address sprays wrong passwords until
// the address waits out its window. The owner's browser, known to her
// account, still signs in there; an unknown browser does not. Once the
// password changes, the cookie no longer makes her browser known.
func TestEndToEndSignInKnownBrowserPastFullAddress(t *testing.T) {
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
		attacker := newBrowser(t)
		for i := range accounts.AddressAttempts {
			if a := tryPassword(t, attacker, authURL, fmt.Sprintf("sprayed%02d", i), "Summer2026!"); a.status != http.StatusUnauthorized {
				t.Fatalf("spray %d: %+v", i+1, a)
			}
		}
		if a := tryPassword(t, newBrowser(t), authURL, "olga", right); a.status != http.StatusTooManyRequests || a.retryAfter <= time.Minute {
			t.Fatalf("an unknown browser at the full address: %+v, want the address's wait", a)
		}
		if a := tryPassword(t, owner, authURL, "olga", right); a.code == "" {
			t.Fatalf("the owner's known browser at the full address: %+v", a)
		}

		const changed = "a brand new passphrase"
		if err := (&accounts.Service{Store: p.db}).SetPassword(t.Context(), "olga", changed); err != nil {
			t.Fatal(err)
		}
		if a := tryPassword(t, owner, authURL, "olga", changed); a.status != http.StatusTooManyRequests {
			t.Fatalf("the owner's browser after a password change, at the full address: %+v, want a wait", a)
		}
	})
}
