package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/token"
	"github.com/propusk/propusk/web/page"
)

// A flow is bound to the first browser shown one of its pages: a secret in
// a per-flow cookie (signInCookie), whose hash the flow keeps. Every later
// page and post of the flow must carry it, and the forms' token is derived
// from it (flow.FormToken). This stops login CSRF (RFC 6749 §10.12): a
// sign-in form an attacker's browser was shown, posted from the victim's
// browser, would otherwise sign the victim in to the attacker's account.

// signInCookie names the cookie that binds a flow to the browser; one per
// flow, so two tabs signing in at once do not undo each other. Over https
// the __Host- prefix stops a neighbouring subdomain from planting one
// (cookie tossing would bind the victim's browser to the attacker's flow).
func (h *Handler) signInCookie(f *flow.Flow) string {
	id := f.ID
	if len(id) > 16 {
		id = id[:16]
	}
	if h.SecureCookies {
		return "__Host-propusk_signin_" + id
	}
	return "propusk_signin_" + id
}

// binding is the value of the request's sign-in cookie for f when it is
// the one f is bound to, "" otherwise.
func (h *Handler) binding(r *http.Request, f *flow.Flow) string {
	c, err := r.Cookie(h.signInCookie(f))
	if err != nil || !f.BoundTo(c.Value) {
		return ""
	}
	return c.Value
}

// sameBrowser refuses a request for a flow from another browser than the
// one it is bound to. A flow bound to none yet may be shown (the showing
// binds it) but takes no post: no page of it was ever shown, so no form of
// it can be genuine. The error is flow.ErrOtherBrowser; showError answers it
// with a page to start again.
func (h *Handler) sameBrowser(r *http.Request, f *flow.Flow) error {
	if h.binding(r, f) != "" || (f.BrowserHash == nil && r.Method == http.MethodGet) {
		return nil
	}
	return fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, flow.ErrOtherBrowser)
}

// formToken is the token for the forms of a page of f about to be shown.
// The first showing binds the flow to this browser (a new cookie); a flow
// bound to another browser gets flow.ErrOtherBrowser, never a new binding.
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request, f *flow.Flow) (string, error) {
	binding := h.binding(r, f)
	switch {
	case binding != "" && flow.TokenMatches(f.CSRFHash, flow.FormToken(binding)):
		return flow.FormToken(binding), nil
	case binding != "":
		// Bound before its token was derived from the binding (a flow
		// begun by an older version): record the token.
	case f.BrowserHash != nil:
		return "", fmt.Errorf("show a flow's page: %w", flow.ErrOtherBrowser)
	default:
		binding = token.New()
	}
	// Bind refuses, under the row lock, a flow another browser bound
	// meanwhile.
	bound, err := h.Flows.Bind(r.Context(), f.ID, binding)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.signInCookie(bound), Value: binding, Path: "/", Expires: bound.ExpiresAt,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return flow.FormToken(binding), nil
}

// formTokenMatches reports whether a posted form carries the flow's token.
// Callers have checked the browser (sameBrowser).
func (h *Handler) formTokenMatches(r *http.Request, f *flow.Flow) bool {
	return flow.TokenMatches(f.CSRFHash, r.PostFormValue("csrf"))
}

// otherBrowser answers a flow's page or form asked for by a browser the
// flow is not bound to: a page saying so, with a way to start again in
// this browser. The flow itself is left alone.
func (h *Handler) otherBrowser(w http.ResponseWriter, r *http.Request, f *flow.Flow, cause error) {
	ctx := r.Context()
	view := page.OtherBrowserView{}
	if f != nil {
		h.Logger.InfoContext(ctx, "flow refused to another browser", "client_id", f.ClientID, "method", r.Method, "path", r.URL.Path, "err", cause)
		if f.Local() {
			view.RestartURL = "/account"
			if page.IsLocalPath(f.ReturnTo) {
				view.RestartURL = f.ReturnTo
			}
		} else {
			d := f.Details()
			view.ClientName = d.ClientName
			// The relying party's own site, where the sign-in begins; none
			// for an app's custom scheme.
			if strings.HasPrefix(d.RedirectOrigin, "https://") || strings.HasPrefix(d.RedirectOrigin, "http://") {
				view.ServiceURL = d.RedirectOrigin + "/"
			}
		}
	}
	// The browser's own language: the flow's was chosen in the other one.
	if err := h.Pages.Render(w, r, http.StatusForbidden, h.lang(r, nil), page.OtherBrowserPage, view); err != nil {
		h.Logger.ErrorContext(ctx, "render other-browser page", "err", err)
	}
}
