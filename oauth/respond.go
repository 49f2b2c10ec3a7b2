package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// respond sends an authorization response (success or error parameters)
// to the client's validated redirect URI, in the response mode it asked
// for, with iss added (RFC 9207) so a client talking to several providers
// can tell whose response it got (mix-up attacks).
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, params url.Values) {
	params.Set("iss", h.Config.Issuer)
	// A request without state gets a response without it (fosite's
	// handler adds an empty one).
	if st := ar.GetState(); st != "" {
		params.Set("state", st)
	} else {
		params.Del("state")
	}
	target := *ar.GetRedirectURI()
	w.Header().Set("Cache-Control", "no-store")
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		view := page.FormPostView{Action: target.String()}
		for k, vs := range params {
			for _, v := range vs {
				view.Params = append(view.Params, [2]string{k, v})
			}
		}
		page.AllowFormAction(w, target.Scheme+"://"+target.Host)
		lang := page.ChooseLanguage(r, ar.GetRequestForm().Get("ui_locales"))
		if err := h.Pages.Render(w, r, http.StatusOK, lang, page.FormPostPage, view); err != nil {
			h.Logger.ErrorContext(r.Context(), "render form_post response", "err", err)
		}
		return
	}
	q := target.Query()
	for k, vs := range params {
		q[k] = vs
	}
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

// authorizeError answers a failed authorization request. When fosite has
// validated the redirect URI against the client, the error goes back to
// the client; otherwise (unknown client, unregistered redirect URI) the
// person sees an error page and is never redirected: redirecting to an
// unchecked URI would make Propusk an open redirector.
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if errors.Is(err, errStorage) || errors.Is(err, store.ErrConflict) {
		// The database failed or is busy (a lock past its timeout):
		// "try again" (RFC 6749 §4.1.2.1), as the back channel says it
		// (backChannelError), not server_error, the redirect's 500.
		rfc = fosite.ErrTemporarilyUnavailable.WithHint("The provider is temporarily unavailable; try again.").WithWrap(err).WithDebug(rfc.DebugField)
	}
	h.logOAuthError(r, "authorization refused", rfc)
	if ar == nil || !ar.IsRedirectURIValid() || ar.GetRedirectURI() == nil {
		if rfc.CodeField >= http.StatusInternalServerError {
			// Propusk's own failure (a database gone away), not the
			// request's: "try again", not "bad request".
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		h.pageError(w, r, page.BadRequest(err))
		return
	}
	params := url.Values{"error": {rfc.ErrorField}}
	if d := rfc.GetDescription(); d != "" {
		params.Set("error_description", d)
	}
	h.respond(w, r, ar, params)
}

// pageError shows a localized error page with a reference that is also
// logged.
func (h *Handler) pageError(w http.ResponseWriter, r *http.Request, err error) {
	h.Pages.Error(w, r, page.ChooseLanguage(r, r.URL.Query().Get("ui_locales")), h.Logger, err)
}
