package oauth

import (
	"net/http"
	"net/url"

	"github.com/ory/fosite"

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
