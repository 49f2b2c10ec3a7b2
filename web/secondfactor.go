package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// secondFactorFlow loads the flow of a second-factor page and checks it is
// waiting for one, and that a step-up is answered by the browser whose
// session it raises. done is true when it has answered.
func (h *Handler) secondFactorFlow(w http.ResponseWriter, r *http.Request) (f *flow.Flow, d flow.Details, acct store.Account, done bool) {
	ctx := r.Context()
	f, err := h.Flows.Get(ctx, r.FormValue("flow"))
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, d, acct, true
	}
	// After a password the flow's browser binding is what keeps the step
	// to the browser that gave it.
	if err := h.sameBrowser(r, f); err != nil {
		h.fail(w, r, f, err)
		return nil, d, acct, true
	}
	// A form posted for a step the flow has left (an older tab) is refused,
	// not forwarded: only a GET follows the flow to where it is now.
	if r.Method == http.MethodPost && f.State() != flow.StateSecondFactor {
		h.fail(w, r, f, &flow.IllegalMoveError{From: f.State(), Move: "prove a second factor"})
		return nil, d, acct, true
	}
	switch f.State() {
	case flow.StateSecondFactor:
	case flow.StateLogin:
		http.Redirect(w, r, "/login?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
		return nil, d, acct, true
	case flow.StateConsent:
		http.Redirect(w, r, "/consent?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
		return nil, d, acct, true
	default:
		h.fail(w, r, f, &flow.IllegalMoveError{From: f.State(), Move: "prove a second factor"})
		return nil, d, acct, true
	}
	// A step-up must also hold the session it raises. The form's token is
	// checked by each page, which shows itself again when it is stale
	// (errStaleForm).
	if f.SessionID != "" {
		if err := h.holdsFlowSession(r, f); err != nil {
			h.fail(w, r, f, err)
			return nil, d, acct, true
		}
	}
	if d, err = h.provider(f).FlowDetails(ctx, f); err != nil {
		h.fail(w, r, f, err)
		return nil, d, acct, true
	}
	if acct, err = h.Accounts.Store.GetAccount(ctx, f.AccountID); err != nil || acct.Disabled() {
		if err == nil {
			err = page.FlowExpired(errors.New("account disabled during sign-in"))
		}
		h.fail(w, r, f, err)
		return nil, d, acct, true
	}
	return f, d, acct, false
}

func (h *Handler) meta(r *http.Request, f *flow.Flow) mfa.Meta {
	return mfa.Meta{ClientID: f.ClientID, FlowID: f.ID, RemoteAddr: clientAddr(r)}
}

// errStaleForm is a second-factor form posted without the flow's token
// (an old page, a tampered form): the page is shown again, nothing checked.
var errStaleForm = errors.New("second-factor form without the flow's token")

// verifyForm runs check when the posted form carries the flow's token.
func (h *Handler) verifyForm(r *http.Request, f *flow.Flow, check func() error) error {
	if !h.formTokenMatches(r, f) {
		return errStaleForm
	}
	return check()
}

// mfaError turns a second-factor error into a message key (and a wait
// from now), the status to answer with, and whether it is one a person
// can act on.
func mfaError(err error, now time.Time) (key string, wait int, status int, ok bool) {
	var le *mfa.LockedError
	switch {
	case errors.As(err, &le) && le.Hard:
		return "mfa.error.locked_hard", 0, http.StatusForbidden, true
	case errors.As(err, &le):
		return "mfa.error.locked", waitSeconds(le.Until.Sub(now)), http.StatusTooManyRequests, true
	case errors.Is(err, mfa.ErrMalformedCode):
		return "mfa.error.malformed", 0, http.StatusBadRequest, true
	case errors.Is(err, mfa.ErrWrongCode):
		return "mfa.error.wrong", 0, http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrReplayed):
		return "mfa.error.replayed", 0, http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrWrongRecoveryCode):
		return "mfa.error.recovery_wrong", 0, http.StatusUnauthorized, true
	case errors.Is(err, errStaleForm):
		return "mfa.error.stale", 0, http.StatusForbidden, true
	}
	return "", 0, 0, false
}

// setRetryAfter tells a client when a throttled second-factor page (429)
// may be tried again, as the sign-in page does.
func setRetryAfter(w http.ResponseWriter, status, wait int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
	}
}

// otp asks for and checks the code from the authenticator app.
func (h *Handler) otp(w http.ResponseWriter, r *http.Request) {
	f, d, acct, done := h.secondFactorFlow(w, r)
	if done {
		return
	}
	ctx := r.Context()
	enrolled, err := h.MFA.Enrolled(ctx, acct.ID)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	if !enrolled {
		http.Redirect(w, r, "/login/enrol?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
		return
	}
	view := page.SecondFactorView{FlowID: f.ID, ClientName: d.ClientName, StepUp: f.SessionID != ""}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		err := h.verifyForm(r, f, func() error {
			return h.MFA.Verify(ctx, acct.ID, r.PostFormValue("code"), h.meta(r, f))
		})
		if err == nil {
			h.secondFactorProven(w, r, f, d, acct, nil)
			return
		}
		key, wait, st, ok := mfaError(err, h.Clock.Now())
		if !ok {
			h.fail(w, r, f, err)
			return
		}
		view.ErrorKey, view.WaitSeconds, status = key, wait, st
		setRetryAfter(w, st, wait)
	}
	h.renderStep(w, r, f, d, status, page.SecondFactorPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

// recovery accepts a recovery code instead of the app's code.
func (h *Handler) recovery(w http.ResponseWriter, r *http.Request) {
	f, d, acct, done := h.secondFactorFlow(w, r)
	if done {
		return
	}
	ctx := r.Context()
	// Without an authenticator there are no recovery codes: the person sets
	// one up instead. (A posted code learns it from UseRecoveryCode.)
	if r.Method != http.MethodPost {
		if enrolled, err := h.MFA.Enrolled(ctx, acct.ID); err != nil {
			h.fail(w, r, f, err)
			return
		} else if !enrolled {
			http.Redirect(w, r, "/login/enrol?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
			return
		}
	}
	view := page.RecoveryView{FlowID: f.ID, ClientName: d.ClientName}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		var left int
		err := h.verifyForm(r, f, func() (err error) {
			left, err = h.MFA.UseRecoveryCode(ctx, acct.ID, r.PostFormValue("code"), h.meta(r, f))
			return err
		})
		if err == nil {
			h.secondFactorProven(w, r, f, d, acct, &page.RecoveryCodesView{UsedOne: true, Remaining: left})
			return
		}
		if errors.Is(err, mfa.ErrNoAuthenticator) { // no app (any more)
			http.Redirect(w, r, "/login/enrol?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
			return
		}
		key, wait, st, ok := mfaError(err, h.Clock.Now())
		if !ok {
			h.fail(w, r, f, err)
			return
		}
		view.ErrorKey, view.WaitSeconds, status = key, wait, st
		setRetryAfter(w, st, wait)
	}
	h.renderStep(w, r, f, d, status, page.RecoveryPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

// enrol sets up an authenticator in the middle of a sign-in, for a request
// that requires a second factor the person does not have yet.
func (h *Handler) enrol(w http.ResponseWriter, r *http.Request) {
	f, d, acct, done := h.secondFactorFlow(w, r)
	if done {
		return
	}
	ctx := r.Context()
	// Only a person without an authenticator enrols here: one with an
	// authenticator proves it instead (a stolen password must not be
	// enough to add the thief's app).
	if enrolled, err := h.MFA.Enrolled(ctx, acct.ID); err != nil {
		h.fail(w, r, f, err)
		return
	} else if enrolled {
		http.Redirect(w, r, "/login/otp?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
		return
	}
	// A step-up from a session whose password is not recent: the password
	// again first, as on the account page.
	if f.SessionID != "" && h.Clock.Now().Sub(f.AuthTime) > FreshSignIn {
		if _, err := h.Flows.Move(ctx, f.ID, (*flow.Flow).RequirePassword); err != nil {
			h.fail(w, r, f, err)
			return
		}
		http.Redirect(w, r, "/login?flow="+url.QueryEscape(f.ID), http.StatusSeeOther)
		return
	}
	view := page.EnrolView{Action: "/login/enrol?flow=" + url.QueryEscape(f.ID), FlowID: f.ID, Username: acct.Username, Required: true}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		id := r.PostFormValue("enrolment")
		err := h.verifyForm(r, f, func() error {
			return h.MFA.Confirm(ctx, acct.ID, id, r.PostFormValue("code"), false, h.meta(r, f))
		})
		if err == nil {
			codes, err := h.MFA.NewRecoveryCodes(ctx, acct.ID, h.meta(r, f))
			if err != nil {
				h.fail(w, r, f, err)
				return
			}
			h.secondFactorProven(w, r, f, d, acct, &page.RecoveryCodesView{Codes: codes})
			return
		}
		if errors.Is(err, mfa.ErrEnrolmentDone) || errors.Is(err, mfa.ErrNoAuthenticator) || errors.Is(err, mfa.ErrAlreadyEnrolled) {
			h.fail(w, r, f, page.FlowExpired(err))
			return
		}
		key, wait, st, ok := mfaError(err, h.Clock.Now())
		if !ok {
			h.fail(w, r, f, err)
			return
		}
		view.ErrorKey, view.WaitSeconds, status = key, wait, st
		setRetryAfter(w, st, wait)
	}
	// A fresh secret for a new showing; the same one again after a wrong
	// code, so the entry the person just made in the app still works. An
	// enrolment never finished stays unconfirmed and never counts.
	var en mfa.Enrolment
	var err error
	if id := r.PostFormValue("enrolment"); r.Method == http.MethodPost && id != "" {
		en, err = h.MFA.Reshow(ctx, acct.ID, id, acct.Username)
	} else {
		en, err = h.MFA.Begin(ctx, acct.ID, acct.Username, "", false, h.meta(r, f))
	}
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	withEnrolment(&view, en)
	h.renderStep(w, r, f, d, status, page.EnrolPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

// withEnrolment puts an enrolment on the page: its ID, the grouped key, and
// the QR code and otpauth link. Both URLs are made here from values Propusk
// generated, so they are marked safe for html/template, which would
// otherwise drop data: and otpauth: URLs.
func withEnrolment(v *page.EnrolView, en mfa.Enrolment) {
	v.EnrolmentID, v.Key = en.AuthenticatorID, en.Key
	v.QRCodeDataURI = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCode))
	v.OTPAuthURL = template.URL(en.URL)
}

// secondFactorProven records the proven factor: a new SSO session after a
// password, or the existing one raised for a step-up; then the flow moves
// on, showing recovery codes first when there are some to show.
func (h *Handler) secondFactorProven(w http.ResponseWriter, r *http.Request, f *flow.Flow, d flow.Details, acct store.Account, codes *page.RecoveryCodesView) {
	ctx := r.Context()
	amr := slices.Clone(f.AMR)
	if !slices.Contains(amr, "otp") {
		amr = append(amr, "otp")
	}
	acr := h.AchievedACR(acct.Assurance, amr)
	now := h.Clock.Now()
	// A new session (and cookie) every time, for a step-up too: a copy of
	// the password-only cookie taken earlier must not become a
	// second-factor session.
	if old, err := r.Cookie(h.SessionCookie); err == nil {
		if err := h.Sessions.End(ctx, old.Value); err != nil {
			h.Logger.WarnContext(ctx, "end previous session", "err", err)
		}
	}
	cookie, bs, err := h.Sessions.Create(ctx, acct.ID, accounts.Authentication{Time: now, AMR: amr, ACR: acr}, r.UserAgent(), clientAddr(r))
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.setSessionCookie(w, cookie, bs)
	h.rememberDevice(w, r, acct)
	sessionID := bs.ID
	f, err = h.Flows.Advance(ctx, f.ID, r.PostFormValue("csrf"), func(f *flow.Flow) error {
		return f.CompleteSecondFactor(sessionID, acr, now)
	})
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.Logger.InfoContext(ctx, "signed in", "account_id", acct.ID, "client_id", f.ClientID, "amr", amr)
	if codes != nil {
		codes.Next = "/login/continue?flow=" + url.QueryEscape(f.ID)
		if err := h.Pages.Render(w, r, http.StatusOK, h.lang(r, f), page.RecoveryCodesPage, *codes); err != nil {
			h.Logger.ErrorContext(ctx, "render recovery codes page", "err", err)
		}
		return
	}
	h.afterAuthentication(w, r, f, d)
}

// holdsFlowSession checks that the request comes from the browser the
// flow is bound to (sameBrowser) and that holds the flow's SSO session, and
// that the session is still live: a session ended meanwhile (logout, a
// password change elsewhere, an administrator) must not finish a flow it
// began.
func (h *Handler) holdsFlowSession(r *http.Request, f *flow.Flow) error {
	if err := h.sameBrowser(r, f); err != nil {
		return err
	}
	c, err := r.Cookie(h.SessionCookie)
	if err != nil || accounts.SessionID(c.Value) != f.SessionID {
		// The flow's own browser (the binding matched), whose sign-in has
		// changed since: signed out, or signed in again in another tab.
		// The flow cannot finish on a session it did not prove; "reload
		// and try again" would never succeed, so it is over.
		return page.FlowExpired(errors.New("the browser's sign-in changed since the flow's"))
	}
	bs, err := h.Sessions.Lookup(r.Context(), c.Value)
	if errors.Is(err, accounts.ErrNoSession) || (err == nil && bs.ID != f.SessionID) {
		return page.FlowExpired(errors.New("the flow's session has ended"))
	}
	return err
}

// continueFlow resumes a flow after an interstitial page (the recovery
// codes): only for the browser that holds the flow's session.
func (h *Handler) continueFlow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := h.Flows.Get(ctx, r.FormValue("flow"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if f.State() != flow.StateConsent {
		h.fail(w, r, f, &flow.IllegalMoveError{From: f.State(), Move: "continue"})
		return
	}
	if err := h.holdsFlowSession(r, f); err != nil {
		h.fail(w, r, f, err)
		return
	}
	d, err := h.provider(f).FlowDetails(ctx, f)
	if err != nil {
		h.fail(w, r, f, err)
		return
	}
	h.afterAuthentication(w, r, f, d)
}
