package page

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/propusk/propusk/internal/token"
)

// SetFormCookie sets the form-token cookie name for the pages under path:
// HttpOnly, SameSite=Strict, an hour long, Secure when secure.
func SetFormCookie(w http.ResponseWriter, name, path, value string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
}

// SessionFormToken is the form token of the pages of one sign-in that
// belong to no flow (the account page, the logout confirmation), derived
// from its SSO session cookie: the same in every tab and at every showing
// while the session lasts, new with the new session of every sign-in, gone
// at sign-out, and unknown to anyone without the cookie.
func SessionFormToken(sessionCookie string) string {
	m := hmac.New(sha256.New, []byte(sessionCookie))
	m.Write([]byte("propusk account form token"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SessionFormTokenMatches reports whether posted is the form token of the
// sign-in whose SSO cookie is sessionCookie.
func SessionFormTokenMatches(sessionCookie, posted string) bool {
	return token.Equal(posted, SessionFormToken(sessionCookie))
}

// FormCookieMatches reports whether a posted form's csrf field equals the
// token in the cookie named name.
func FormCookieMatches(r *http.Request, name string) bool {
	c, err := r.Cookie(name)
	return err == nil && token.Equal(c.Value, r.PostFormValue("csrf"))
}

// CrossOrigin wraps a handler of POST forms with the standard library's
// cross-origin protection (http.CrossOriginProtection): a non-safe request
// a browser marks as cross-site (Sec-Fetch-Site, or an Origin that does not
// match Host) is refused with 403 before it reaches next. Safe methods and
// non-browser requests pass. It complements, not replaces, the per-flow
// CSRF token.
func CrossOrigin(next http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(next)
}
