package page

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ContentSecurityPolicy is the policy of every response: no script at all,
// styles and images only from Propusk, forms only to Propusk, never framed.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets on every response a strict Content-Security-Policy,
// X-Frame-Options DENY, Referrer-Policy no-referrer, X-Content-Type-Options
// nosniff, and Cache-Control no-store: pages carry flow IDs and CSRF tokens
// and must not be kept by any cache. Handlers may override (StaticHandler
// does, for its files; AllowFormAction widens form-action).
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// AllowFormAction widens the response's form-action to "'self' <origin>",
// before the page is written. origin is a relying party's redirect URI or
// its origin (only scheme://host[:port] is kept); anything else that is not
// an http or https URL with a host leaves the policy unchanged, so the form
// cannot leave Propusk. Calls add up, for a page whose forms may end at
// several origins.
//
// Needed not only for the form_post page: browsers apply form-action to the
// redirects that follow a form submission too, so a page whose form posts
// to Propusk and is answered with a redirect to the relying party (sign-in,
// consent, logout confirmation) must allow that party's origin as well.
func AllowFormAction(w http.ResponseWriter, origin string) {
	src, ok := cspOrigin(origin)
	if !ok {
		return
	}
	h := w.Header()
	policy := h.Get("Content-Security-Policy")
	if policy == "" {
		policy = ContentSecurityPolicy
	}
	directives := strings.Split(policy, ";")
	found := false
	for i, d := range directives {
		fields := strings.Fields(d)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "form-action") {
			continue
		}
		found = true
		if sources := fields[1:]; !slices.Contains(sources, src) {
			if slices.Contains(sources, "'none'") {
				fields = []string{fields[0], "'self'"}
			}
			fields = append(fields, src)
		}
		directives[i] = " " + strings.Join(fields, " ")
	}
	if !found {
		directives = append(directives, " form-action 'self' "+src)
	}
	h.Set("Content-Security-Policy", strings.TrimSpace(strings.Join(directives, ";")))
}

// cspOrigin turns an http(s) URL into a CSP host-source, scheme://host[:port].
func cspOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	for _, c := range u.Host {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']'
		if !ok {
			return "", false
		}
	}
	return scheme + "://" + strings.ToLower(u.Host), true
}
