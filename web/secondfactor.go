package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// secondFactorStep serves a second-factor page (code, recovery code,
// enrolment) of a flow waiting for one: a step-up must also come from the
// browser holding the session it raises, and the account must still be
// enabled. The form's token is checked by each page, which shows itself
// again when it is stale (errStaleForm).
func (h *Handler) secondFactorStep(fn func(w http.ResponseWriter, r *http.Request, f *flow.Flow, acct store.Account) error) http.HandlerFunc {
	return h.step(flow.StateSecondFactor, "prove a second factor", func(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
		if f.SessionID != "" {
			if err := h.holdsFlowSession(r, f); err != nil {
				return err
			}
		}
		acct, err := h.Accounts.Store.GetAccount(r.Context(), f.AccountID)
		if err == nil && acct.Disabled() {
			err = page.FlowExpired(errors.New("account disabled during sign-in"))
		}
		if err != nil {
			return err
		}
		return fn(w, r, f, acct)
	})
}

func (h *Handler) meta(r *http.Request, f *flow.Flow) mfa.Meta {
	return mfa.Meta{ClientID: f.ClientID, FlowID: f.ID, RemoteAddr: clientAddr(r)}
}

// verifyForm runs check when the posted form carries the flow's token.
func (h *Handler) verifyForm(r *http.Request, f *flow.Flow, check func() error) error {
	if !h.formTokenMatches(r, f) {
		return errStaleForm
	}
	return check()
}

// otp asks for and checks the code from the authenticator app.
func (h *Handler) otp(w http.ResponseWriter, r *http.Request, f *flow.Flow, acct store.Account) error {
	ctx := r.Context()
	enrolled, err := h.MFA.Enrolled(ctx, acct.ID)
	if err != nil {
		return err
	}
	if !enrolled {
		http.Redirect(w, r, enrolURL(f), http.StatusSeeOther)
		return nil
	}
	view := page.SecondFactorView{FlowID: f.ID, ClientName: f.Details().ClientName, StepUp: f.SessionID != ""}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		err := h.verifyForm(r, f, func() error {
			return h.MFA.Verify(ctx, acct.ID, r.PostFormValue("code"), h.meta(r, f))
		})
		if err == nil {
			return h.secondFactorProven(w, r, f, acct, nil)
		}
		if status, err = h.codeRefused(w, err, &view.ErrorKey, &view.WaitSeconds); err != nil {
			return err
		}
	}
	return h.renderStep(w, r, f, status, page.SecondFactorPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

func enrolURL(f *flow.Flow) string { return "/login/enrol?flow=" + url.QueryEscape(f.ID) }

// recovery accepts a recovery code instead of the app's code.
func (h *Handler) recovery(w http.ResponseWriter, r *http.Request, f *flow.Flow, acct store.Account) error {
	ctx := r.Context()
	// Without an authenticator there are no recovery codes: the person sets
	// one up instead. (A posted code learns it from UseRecoveryCode.)
	if r.Method != http.MethodPost {
		if enrolled, err := h.MFA.Enrolled(ctx, acct.ID); err != nil {
			return err
		} else if !enrolled {
			http.Redirect(w, r, enrolURL(f), http.StatusSeeOther)
			return nil
		}
	}
	view := page.RecoveryView{FlowID: f.ID, ClientName: f.Details().ClientName}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		var left int
		err := h.verifyForm(r, f, func() (err error) {
			left, err = h.MFA.UseRecoveryCode(ctx, acct.ID, r.PostFormValue("code"), h.meta(r, f))
			return err
		})
		if err == nil {
			return h.secondFactorProven(w, r, f, acct, &page.RecoveryCodesView{UsedOne: true, Remaining: left})
		}
		if errors.Is(err, mfa.ErrNoAuthenticator) { // no app (any more)
			http.Redirect(w, r, enrolURL(f), http.StatusSeeOther)
			return nil
		}
		if status, err = h.codeRefused(w, err, &view.ErrorKey, &view.WaitSeconds); err != nil {
			return err
		}
	}
	return h.renderStep(w, r, f, status, page.RecoveryPage, func(csrf string) any {
		view.CSRFToken = csrf
		return view
	})
}

// enrol sets up an authenticator in the middle of a sign-in, for a request
// that requires a second factor the person does not have yet.
func (h *Handler) enrol(w http.ResponseWriter, r *http.Request, f *flow.Flow, acct store.Account) error {
	ctx := r.Context()
	// Only a person without an authenticator enrols here: one with an
	// authenticator proves it instead (a stolen password must not be
	// enough to add the thief's app).
	if enrolled, err := h.MFA.Enrolled(ctx, acct.ID); err != nil {
		return err
	} else if enrolled {
		http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
		return nil
	}
	// A step-up from a session whose password is not recent: the password
	// again first, as on the account page.
	if f.SessionID != "" && h.Clock.Now().Sub(f.AuthTime) > FreshSignIn {
		f, err := h.Flows.Move(ctx, f.ID, (*flow.Flow).RequirePassword)
		if err != nil {
			return err
		}
		http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
		return nil
	}
	view := page.EnrolView{Action: enrolURL(f), FlowID: f.ID, Username: acct.Username, Required: true}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		id := r.PostFormValue("enrolment")
		err := h.verifyForm(r, f, func() error {
			return h.MFA.Confirm(ctx, acct.ID, id, r.PostFormValue("code"), false, h.meta(r, f))
		})
		if err == nil {
			codes, err := h.MFA.NewRecoveryCodes(ctx, acct.ID, h.meta(r, f))
			if err != nil {
				return err
			}
			return h.secondFactorProven(w, r, f, acct, &page.RecoveryCodesView{Codes: codes})
		}
		if errors.Is(err, mfa.ErrEnrolmentDone) || errors.Is(err, mfa.ErrNoAuthenticator) || errors.Is(err, mfa.ErrAlreadyEnrolled) {
			return page.FlowExpired(err)
		}
		if status, err = h.codeRefused(w, err, &view.ErrorKey, &view.WaitSeconds); err != nil {
			return err
		}
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
		return err
	}
	withEnrolment(&view, en)
	return h.renderStep(w, r, f, status, page.EnrolPage, func(csrf string) any {
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
func (h *Handler) secondFactorProven(w http.ResponseWriter, r *http.Request, f *flow.Flow, acct store.Account, codes *page.RecoveryCodesView) error {
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
	h.endPreviousSession(r)
	cookie, bs, err := h.Sessions.Create(ctx, acct.ID, accounts.Authentication{Time: now, AMR: amr, ACR: acr}, r.UserAgent(), clientAddr(r))
	if err != nil {
		return err
	}
	h.setSessionCookie(w, cookie, bs)
	h.rememberDevice(w, r, acct)
	sessionID := bs.ID
	f, err = h.Flows.Advance(ctx, f.ID, r.PostFormValue("csrf"), func(f *flow.Flow) error {
		return f.CompleteSecondFactor(sessionID, acr, now)
	})
	if err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "signed in", "account_id", acct.ID, "client_id", f.ClientID, "amr", amr)
	if codes != nil {
		codes.Next = "/login/continue?flow=" + url.QueryEscape(f.ID)
		if err := h.Pages.Render(w, r, http.StatusOK, h.lang(r, f), page.RecoveryCodesPage, *codes); err != nil {
			h.Logger.ErrorContext(ctx, "render recovery codes page", "err", err)
		}
		return nil
	}
	return h.afterAuthentication(w, r, f)
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
func (h *Handler) continueFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow) error {
	if f.State() != flow.StateConsent {
		return &flow.IllegalMoveError{From: f.State(), Move: "continue"}
	}
	if err := h.holdsFlowSession(r, f); err != nil {
		return err
	}
	return h.afterAuthentication(w, r, f)
}
