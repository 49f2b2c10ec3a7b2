package page

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// LanguageCookie is the cookie that remembers a language chosen with
// LanguageSwitch.
const LanguageCookie = "propusk_lang"

// languageCookieAge is how long the language choice is remembered.
const languageCookieAge = 365 * 24 * time.Hour

// ChooseLanguage picks the language of the pages for r: the first supported
// language of the OIDC ui_locales parameter (a space-separated list of BCP 47
// tags, as the relying party passed it), else the language in the
// propusk_lang cookie, else the best of Accept-Language, else
// DefaultLanguage.
func ChooseLanguage(r *http.Request, uiLocales string) language.Tag {
	c := theCatalog()
	for _, s := range strings.Fields(uiLocales) {
		if tag, err := language.Parse(s); err == nil {
			if m, ok := c.match(tag); ok {
				return m
			}
		}
	}
	if r == nil {
		return DefaultLanguage
	}
	if ck, err := r.Cookie(LanguageCookie); err == nil {
		if tag, err := language.Parse(ck.Value); err == nil {
			if m, ok := c.match(tag); ok {
				return m
			}
		}
	}
	// Sorted by quality and tried in that order. The matcher's High
	// confidence follows CLDR, which counts Russian as a good match for
	// readers of Kazakh, Kyrgyz, Uzbek, Tajik, Armenian or Belarusian until
	// their own catalogue exists; weaker guesses are passed over.
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, tag := range tags {
		if m, ok := c.match(tag); ok {
			return m
		}
	}
	return DefaultLanguage
}

// LanguageSwitch handles GET /lang?set=en&return=/login?flow=abc: it
// remembers the language in the propusk_lang cookie and sends the person
// back (303) to return — only if that is a path on this site, else to "/",
// so the endpoint cannot be used as an open redirect. An unsupported or
// missing set leaves the cookie alone.
type LanguageSwitch struct {
	// Secure marks the cookie Secure even when the request did not arrive
	// over TLS (Propusk behind a TLS-terminating proxy).
	Secure bool
	// OnSwitch, when set, learns of a switch to a supported language, with
	// the local path the person returns to (a flow page records the choice
	// in its flow, where it outranks the relying party's ui_locales).
	OnSwitch func(r *http.Request, tag language.Tag, returnPath string)
}

// ServeHTTP implements http.Handler.
func (s LanguageSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if tag, err := language.Parse(q.Get("set")); err == nil {
		if m, ok := theCatalog().match(tag); ok {
			http.SetCookie(w, &http.Cookie{
				Name:     LanguageCookie,
				Value:    m.String(),
				Path:     "/",
				MaxAge:   int(languageCookieAge / time.Second),
				HttpOnly: true,
				Secure:   s.Secure || r.TLS != nil,
				SameSite: http.SameSiteLaxMode,
			})
		}
	}
	target := q.Get("return")
	if !IsLocalPath(target) {
		target = "/"
	}
	if tag, err := language.Parse(q.Get("set")); err == nil && s.OnSwitch != nil {
		if m, ok := theCatalog().match(tag); ok {
			s.OnSwitch(r, m, target)
		}
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// maxLocalPath bounds a return path; flows need far less.
const maxLocalPath = 2048

// IsLocalPath reports whether s is a path on this site, safe to redirect to:
// it starts with a single "/" (not "//" nor "/\", which browsers read as
// another host), names no scheme or host, and carries no backslash or
// control character (browsers drop tabs and newlines from URLs, turning
// "/\t/evil.example" into "//evil.example").
func IsLocalPath(s string) bool {
	if s == "" || len(s) > maxLocalPath || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.Opaque == "" && u.User == nil
}
