package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
)

// A sprayer sends one wrong password to each of many usernames from one
// address, all at once: the per-address limit (30 a window) must hold for
// the burst, as the per-account one does. Today the address is read before
// the password check and counted after it, so every request of the burst
// has its password checked.
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
