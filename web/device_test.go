package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// The device cookie: long-lived, out of scripts' reach, sent only to the
// sign-in pages and, over https, only over https; one token per account,
// newest first, at most maxDeviceTokens accounts per browser.
func TestRememberDevice(t *testing.T) {
	th := &accounts.LoginThrottle{DeviceKey: []byte("0123456789abcdef0123456789abcdef")}
	h := &Handler{Throttle: th, SecureCookies: true}
	acct := func(id string) store.Account { return store.Account{ID: id, PasswordHash: "hash of " + id} }
	remember := func(accountID string, prev *http.Cookie) *http.Cookie {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "https://id.example/login", nil)
		if prev != nil {
			r.AddCookie(prev)
		}
		w := httptest.NewRecorder()
		h.rememberDevice(w, r, acct(accountID))
		cs := w.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != deviceCookie {
			t.Fatalf("cookies set: %v", cs)
		}
		return cs[0]
	}
	c := remember("acct-0", nil)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/login" ||
		c.MaxAge != int(accounts.DeviceLifetime/time.Second) {
		t.Fatalf("device cookie attributes: %+v", c)
	}
	first := c.Value
	for i := 1; i <= maxDeviceTokens; i++ {
		c = remember(fmt.Sprint("acct-", i), c)
	}
	toks := strings.Split(c.Value, "~")
	if len(toks) != maxDeviceTokens {
		t.Fatalf("%d tokens kept, want %d", len(toks), maxDeviceTokens)
	}
	for i, tok := range toks {
		if th.KnownDevice(acct(fmt.Sprint("acct-", maxDeviceTokens-i)), tok) == "" {
			t.Errorf("token %d is not acct-%d's", i, maxDeviceTokens-i)
		}
	}
	if strings.Contains(c.Value, first) {
		t.Error("the oldest account's token was not dropped")
	}
	// Signing in again replaces the account's token and moves it first.
	c = remember("acct-3", c)
	toks = strings.Split(c.Value, "~")
	n := 0
	for _, tok := range toks {
		if th.KnownDevice(acct("acct-3"), tok) != "" {
			n++
		}
	}
	if n != 1 || th.KnownDevice(acct("acct-3"), toks[0]) == "" || len(toks) != maxDeviceTokens {
		t.Fatalf("after signing in to acct-3 again: %d of its tokens, first %t, %d in all", n, th.KnownDevice(acct("acct-3"), toks[0]) != "", len(toks))
	}
}
