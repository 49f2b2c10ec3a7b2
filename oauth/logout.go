package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0). With a valid id_token_hint for the person signed in, the session
// ends at once; without one, the person confirms on a page, so a link on a
// third-party site cannot sign anyone out. A valid hint with no session in
// the browser ends the session the hint names. The post-logout redirect must be
// registered for the client the hint (or client_id) names.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		h.pageError(w, r, page.BadRequest(err))
		return
	}
	hint := r.Form.Get("id_token_hint")
	clientID := r.Form.Get("client_id")
	redirect := r.Form.Get("post_logout_redirect_uri")
	state := r.Form.Get("state")

	var hc hintClaims
	if hint != "" {
		var err error
		if hc, err = h.verifyHint(ctx, hint, clientID); err != nil {
			h.pageError(w, r, page.BadRequest(err))
			return
		}
		if clientID == "" && len(hc.Audience) > 0 {
			clientID = hc.Audience[0]
		}
	}
	var clientName string
	if redirect != "" || clientID != "" {
		if clientID == "" {
			h.pageError(w, r, page.BadRequest(errors.New("post_logout_redirect_uri without id_token_hint or client_id")))
			return
		}
		c, err := h.Storage.Store.GetClient(ctx, clientID)
		if errors.Is(err, store.ErrNotFound) {
			h.pageError(w, r, page.BadRequest(errors.New("unknown client")))
			return
		}
		if err != nil {
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		if redirect != "" && !slices.Contains(c.PostLogoutRedirectURIs, redirect) {
			h.pageError(w, r, page.BadRequest(errors.New("post_logout_redirect_uri is not registered for the client")))
			return
		}
		clientName = c.Name
	}

	cookie, _ := r.Cookie(SessionCookieName(h.secureCookies()))
	var current store.BrowserSession
	if cookie != nil {
		bs, err := h.Sessions.Lookup(ctx, cookie.Value)
		if err != nil && !errors.Is(err, accounts.ErrNoSession) {
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		current = bs
	}
	lang := page.ChooseLanguage(r, r.Form.Get("ui_locales"))

	if r.Method == http.MethodPost && r.PostForm.Get("decision") == "cancel" {
		// The person stays signed in; back to the relying party if it
		// named a registered address, else to the logged-in state as is.
		if redirect != "" {
			http.Redirect(w, r, withState(redirect, state), http.StatusSeeOther)
			return
		}
		h.pageError(w, r, page.BadRequest(errors.New("sign-out cancelled")))
		return
	}
	// The confirmation's token is the sign-in's (page.SessionFormToken): a
	// third-party page cannot post it, and a second tab's form stays good.
	confirmed := r.Method == http.MethodPost && r.PostForm.Get("decision") == "confirm" && cookie != nil &&
		page.SessionFormTokenMatches(cookie.Value, r.PostForm.Get("csrf"))
	// A hint signs the person out without asking only when it was issued in
	// this very session: an old ID token (or one from another session)
	// must not let any page end the current session silently.
	hinted := hc.Subject != "" && (current.ID == "" || (current.AccountID == hc.Subject && hc.SID == current.PublicID))
	if current.ID != "" && !confirmed && !hinted {
		view := page.LogoutView{CSRFToken: page.SessionFormToken(cookie.Value), ClientName: clientName, State: state, PostLogoutRedirectURI: redirect, ClientID: clientID}
		if u, err := url.Parse(redirect); err == nil && redirect != "" {
			// The confirmation's answer redirects to the relying party:
			// the CSP's form-action must allow it or browsers block it.
			page.AllowFormAction(w, u.Scheme+"://"+u.Host)
		}
		if err := h.Pages.Render(w, r, http.StatusOK, lang, page.LogoutPage, view); err != nil {
			h.Logger.ErrorContext(ctx, "render logout page", "err", err)
		}
		return
	}
	ended := false
	switch {
	case current.ID != "":
		if err := h.Sessions.EndByID(ctx, current.ID); err != nil {
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		ended = true
		h.Logger.InfoContext(ctx, "signed out", "account_id", current.AccountID, "client_id", clientID)
	case hc.Subject != "":
		// No live session in this browser: a relying party's server calling
		// with the ID token (back-end logout), or a browser whose cookie is
		// gone. The session the hint names (its sid) ends; answering "signed
		// out" while it lives on would leave the person signed in unawares.
		var err error
		if ended, err = h.Sessions.EndLive(ctx, hc.SID, hc.Subject); err != nil {
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		if ended {
			h.Logger.InfoContext(ctx, "signed out by id_token_hint", "account_id", hc.Subject, "client_id", clientID)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookieName(h.secureCookies()), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.secureCookies(), SameSite: http.SameSiteLaxMode})
	if redirect != "" {
		http.Redirect(w, r, withState(redirect, state), http.StatusSeeOther)
		return
	}
	if err := h.Pages.Render(w, r, http.StatusOK, lang, page.LoggedOutPage, page.LoggedOutView{NothingEnded: !ended}); err != nil {
		h.Logger.ErrorContext(ctx, "render logged-out page", "err", err)
	}
}

// withState adds state to a registered post-logout redirect URI.
func withState(redirect, state string) string {
	u, err := url.Parse(redirect)
	if err != nil || state == "" {
		return redirect
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}
