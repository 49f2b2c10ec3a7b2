package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// deviceCookie holds the browser's device tokens (accounts.LoginThrottle
// IssueDevice), one per account it has completed a sign-in to: with one,
// guesses at that account from elsewhere do not slow its owner down
// (targeted lock-out). Sent only to the sign-in pages.
const deviceCookie = "propusk_device"

// maxDeviceTokens bounds the accounts one browser is known for (a family
// computer), and so the cookie's size.
const maxDeviceTokens = 5

func deviceTokens(r *http.Request) []string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	toks := strings.Split(c.Value, "~")
	return toks[:min(len(toks), maxDeviceTokens)]
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
// a complete sign-in (password and, when there is one, second factor): in
// front, in place of its previous one for the account, the oldest others
// dropped beyond maxDeviceTokens.
func (h *Handler) rememberDevice(w http.ResponseWriter, r *http.Request, acct store.Account) {
	tok := h.Throttle.IssueDevice(acct)
	if tok == "" {
		return
	}
	keep := []string{tok}
	for _, old := range deviceTokens(r) {
		if len(keep) == maxDeviceTokens {
			break
		}
		if old != "" && h.Throttle.KnownDevice(acct, old) == "" {
			keep = append(keep, old)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookie, Value: strings.Join(keep, "~"), Path: "/login",
		Expires: h.now().Add(accounts.DeviceLifetime), MaxAge: int(accounts.DeviceLifetime / time.Second),
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}
