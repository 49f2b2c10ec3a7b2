package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// Provider decides and finishes flows; package oauth implements it (cmd
// wires it). What a page shows of a flow's request it reads from the flow
// itself (flow.Flow.Details), recorded once at the authorization endpoint.
type Provider interface {
	NeedsConsent(ctx context.Context, f *flow.Flow) (bool, error)
	// RequiresSecondFactor reports whether a password is not enough for the
	// flow's request but a second factor would be, for an account at level.
	RequiresSecondFactor(ctx context.Context, f *flow.Flow, level string) (bool, error)
	// FinishFlow answers the relying party with a code. consent says
	// whether the person allowed this request on the consent page just
	// now, or the consent on record is relied on.
	FinishFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow, consent flow.Consent)
	// DenyFlow answers the relying party with access_denied.
	DenyFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow)
}

// Handler serves the sign-in and consent pages of a flow.
type Handler struct {
	Pages    *page.Renderer
	Flows    *flow.Service
	Accounts *accounts.Service
	Sessions *accounts.Sessions
	Throttle *accounts.LoginThrottle
	Consents *consent.Service
	// Clients names the services on the account page.
	Clients  ClientNames
	Provider Provider
	Logger   *slog.Logger
	// SessionCookie names the SSO cookie; SecureCookies adds Secure (an
	// https issuer).
	SessionCookie string
	SecureCookies bool
	// MFA checks and enrols second factors.
	MFA *mfa.Service
	// AchievedACR names the acr an account's level and the authentication
	// methods reach (oauth.AchievedACR).
	AchievedACR func(level string, amr []string) string
	Clock       clock.Func
}

// Mount registers the pages.
func (h *Handler) Mount(r *mux.Router) {
	r.Handle(flow.PageLogin, page.CrossOrigin(h.step(flow.StateLogin, "sign in", h.login))).Methods(http.MethodGet, http.MethodPost)
	r.Handle(flow.PageConsent, page.CrossOrigin(h.step(flow.StateConsent, "consent", h.consent))).Methods(http.MethodGet, http.MethodPost)
	r.Handle(flow.PageSecondFactor, page.CrossOrigin(h.secondFactorStep(h.otp))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/login/recovery", page.CrossOrigin(h.secondFactorStep(h.recovery))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/login/enrol", page.CrossOrigin(h.secondFactorStep(h.enrol))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/login/continue", h.flowPage(h.continueFlow)).Methods(http.MethodGet)
	r.Handle("/lang", page.LanguageSwitch{Secure: h.SecureCookies, OnSwitch: h.switchFlowLanguage}).Methods(http.MethodGet)
	r.PathPrefix("/static/").Handler(page.StaticHandler()).Methods(http.MethodGet, http.MethodHead)
	h.mountAccount(r)
}

// waitSeconds is a wait told to a person or a client (Retry-After): whole
// seconds, rounded up and at least 1, so that "retry now" is never said
// while a retry would still be refused.
func waitSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// lang is the flow's language: chosen when the flow started (ui_locales,
// then the cookie, then Accept-Language) and changed by the switcher.
func (h *Handler) lang(r *http.Request, f *flow.Flow) language.Tag {
	if f == nil {
		return page.ChooseLanguage(r, "")
	}
	return page.ChooseLanguage(r, f.Locale)
}

// switchFlowLanguage records a language switch made on a flow's page in
// the flow, so it outranks the relying party's ui_locales from then on.
func (h *Handler) switchFlowLanguage(r *http.Request, tag language.Tag, returnPath string) {
	u, err := url.Parse(returnPath)
	if err != nil || (!strings.HasPrefix(u.Path, "/login") && u.Path != "/consent") {
		return
	}
	id := u.Query().Get("flow")
	if id == "" {
		return
	}
	_, err = h.Flows.Move(r.Context(), id, func(f *flow.Flow) error {
		// Only the flow's own browser changes its language.
		if f.BrowserHash != nil && h.binding(r, f) == "" {
			return flow.ErrOtherBrowser
		}
		f.Locale = tag.String()
		return nil
	})
	if err != nil && !errors.Is(err, flow.ErrNotFound) && !errors.Is(err, flow.ErrExpired) && !errors.Is(err, flow.ErrOtherBrowser) {
		h.Logger.WarnContext(r.Context(), "record language switch in flow", "err", err)
	}
}

// page serves a page outside a flow (the account page): a failure it
// returns is shown by showError.
func (h *Handler) page(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.showError(w, r, nil, err)
		}
	}
}

// flowPage serves a page of the flow the request names (?flow= or the
// form's flow): fn gets the live flow; a flow that is unknown or expired,
// and any failure fn returns, are shown by showError.
func (h *Handler) flowPage(fn func(w http.ResponseWriter, r *http.Request, f *flow.Flow) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.Flows.Get(r.Context(), r.FormValue("flow"))
		if err != nil {
			h.showError(w, r, nil, err)
			return
		}
		if err := fn(w, r, f); err != nil {
			h.showError(w, r, f, err)
		}
	}
}

// step serves the page of one step of a flow: only to the browser the
// flow is bound to (sameBrowser), and only while the flow waits at that
// step (state). A GET for a flow that has moved on follows it to the page
// of the step it is at (flow.Flow.Page); a form posted for a step the flow
// has left (an older tab) is refused, not forwarded, as is any request for
// a final flow. move names the step in the refusal.
func (h *Handler) step(state flow.State, move string, fn func(w http.ResponseWriter, r *http.Request, f *flow.Flow) error) http.HandlerFunc {
	return h.flowPage(func(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
		if err := h.sameBrowser(r, f); err != nil {
			return err
		}
		if f.State() == state {
			return fn(w, r, f)
		}
		if r.Method == http.MethodPost || f.Page() == "" {
			return &flow.IllegalMoveError{From: f.State(), Move: move}
		}
		http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
		return nil
	})
}

// clientAddr is the client's address: the one the request log worked out
// (behind trusted proxies, from X-Forwarded-For), else the connection's.
func clientAddr(r *http.Request) string {
	if a := reqlog.RemoteAddr(r.Context()); a != "" {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login shows and handles the sign-in form of a flow.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
	details := f.Details()
	view := page.LoginView{FlowID: f.ID, ClientName: details.ClientName, Username: details.LoginHint}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		var again *formAgain
		if err := h.postLogin(w, r, f, &view); !errors.As(err, &again) {
			return err // answered, or failed
		}
		status = again.status
	}
	return h.renderStep(w, r, f, status, page.LoginPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

// renderStep shows one of a flow's pages; view puts the flow's form token
// into the page's view. The token is the same at every showing in the
// browser the flow is bound to, so older tabs' forms stay good; the first
// showing binds the flow to the browser. The page's form may answer with a
// redirect to the relying party, so the CSP's form-action allows its
// origin.
func (h *Handler) renderStep(w http.ResponseWriter, r *http.Request, f *flow.Flow, status int, name string, view func(csrf string) any) error {
	token, err := h.formToken(w, r, f)
	if err != nil {
		return err
	}
	page.AllowFormAction(w, f.Details().RedirectOrigin)
	if err := h.Pages.Render(w, r, status, h.lang(r, f), name, view(token)); err != nil {
		h.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
	}
	return nil
}

// postLogin checks the password. It answers (a redirect) and returns nil,
// or returns a *formAgain after filling in view, or a failure.
func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request, f *flow.Flow, view *page.LoginView) error {
	ctx := r.Context()
	if !h.formTokenMatches(r, f) {
		// The page again with what was typed, not an error page: the
		// person enters the password again and goes on.
		view.Username, view.ErrorKey = r.PostFormValue("username"), "login.error.stale"
		return &formAgain{http.StatusForbidden}
	}
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	view.Username = username
	if username == "" || password == "" {
		view.ErrorKey = "login.error.required"
		return &formAgain{http.StatusBadRequest}
	}
	addr := clientAddr(r)
	turn, err := h.reserveSignIn(r, username, addr)
	if err != nil {
		return err
	}
	if turn.Wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(waitSeconds(turn.Wait)))
		if turn.Locked {
			// Days, not seconds: the page says how to get in instead.
			view.ErrorKey = "login.error.locked"
		} else {
			view.ErrorKey, view.WaitSeconds = "login.error.throttled", waitSeconds(turn.Wait)
		}
		return &formAgain{http.StatusTooManyRequests}
	}
	acct, err := h.Accounts.Authenticate(ctx, username, password)
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		h.Logger.InfoContext(ctx, "sign-in failed", "client_id", f.ClientID, "remote_addr", addr)
		view.ErrorKey = "login.error.invalid"
		return &formAgain{http.StatusUnauthorized}
	}
	if err != nil {
		return err
	}
	if err := h.Throttle.Succeeded(ctx, turn); err != nil {
		h.Logger.ErrorContext(ctx, "reset sign-in counter", "err", err)
	}

	// An account with an authenticator always proves it; one without is
	// asked to set one up when the request needs it. The SSO session is
	// made only once every factor is proven.
	need, err := h.needsSecondFactor(ctx, f, acct)
	if err != nil {
		return err
	}
	if need {
		pwd := flow.Authentication{AccountID: acct.ID, AuthTime: h.Clock.Now(), AMR: []string{"pwd"}, ACR: h.AchievedACR(acct.Assurance, []string{"pwd"})}
		// No SSO session until the second factor: the flow's browser
		// binding keeps the rest of the sign-in to this browser, so a flow
		// URL seen elsewhere (history, a log, a shoulder) cannot finish it.
		f, err := h.Flows.Advance(ctx, f.ID, r.PostFormValue("csrf"), func(f *flow.Flow) error {
			return f.RequireSecondFactor(pwd)
		})
		if err != nil {
			return err
		}
		h.Logger.InfoContext(ctx, "password accepted; second factor next", "account_id", acct.ID, "client_id", f.ClientID)
		http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
		return nil
	}

	// A new session at every login: a session cookie planted before it
	// (session fixation) is worth nothing after.
	h.endPreviousSession(r)
	auth := accounts.Authentication{Time: h.Clock.Now(), AMR: []string{"pwd"}, ACR: h.AchievedACR(acct.Assurance, []string{"pwd"})}
	cookie, bs, err := h.Sessions.Create(ctx, acct.ID, auth, r.UserAgent(), addr)
	if err != nil {
		return err
	}
	h.setSessionCookie(w, cookie, bs)
	h.rememberDevice(w, r, acct)
	h.Logger.InfoContext(ctx, "signed in", "account_id", acct.ID, "client_id", f.ClientID, "amr", auth.AMR)

	f, err = h.Flows.Advance(ctx, f.ID, r.PostFormValue("csrf"), func(f *flow.Flow) error {
		return f.Authenticate(flow.Authentication{AccountID: acct.ID, SessionID: bs.ID, AuthTime: auth.Time, AMR: auth.AMR, ACR: auth.ACR})
	})
	if err != nil {
		return err
	}
	return h.afterAuthentication(w, r, f)
}

// needsSecondFactor says whether a sign-in whose password was right goes
// on to a second factor: always for an account with an authenticator; for
// one without, when the request needs one (it is set up then) or an
// administrator's reset asks for a new one.
func (h *Handler) needsSecondFactor(ctx context.Context, f *flow.Flow, acct store.Account) (bool, error) {
	enrolled, err := h.MFA.Enrolled(ctx, acct.ID)
	if err != nil || enrolled {
		return enrolled, err
	}
	need, err := h.provider(f).RequiresSecondFactor(ctx, f, acct.Assurance)
	if err != nil || need {
		return need, err
	}
	return h.MFA.MustEnrol(ctx, acct.ID)
}

// endPreviousSession ends the session the browser held before this
// sign-in, if any: a new session (and cookie) at every sign-in.
func (h *Handler) endPreviousSession(r *http.Request) {
	if old, err := r.Cookie(h.SessionCookie); err == nil {
		if err := h.Sessions.End(r.Context(), old.Value); err != nil {
			h.Logger.WarnContext(r.Context(), "end previous session", "err", err)
		}
	}
}

// afterAuthentication goes on to the consent page, or straight back to the
// relying party when there is nothing to ask.
func (h *Handler) afterAuthentication(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
	ctx := r.Context()
	need, err := h.provider(f).NeedsConsent(ctx, f)
	if err != nil {
		return err
	}
	if need {
		http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
		return nil
	}
	f, err = h.Flows.Move(ctx, f.ID, (*flow.Flow).Allow)
	if err != nil {
		return err
	}
	page.AllowFormAction(w, f.Details().RedirectOrigin)
	h.provider(f).FinishFlow(w, r, f, flow.ConsentOnRecord)
	return nil
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, value string, bs store.BrowserSession) {
	http.SetCookie(w, &http.Cookie{
		Name: h.SessionCookie, Value: value, Path: "/",
		Expires:  bs.ExpiresAt,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// consent shows and handles the consent form of a flow. Only the browser
// that signed in may answer it.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
	if err := h.holdsFlowSession(r, f); err != nil {
		return err
	}
	if r.Method == http.MethodPost {
		return h.postConsent(w, r, f)
	}
	return h.showConsent(w, r, f, http.StatusOK, "")
}

// showConsent renders the consent page of f; errorKey, when set, is a
// notice above the question (a stale form, answered by asking again).
func (h *Handler) showConsent(w http.ResponseWriter, r *http.Request, f *flow.Flow, status int, errorKey string) error {
	ctx := r.Context()
	details := f.Details()
	view := page.ConsentView{FlowID: f.ID, ClientName: details.ClientName, ShowRemember: !details.Public, ErrorKey: errorKey}
	asked, before := details.Scopes, []string(nil)
	if !details.Public {
		// A request for more than was allowed before lists what is new; a
		// public client's earlier answers are never remembered.
		allowed, missing, err := h.Consents.Split(ctx, f.AccountID, f.ClientID, details.Scopes)
		if err != nil {
			return err
		}
		if len(allowed) > 0 && len(missing) > 0 {
			asked, before = missing, allowed
		}
	}
	// In the account page's order: offline_access speaks of "this data",
	// so it comes after the data.
	for _, s := range scopeDisplayOrder(asked) {
		view.Scopes = append(view.Scopes, page.ScopeView{Name: s})
	}
	for _, s := range scopeDisplayOrder(before) {
		view.AllowedBefore = append(view.AllowedBefore, page.ScopeView{Name: s})
	}
	if acct, err := h.Accounts.Store.GetAccount(ctx, f.AccountID); err == nil {
		view.AccountName = acct.Username
	}
	return h.renderStep(w, r, f, status, page.ConsentPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

func (h *Handler) postConsent(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
	ctx := r.Context()
	allow := r.PostFormValue("decision") == "allow"
	move := (*flow.Flow).Deny
	if allow {
		move = (*flow.Flow).Allow
	}
	if !h.formTokenMatches(r, f) {
		// A form without the flow's token (tampered, or from a page of an
		// older version) decides nothing: the question is asked again.
		return h.showConsent(w, r, f, http.StatusForbidden, "consent.error.stale")
	}
	f, err := h.Flows.Advance(ctx, f.ID, r.PostFormValue("csrf"), move)
	if err != nil {
		return err
	}
	d := f.Details()
	page.AllowFormAction(w, d.RedirectOrigin)
	if !allow {
		h.Logger.InfoContext(ctx, "consent denied", "account_id", f.AccountID, "client_id", f.ClientID)
		h.provider(f).DenyFlow(w, r, f)
		return nil
	}
	if r.PostFormValue("remember") == "1" && !d.Public {
		if err := h.Consents.Remember(ctx, f.AccountID, f.ClientID, d.Scopes); err != nil {
			h.Logger.ErrorContext(ctx, "remember consent", "err", err)
		}
	}
	h.Logger.InfoContext(ctx, "consent given", "account_id", f.AccountID, "client_id", f.ClientID, "scopes", d.Scopes)
	h.provider(f).FinishFlow(w, r, f, flow.ConsentGivenNow)
	return nil
}
