package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// The device cookie: long-lived, out of scripts' reach, sent to every page
// (the account page's password change needs it too) and, over https, only
// over https; one token per account, newest first, at most maxDeviceTokens
// accounts per browser.
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
		return newDeviceCookie(t, w)
	}
	c := remember("acct-0", nil)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
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

// newDeviceCookie is the device cookie w sets at /; any other it sets must
// be the removal of an old one at /login.
func newDeviceCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	var set *http.Cookie
	for _, c := range w.Result().Cookies() {
		switch {
		case c.Name == deviceCookie && c.Path == "/" && set == nil:
			set = c
		case c.Name == deviceCookie && c.Path == oldDevicePath && c.MaxAge < 0:
		default:
			t.Fatalf("cookie set: %+v", c)
		}
	}
	if set == nil {
		t.Fatal("no device cookie set at /")
	}
	return set
}

// Device cookies used to live at /login, and a browser may hold one there
// beside the new one at /; it sends both to the sign-in pages, the longer
// path first. Both are read, and the next sign-in there moves the old
// one's tokens into the cookie at / and removes the old one.
func TestDeviceCookieAtTheOldPath(t *testing.T) {
	th := &accounts.LoginThrottle{DeviceKey: []byte("0123456789abcdef0123456789abcdef")}
	h := &Handler{Throttle: th}
	acct := func(id string) store.Account { return store.Account{ID: id, PasswordHash: "hash of " + id} }
	old := &http.Cookie{Name: deviceCookie, Value: th.IssueDevice(acct("old-1")) + "~" + th.IssueDevice(acct("old-2"))}
	cur := &http.Cookie{Name: deviceCookie, Value: th.IssueDevice(acct("new-1"))}
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.AddCookie(old)
	r.AddCookie(cur)
	toks := deviceTokens(r)
	for _, id := range []string{"old-1", "old-2", "new-1"} {
		if !slices.ContainsFunc(toks, func(tok string) bool { return th.KnownDevice(acct(id), tok) != "" }) {
			t.Errorf("%s's token not read from %v", id, toks)
		}
	}

	w := httptest.NewRecorder()
	h.rememberDevice(w, r, acct("signed-in"))
	removed := false
	for _, c := range w.Result().Cookies() {
		removed = removed || c.Path == oldDevicePath && c.MaxAge < 0
	}
	if !removed {
		t.Error("the old cookie at /login was not removed")
	}
	c := newDeviceCookie(t, w)
	for _, id := range []string{"signed-in", "old-1", "old-2", "new-1"} {
		if !slices.ContainsFunc(strings.Split(c.Value, "~"), func(tok string) bool { return th.KnownDevice(acct(id), tok) != "" }) {
			t.Errorf("%s's token not in the new cookie %q", id, c.Value)
		}
	}

	// Elsewhere (the account page) the old cookie is not sent, so it is
	// left for the next sign-in to move. A password change there replaces
	// the token signed over the old password too.
	r = httptest.NewRequest(http.MethodPost, "/account/password", nil)
	r.AddCookie(cur)
	w = httptest.NewRecorder()
	changed := store.Account{ID: "new-1", PasswordHash: "new hash of new-1"}
	h.rememberDevice(w, r, changed, acct("new-1"))
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].Path != "/" || strings.Contains(cs[0].Value, "~") || th.KnownDevice(changed, cs[0].Value) == "" {
		t.Errorf("cookies set on the account page's password change: %+v", cs)
	}
}
