package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// provider is the Provider that finishes f: the relying party's (package
// oauth), or, for a local flow of Propusk's own pages, localProvider.
func (h *Handler) provider(f *flow.Flow) Provider {
	if f.Local() {
		return localProvider{h}
	}
	return h.Provider
}

// localProvider finishes local flows: no consent, no requirement beyond
// the account's own second factor, and back to the flow's local path.
type localProvider struct{ h *Handler }

func (localProvider) NeedsConsent(context.Context, *flow.Flow) (bool, error) { return false, nil }

func (localProvider) RequiresSecondFactor(context.Context, *flow.Flow, string) (bool, error) {
	return false, nil
}

func (p localProvider) FinishFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow, _ flow.Consent) {
	p.h.Flows.Delete(r.Context(), f.ID)
	target := f.ReturnTo
	if !page.IsLocalPath(target) {
		target = "/account"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (p localProvider) DenyFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow) {
	p.h.Flows.Delete(r.Context(), f.ID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// FreshSignIn is how recent the last sign-in must be for changing the
// password, adding or removing an authenticator, or making new recovery
// codes: a session left open on a shared computer must not be enough.
const FreshSignIn = 5 * time.Minute

// accountCSRFCookie carries the account forms' token (double submit, a
// SameSite=Strict cookie): these forms belong to no flow.
const accountCSRFCookie = "propusk_account"

// mountAccount registers the account page and its forms.
func (h *Handler) mountAccount(r *mux.Router) {
	r.Handle("/account", h.page(h.account)).Methods(http.MethodGet)
	r.Handle("/account/reauth", h.page(h.accountReauth)).Methods(http.MethodGet)
	post := func(path string, fn func(http.ResponseWriter, *http.Request) error) {
		r.Handle(path, page.CrossOrigin(h.page(fn))).Methods(http.MethodPost)
	}
	// The forms' addresses answer a GET (a language switch from a page a
	// form returned, a reload) with the account page.
	r.HandleFunc("/account/{form:.+}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}).Methods(http.MethodGet)
	post("/account/authenticators", h.accountAdd)
	post("/account/authenticators/confirm", h.accountConfirm)
	post("/account/authenticators/remove", h.accountRemove)
	post("/account/recovery-codes", h.accountRecoveryCodes)
	post("/account/password", h.accountPassword)
	post("/account/services/withdraw", h.accountWithdraw)
}

// ClientNames looks relying parties up by ID (store.Clients), for the
// names of the services the person allowed.
type ClientNames interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
}

// signedIn returns the person's live session and account; ok false means
// there is none (the caller sends them to sign in).
func (h *Handler) signedIn(r *http.Request) (store.BrowserSession, store.Account, bool, error) {
	c, err := r.Cookie(h.SessionCookie)
	if err != nil {
		return store.BrowserSession{}, store.Account{}, false, nil
	}
	bs, err := h.Sessions.Lookup(r.Context(), c.Value)
	if errors.Is(err, accounts.ErrNoSession) {
		return store.BrowserSession{}, store.Account{}, false, nil
	}
	if err != nil {
		return store.BrowserSession{}, store.Account{}, false, err
	}
	acct, err := h.Accounts.Store.GetAccount(r.Context(), bs.AccountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Disabled()) {
		return store.BrowserSession{}, store.Account{}, false, nil
	}
	if err != nil {
		return store.BrowserSession{}, store.Account{}, false, err
	}
	return bs, acct, true, nil
}

// signIn sends the person through a local flow and back to returnTo.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, returnTo string) error {
	f, _, err := h.Flows.StartLocal(r.Context(), returnTo, page.ChooseLanguage(r, "").String())
	if err != nil {
		return err
	}
	http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
	return nil
}

func (h *Handler) fresh(bs store.BrowserSession) bool {
	return h.Clock.Now().Sub(bs.AuthTime) <= FreshSignIn
}

// accountToken is the account forms' token: the sign-in's (SessionFormToken),
// so a second tab, a language switch or the back button keep the forms
// good until the next sign-in or sign-out. It also goes double-submit into
// the account cookie, set again only when it changes.
func (h *Handler) accountToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(h.SessionCookie)
	if err != nil { // signedIn found the session: never here
		return ""
	}
	tok := page.SessionFormToken(c.Value)
	if old, err := r.Cookie(accountCSRFCookie); err != nil || old.Value != tok {
		page.SetFormCookie(w, accountCSRFCookie, "/account", tok, h.SecureCookies)
	}
	return tok
}

// accountTokenMatches checks a posted account form: its token is the
// sign-in's and equals the account cookie (double submit).
func (h *Handler) accountTokenMatches(r *http.Request) bool {
	c, err := r.Cookie(h.SessionCookie)
	return err == nil && page.FormCookieMatches(r, accountCSRFCookie) &&
		page.SessionFormTokenMatches(c.Value, r.PostFormValue("csrf"))
}

// accountPost runs the checks every account form shares: signed in (else
// sign in and come back to the page), the form's token (else the account
// page again, with a notice and the name typed), and, when sensitive, a
// recent sign-in (else sign in again). ok is false when it has answered
// (err is then what the answer failed on, if anything).
func (h *Handler) accountPost(w http.ResponseWriter, r *http.Request, sensitive bool) (bs store.BrowserSession, acct store.Account, ok bool, err error) {
	return h.accountPostOr(w, r, sensitive, nil)
}

// accountPostOr is accountPost with stale, when not nil, answering a form
// with an out-of-date token instead of the account page.
func (h *Handler) accountPostOr(w http.ResponseWriter, r *http.Request, sensitive bool, stale func(store.BrowserSession, store.Account) error) (bs store.BrowserSession, acct store.Account, ok bool, err error) {
	bs, acct, ok, err = h.signedIn(r)
	if err != nil {
		return bs, acct, false, err
	}
	if !ok {
		return bs, acct, false, h.signIn(w, r, "/account")
	}
	if !h.accountTokenMatches(r) {
		h.Logger.InfoContext(r.Context(), "account form with an out-of-date token", "account_id", acct.ID, "path", r.URL.Path)
		if stale != nil {
			return bs, acct, false, stale(bs, acct)
		}
		view := page.AccountView{ErrorKey: "account.error.stale", AuthenticatorName: r.PostFormValue("name")}
		return bs, acct, false, h.renderAccount(w, r, bs, acct, view, http.StatusForbidden)
	}
	if sensitive {
		// Recent, and with the code for an account that has an
		// authenticator: a password-only session from before the first app
		// was added must not be enough to add or remove one.
		enrolled, err := h.MFA.Enrolled(r.Context(), acct.ID)
		if err != nil {
			return bs, acct, false, err
		}
		if !h.fresh(bs) || (enrolled && !slices.Contains(bs.AMR, "otp")) {
			return bs, acct, false, h.signIn(w, r, "/account")
		}
	}
	return bs, acct, true, nil
}

func (h *Handler) accountMeta(r *http.Request, acct store.Account) mfa.Meta {
	return mfa.Meta{ActorID: acct.ID, RemoteAddr: clientAddr(r)}
}

// account shows the account page, or sends a signed-out person to sign in
// and back.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) error {
	bs, acct, ok, err := h.signedIn(r)
	if err != nil {
		return err
	}
	if !ok {
		return h.signIn(w, r, "/account")
	}
	view := page.AccountView{}
	switch n := r.URL.Query().Get("notice"); n {
	case "added", "removed", "password_changed", "codes_created":
		view.NoticeKey = "account.notice." + n
	case "withdrawn":
		// Named only while true: the person withdrew this client's consent
		// a moment ago (the audit log says so) and has not consented
		// again. Otherwise, a crafted link naming any registered client, or
		// an old one, says nothing: a generic "withdrawn" would be as false.
		named, err := h.withdrawnNotice(r.Context(), acct.ID, r.URL.Query().Get("client"))
		if err != nil {
			return err
		}
		if named != "" {
			view.NoticeKey, view.NoticeArg = "account.notice.withdrawn", named
		}
	}
	return h.renderAccount(w, r, bs, acct, view, http.StatusOK)
}

// withdrawnNoticeFor is how long after a withdrawal the account page's
// notice names the service: long enough for the redirect and a reload.
const withdrawnNoticeFor = 5 * time.Minute

// withdrawnNotice is the name of the service the person withdrew consent
// from within withdrawnNoticeFor and has not consented to again; empty
// otherwise.
func (h *Handler) withdrawnNotice(ctx context.Context, accountID, clientID string) (string, error) {
	if clientID == "" {
		return "", nil
	}
	recent, err := h.Consents.WithdrawnWithin(ctx, accountID, clientID, withdrawnNoticeFor)
	if err != nil || !recent {
		return "", err
	}
	given, err := h.Consents.Covers(ctx, accountID, clientID, nil)
	if err != nil || given {
		return "", err
	}
	c, err := h.Clients.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return c.Name, nil
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, bs store.BrowserSession, acct store.Account, view page.AccountView, status int) error {
	ctx := r.Context()
	auths, err := h.MFA.List(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, a := range auths {
		if a.ConfirmedAt.IsZero() {
			continue
		}
		av := page.AuthenticatorView{ID: a.ID, Name: a.Name, Added: a.ConfirmedAt.Format(time.DateOnly)}
		if !a.LastUsedAt.IsZero() {
			av.LastUsed = a.LastUsedAt.Format(time.DateOnly)
		}
		view.Authenticators = append(view.Authenticators, av)
	}
	if view.RecoveryCodesLeft, err = h.MFA.RecoveryCodesLeft(ctx, acct.ID); err != nil {
		return err
	}
	if view.Services, err = h.allowedServices(ctx, acct.ID); err != nil {
		return err
	}
	view.Username = acct.Username
	view.Name = strings.TrimSpace(acct.GivenName + " " + acct.FamilyName)
	view.FreshSignIn = h.fresh(bs)
	view.CSRFToken = h.accountToken(w, r)
	if err := h.Pages.Render(w, r, status, accountLanguage(r, acct), page.AccountPage, view); err != nil {
		h.Logger.ErrorContext(ctx, "render account page", "err", err)
	}
	return nil
}

// allowedServices lists the person's remembered consents with the
// clients' names.
func (h *Handler) allowedServices(ctx context.Context, accountID string) ([]page.ServiceView, error) {
	consents, err := h.Consents.List(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []page.ServiceView
	for _, c := range consents {
		cl, err := h.Clients.GetClient(ctx, c.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile: its consents go with it
		}
		if err != nil {
			return nil, err
		}
		sv := page.ServiceView{ClientID: c.ClientID, Name: cl.Name, Since: c.CreatedAt.Format(time.DateOnly)}
		for _, sc := range scopeDisplayOrder(c.Scopes) {
			sv.Scopes = append(sv.Scopes, page.ScopeView{Name: sc})
		}
		out = append(out, sv)
	}
	return out, nil
}

// scopeDisplayOrder puts openid first and offline_access last, keeping
// the rest in order: offline_access's text speaks of "this data".
func scopeDisplayOrder(scopes []string) []string {
	rank := func(s string) int {
		switch s {
		case "openid":
			return 0
		case "offline_access":
			return 2
		}
		return 1
	}
	out := slices.Clone(scopes)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// accountLanguage is the account pages' language: the person's choice on
// the switcher, else the account's preferred locale, else the browser's.
func accountLanguage(r *http.Request, acct store.Account) language.Tag {
	if _, err := r.Cookie(page.LanguageCookie); err == nil {
		return page.ChooseLanguage(r, "")
	}
	return page.ChooseLanguage(r, acct.Locale)
}

// accountReauth signs the person in again (a fresh sign-in for a
// sensitive change) and comes back to the page.
func (h *Handler) accountReauth(w http.ResponseWriter, r *http.Request) error {
	return h.signIn(w, r, "/account")
}

// accountAdd begins adding an authenticator app.
func (h *Handler) accountAdd(w http.ResponseWriter, r *http.Request) error {
	bs, acct, ok, err := h.accountPost(w, r, true)
	if !ok {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if len([]rune(name)) > 64 {
		return h.renderAccount(w, r, bs, acct, page.AccountView{ErrorKey: "account.error.name", AuthenticatorName: name}, http.StatusBadRequest)
	}
	enrolled, err := h.MFA.Enrolled(r.Context(), acct.ID)
	if err != nil {
		return err
	}
	// A second app needs the first proven: the fresh sign-in of an
	// enrolled account included its code.
	en, err := h.MFA.Begin(r.Context(), acct.ID, acct.Username, name, enrolled, h.accountMeta(r, acct))
	if err != nil {
		return err
	}
	return h.renderAccountEnrol(w, r, acct, en, "", http.StatusOK)
}

func (h *Handler) renderAccountEnrol(w http.ResponseWriter, r *http.Request, acct store.Account, en mfa.Enrolment, errorKey string, status int) error {
	view := page.EnrolView{Action: "/account/authenticators/confirm", CSRFToken: h.accountToken(w, r), Username: acct.Username, ErrorKey: errorKey}
	withEnrolment(&view, en)
	if err := h.Pages.Render(w, r, status, accountLanguage(r, acct), page.EnrolPage, view); err != nil {
		h.Logger.ErrorContext(r.Context(), "render enrolment page", "err", err)
	}
	return nil
}

// accountConfirm finishes adding an authenticator with its first code.
func (h *Handler) accountConfirm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// An out-of-date form shows the same enrolment again: the entry the
	// person made in the app still works.
	_, acct, ok, err := h.accountPostOr(w, r, true, func(bs store.BrowserSession, acct store.Account) error {
		en, err := h.MFA.Reshow(ctx, acct.ID, r.PostFormValue("enrolment"), acct.Username)
		if err != nil {
			return h.renderAccount(w, r, bs, acct, page.AccountView{ErrorKey: "account.error.stale"}, http.StatusForbidden)
		}
		return h.renderAccountEnrol(w, r, acct, en, "mfa.error.stale", http.StatusForbidden)
	})
	if !ok {
		return err
	}
	enrolled, err := h.MFA.Enrolled(ctx, acct.ID)
	if err != nil {
		return err
	}
	id := r.PostFormValue("enrolment")
	err = h.MFA.Confirm(ctx, acct.ID, id, r.PostFormValue("code"), enrolled, h.accountMeta(r, acct))
	if err == nil {
		if enrolled {
			http.Redirect(w, r, "/account?notice=added", http.StatusSeeOther)
			return nil
		}
		codes, err := h.MFA.NewRecoveryCodes(ctx, acct.ID, h.accountMeta(r, acct))
		if err != nil {
			return err
		}
		h.renderCodes(w, r, acct, codes, "added")
		return nil
	}
	if errors.Is(err, mfa.ErrEnrolmentDone) || errors.Is(err, mfa.ErrNoAuthenticator) {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	key, _, status, known := mfaError(err, h.Clock.Now())
	if !known {
		return err
	}
	en, rerr := h.MFA.Reshow(ctx, acct.ID, id, acct.Username)
	if rerr != nil {
		return rerr
	}
	return h.renderAccountEnrol(w, r, acct, en, key, status)
}

func (h *Handler) renderCodes(w http.ResponseWriter, r *http.Request, acct store.Account, codes []string, notice string) {
	view := page.RecoveryCodesView{Codes: codes, Next: "/account?notice=" + notice}
	if err := h.Pages.Render(w, r, http.StatusOK, accountLanguage(r, acct), page.RecoveryCodesPage, view); err != nil {
		h.Logger.ErrorContext(r.Context(), "render recovery codes", "err", err)
	}
}

// accountRemove removes one authenticator app.
func (h *Handler) accountRemove(w http.ResponseWriter, r *http.Request) error {
	_, acct, ok, err := h.accountPost(w, r, true)
	if !ok {
		return err
	}
	err = h.MFA.Remove(r.Context(), acct.ID, r.PostFormValue("authenticator"), h.accountMeta(r, acct))
	if err != nil && !errors.Is(err, mfa.ErrNoAuthenticator) {
		return err
	}
	http.Redirect(w, r, "/account?notice=removed", http.StatusSeeOther)
	return nil
}

// accountRecoveryCodes makes a new set of recovery codes; the old set
// stops working at once.
func (h *Handler) accountRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	_, acct, ok, err := h.accountPost(w, r, true)
	if !ok {
		return err
	}
	if enrolled, err := h.MFA.Enrolled(r.Context(), acct.ID); err != nil || !enrolled {
		if err == nil {
			err = page.BadRequest(errors.New("recovery codes without an authenticator"))
		}
		return err
	}
	codes, err := h.MFA.NewRecoveryCodes(r.Context(), acct.ID, h.accountMeta(r, acct))
	if err != nil {
		return err
	}
	h.renderCodes(w, r, acct, codes, "codes_created")
	return nil
}

// accountPassword changes the password: the current one again, and a new
// one that follows the rules.
func (h *Handler) accountPassword(w http.ResponseWriter, r *http.Request) error {
	bs, acct, ok, err := h.accountPost(w, r, true)
	if !ok {
		return err
	}
	ctx := r.Context()
	// The current password is guessed under the sign-in's limits: a stolen
	// session must not become an unthrottled password oracle.
	turn, err := h.reserveSignIn(r, acct.Username, clientAddr(r))
	if err != nil {
		return err
	}
	if turn.Wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(waitSeconds(turn.Wait)))
		key := "account.error.password_throttled"
		if turn.Locked { // waiting "a little" would not help
			key = "account.error.password_locked"
		}
		return h.renderAccount(w, r, bs, acct, page.AccountView{ErrorKey: key}, http.StatusTooManyRequests)
	}
	if _, err := h.Accounts.Authenticate(ctx, acct.Username, r.PostFormValue("current_password")); err != nil {
		if errors.Is(err, accounts.ErrInvalidCredentials) {
			return h.renderAccount(w, r, bs, acct, page.AccountView{ErrorKey: "account.error.password_wrong"}, http.StatusUnauthorized)
		}
		return err
	}
	if err := h.Throttle.Succeeded(ctx, turn); err != nil {
		h.Logger.ErrorContext(ctx, "reset sign-in counter", "err", err)
	}
	next := r.PostFormValue("new_password")
	if err := accounts.CheckPassword(next, acct.Username); err != nil {
		var pe *accounts.PasswordError
		view := page.AccountView{}
		if errors.As(err, &pe) {
			for _, p := range pe.Problems {
				view.PasswordProblems = append(view.PasswordProblems, "password."+p.Code)
			}
		}
		return h.renderAccount(w, r, bs, acct, view, http.StatusBadRequest)
	}
	if err := h.Accounts.SetPassword(ctx, acct.ID, next); err != nil {
		return err
	}
	// Sign-ins made with the old password elsewhere end; this one stays.
	ended, err := h.Sessions.EndOthers(ctx, acct.ID, bs.ID)
	if err != nil {
		return err
	}
	// The new password ended every device token (they are signed over the
	// hash); this browser, signed in a moment ago and with the password
	// just proven, stays known, or a guesser who has run the account up to
	// the limit would keep its owner out of it.
	changed, err := h.Accounts.Store.GetAccount(ctx, acct.ID)
	if err != nil {
		return err
	}
	h.rememberDevice(w, r, changed, acct)
	h.Logger.InfoContext(ctx, "password changed", "account_id", acct.ID, "other_sessions_ended", ended)
	http.Redirect(w, r, "/account?notice=password_changed", http.StatusSeeOther)
	return nil
}

// accountWithdraw withdraws a remembered consent: the service's tokens
// for the person end at once and the next sign-in asks again. It only
// takes access away, so a session of any age may do it (a person at a
// shared computer must be able to cut a service off without the password
// or the phone); the form token still stops another site from doing it.
func (h *Handler) accountWithdraw(w http.ResponseWriter, r *http.Request) error {
	_, acct, ok, err := h.accountPost(w, r, false)
	if !ok {
		return err
	}
	ctx := r.Context()
	id := r.PostFormValue("client")
	err = h.Consents.Withdraw(ctx, acct.ID, id, clientAddr(r))
	if errors.Is(err, consent.ErrNotGiven) {
		// Withdrawn already (another tab): the page shows what is left.
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "consent withdrawn", "account_id", acct.ID, "client_id", id)
	http.Redirect(w, r, "/account?notice=withdrawn&client="+url.QueryEscape(id), http.StatusSeeOther)
	return nil
}
