package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// deviceCookie holds the browser's device tokens (accounts.LoginThrottle
// IssueDevice), one per account it has completed a sign-in to: with one,
// guesses at that account from elsewhere do not slow its owner down
// (targeted lock-out). Path /: the account page's password change checks
// the password under the same limits and must know the browser too.
const deviceCookie = "propusk_device"

// oldDevicePath is where device cookies used to live. A browser may still
// hold one there: on the sign-in pages it sends both (the longer path
// first), so their tokens are read together and the old one is removed
// when the new one is written.
const oldDevicePath = "/login"

// maxDeviceTokens bounds the accounts one browser is known for (a family
// computer), and so the cookie's size.
const maxDeviceTokens = 5

// deviceTokens returns the tokens of every device cookie the browser sent
// (at most two are read: the one at / and an old one at oldDevicePath),
// each cookie's first maxDeviceTokens, without repeats.
func deviceTokens(r *http.Request) []string {
	var toks []string
	cs := r.CookiesNamed(deviceCookie)
	for _, c := range cs[:min(len(cs), 2)] {
		if c.Value == "" {
			continue
		}
		vs := strings.Split(c.Value, "~")
		for _, tok := range vs[:min(len(vs), maxDeviceTokens)] {
			if tok != "" && !slices.Contains(toks, tok) {
				toks = append(toks, tok)
			}
		}
	}
	return toks
}

// reserveSignIn reserves a password attempt for username (LoginThrottle
// Reserve) as this browser: a known device when its cookie holds a live
// token for the account of that name. Succeeded takes the reservation.
func (h *Handler) reserveSignIn(r *http.Request, username, addr string) (accounts.Reservation, error) {
	ctx := r.Context()
	device := ""
	if toks := deviceTokens(r); len(toks) > 0 {
		if u, err := accounts.NormalizeUsername(username); err == nil {
			acct, err := h.Accounts.Store.GetAccountByUsername(ctx, u)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return accounts.Reservation{}, err
			}
			for _, tok := range toks {
				if device = h.Throttle.KnownDevice(acct, tok); device != "" {
					break
				}
			}
		}
	}
	return h.Throttle.Reserve(ctx, username, addr, device)
}

// rememberDevice gives the browser a fresh device token for acct after
// a complete sign-in (password and, when there is one, second factor) or
// a password change: in front, in place of its previous one for the
// account (also one for the account as it was before, when given), the
// oldest others dropped beyond maxDeviceTokens.
func (h *Handler) rememberDevice(w http.ResponseWriter, r *http.Request, acct store.Account, before ...store.Account) {
	tok := h.Throttle.IssueDevice(acct)
	if tok == "" {
		return
	}
	keep := []string{tok}
	for _, old := range deviceTokens(r) {
		if len(keep) == maxDeviceTokens {
			break
		}
		mine := h.Throttle.KnownDevice(acct, old) != ""
		for _, b := range before {
			mine = mine || h.Throttle.KnownDevice(b, old) != ""
		}
		if !mine {
			keep = append(keep, old)
		}
	}
	if r.URL.Path == oldDevicePath || strings.HasPrefix(r.URL.Path, oldDevicePath+"/") {
		// An old cookie was sent here if there is one, and what is kept of
		// its tokens is in the new one: remove it.
		http.SetCookie(w, &http.Cookie{Name: deviceCookie, Path: oldDevicePath, MaxAge: -1,
			HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookie, Value: strings.Join(keep, "~"), Path: "/",
		Expires: h.Clock.Now().Add(accounts.DeviceLifetime), MaxAge: int(accounts.DeviceLifetime / time.Second),
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}
