package flow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/token"
	"github.com/propusk/propusk/store"
)

// State is where a flow stands.
type State string

// The states; see the package documentation for the diagram.
const (
	StateLogin        State = "login"
	StateSecondFactor State = "second_factor"
	StateConsent      State = "consent"
	StateDone         State = "done"
	StateDenied       State = "denied"
)

// Final reports whether no transition leaves s.
func (s State) Final() bool { return s == StateDone || s == StateDenied }

// Errors.
var (
	// ErrExpired: the flow outlived its lifetime; the person must start
	// again at the relying party.
	ErrExpired = errors.New("flow expired")
	// ErrNotFound: no flow has the ID (never existed, finished, or swept).
	ErrNotFound = errors.New("flow not found")
	// ErrCSRF: the form's token does not match the flow's.
	ErrCSRF = errors.New("form token does not match the flow")
	// ErrOtherBrowser: the flow is bound to another browser than the one
	// asking (login CSRF, RFC 6749 §10.12: a sign-in form shown to one
	// browser posted from another).
	ErrOtherBrowser = errors.New("flow is bound to another browser")
)

// IllegalMoveError reports a transition the flow's state does not allow,
// such as a second tab finishing a flow the first already finished.
type IllegalMoveError struct {
	From State
	Move string
}

func (e *IllegalMoveError) Error() string {
	return fmt.Sprintf("flow cannot %s from state %s", e.Move, e.From)
}

// Flow is a stored flow with its transitions, and the authorization
// request it answers (Details, Protocol).
type Flow struct {
	store.Flow
	req Request
}

// State returns the flow's state.
func (f *Flow) State() State { return State(f.Flow.State) }

// Authentication is who signed in, when and how.
type Authentication struct {
	AccountID string
	SessionID string // the browser session's ID (hash)
	AuthTime  time.Time
	AMR       []string
	ACR       string
}

// Authenticate records who signed in: login → consent.
func (f *Flow) Authenticate(a Authentication) error {
	return f.signIn(a, "authenticate", StateConsent)
}

// RequireSecondFactor records a password that was right for an account
// whose sign-in needs a second factor too: login → second_factor. The SSO
// session is created only once the second factor is proven: a.SessionID
// is empty after a password, and set only for a step-up (the session to
// raise).
func (f *Flow) RequireSecondFactor(a Authentication) error {
	return f.signIn(a, "require a second factor", StateSecondFactor)
}

// signIn records a and moves login → to; move names the transition in an
// IllegalMoveError.
func (f *Flow) signIn(a Authentication, move string, to State) error {
	if f.State() != StateLogin {
		return &IllegalMoveError{From: f.State(), Move: move}
	}
	if a.AccountID == "" || a.AuthTime.IsZero() {
		return errors.New("flow: authentication without an account or time")
	}
	f.AccountID, f.SessionID, f.AuthTime = a.AccountID, a.SessionID, a.AuthTime.UTC()
	f.AMR, f.ACR = append([]string(nil), a.AMR...), a.ACR
	f.Flow.State = string(to)
	return nil
}

// RequirePassword sends a step-up back to the password: second_factor →
// login, forgetting the session it was to raise. Setting up a first
// authenticator inside a flow trusts whoever is signed in, so a session
// whose password is not recent must prove it again first (an unattended
// browser must not let a passer-by put their own app on the account).
func (f *Flow) RequirePassword() error {
	if f.State() != StateSecondFactor || f.SessionID == "" {
		return &IllegalMoveError{From: f.State(), Move: "ask for the password again"}
	}
	// The browser binding stays: the same browser gives the password.
	f.AccountID, f.SessionID, f.AuthTime, f.AMR, f.ACR = "", "", time.Time{}, nil, ""
	f.Flow.State = string(StateLogin)
	return nil
}

// CompleteSecondFactor records the proven second factor and the SSO
// session that now carries it: second_factor → consent. auth_time moves to
// now: the person authenticated again.
func (f *Flow) CompleteSecondFactor(sessionID, acr string, at time.Time) error {
	if f.State() != StateSecondFactor {
		return &IllegalMoveError{From: f.State(), Move: "complete the second factor"}
	}
	if sessionID == "" {
		return errors.New("flow: second factor without a session")
	}
	if !slices.Contains(f.AMR, "otp") {
		f.AMR = append(f.AMR, "otp")
	}
	f.SessionID, f.ACR, f.AuthTime = sessionID, acr, at.UTC()
	f.Flow.State = string(StateConsent)
	return nil
}

// Allow records the person's consent: consent → done.
func (f *Flow) Allow() error {
	if f.State() != StateConsent {
		return &IllegalMoveError{From: f.State(), Move: "allow"}
	}
	f.Flow.State = string(StateDone)
	return nil
}

// Deny ends the flow with the person's refusal: any live state → denied.
func (f *Flow) Deny() error {
	if f.State().Final() {
		return &IllegalMoveError{From: f.State(), Move: "deny"}
	}
	f.Flow.State = string(StateDenied)
	return nil
}

// DefaultLifetime is how long a person has to sign in and consent.
const DefaultLifetime = 15 * time.Minute

// Service keeps flows in a store.
type Service struct {
	Store store.Flows
	// Ring seals each flow's request, bound to the flow's row.
	Ring     *seal.Ring
	Lifetime time.Duration // 0: DefaultLifetime
	Clock    clock.Func
}

// Start creates a flow in the login state for req and returns it with a
// CSRF token (only the token's hash is stored). The pages replace it with
// the browser's FormToken when they bind the flow to the browser (Bind).
func (s *Service) Start(ctx context.Context, clientID string, req Request, locale string) (*Flow, string, error) {
	return s.begin(ctx, clientID, &req, locale, func(*Flow) error { return nil })
}

// StartAuthenticated creates a flow for a person who already holds a valid
// SSO session: it begins in consent.
func (s *Service) StartAuthenticated(ctx context.Context, clientID string, req Request, locale string, a Authentication) (*Flow, string, error) {
	return s.begin(ctx, clientID, &req, locale, func(f *Flow) error { return f.Authenticate(a) })
}

// StartStepUp creates a flow for a person whose SSO session has a password
// only, for a request that needs a second factor: it begins in
// second_factor, and no password is asked again.
func (s *Service) StartStepUp(ctx context.Context, clientID string, req Request, locale string, a Authentication) (*Flow, string, error) {
	return s.begin(ctx, clientID, &req, locale, func(f *Flow) error { return f.RequireSecondFactor(a) })
}

func (s *Service) begin(ctx context.Context, clientID string, req *Request, locale string, first func(*Flow) error) (*Flow, string, error) {
	id, tok := token.New(), token.New()
	request, err := s.sealRequest(id, req)
	if err != nil {
		return nil, "", fmt.Errorf("seal flow request: %w", err)
	}
	lifetime := s.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	now := s.Clock.Now()
	f := &Flow{Flow: store.Flow{
		ID: id, State: string(StateLogin), ClientID: clientID, Request: request, CSRFHash: token.Hash(tok),
		Locale: locale, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(lifetime),
	}}
	if req != nil {
		f.req = *req
	}
	if err := first(f); err != nil {
		return nil, "", err
	}
	if err := s.Store.CreateFlow(ctx, f.Flow); err != nil {
		return nil, "", fmt.Errorf("start flow: %w", err)
	}
	return f, tok, nil
}

// Get returns a live flow: ErrNotFound or ErrExpired otherwise.
func (s *Service) Get(ctx context.Context, id string) (*Flow, error) {
	sf, err := s.Store.GetFlow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !s.Clock.Now().Before(sf.ExpiresAt) {
		return nil, ErrExpired
	}
	return s.open(sf)
}

// Advance applies move to the flow under the store's row lock, after
// checking that the flow is live and that token is its CSRF token. move
// runs inside the transaction and may run more than once; its error
// aborts the change.
func (s *Service) Advance(ctx context.Context, id, csrf string, move func(*Flow) error) (*Flow, error) {
	return s.Move(ctx, id, func(f *Flow) error {
		if !TokenMatches(f.CSRFHash, csrf) {
			return ErrCSRF
		}
		return move(f)
	})
}

// Move applies a change the server decides itself (no form involved, such
// as finishing a flow that needs no consent, or recording a language
// switch) to a live flow under the store's row lock. move sees the flow's
// row only: its request is opened after the move (Details and Protocol are
// empty inside move), so a move decides from the row's own fields.
func (s *Service) Move(ctx context.Context, id string, move func(*Flow) error) (*Flow, error) {
	now := s.Clock.Now()
	sf, err := s.Store.UpdateFlow(ctx, id, func(sf store.Flow) (store.Flow, error) {
		if !now.Before(sf.ExpiresAt) {
			return sf, ErrExpired
		}
		f := &Flow{Flow: sf}
		if err := move(f); err != nil {
			return sf, err
		}
		f.UpdatedAt = now
		return f.Flow, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.open(sf)
}

// Delete removes a finished flow.
func (s *Service) Delete(ctx context.Context, id string) error {
	err := s.Store.DeleteFlow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// TokenMatches reports whether t is the flow token whose hash is h, in
// constant time. Flow IDs and CSRF tokens are 256-bit bearer values
// (internal/token); only their hashes are stored.
func TokenMatches(h []byte, t string) bool { return token.Matches(h, t) }

// BoundTo reports whether binding (the value of the browser's sign-in
// cookie) is the one the flow is bound to, in constant time.
func (f *Flow) BoundTo(binding string) bool { return token.Matches(f.BrowserHash, binding) }

// FormToken is the CSRF token of the forms of a flow bound to binding.
// Derived from the binding, it is the same at every showing in that
// browser (a second tab, a language switch, the back button keep working)
// and unknown to any other browser. Only its hash is stored.
func FormToken(binding string) string {
	m := hmac.New(sha256.New, []byte(binding))
	m.Write([]byte("propusk flow form token"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Bind ties a live flow to the browser holding binding, a secret the
// caller keeps in a cookie, and makes FormToken(binding) the flow's form
// token. A flow bound to another browser is left as it is and refused with
// ErrOtherBrowser: the first browser to open a flow keeps it, so a flow
// URL seen elsewhere (a log, history, a link an attacker sends) cannot be
// taken over. Binding the same browser again only renews the token's hash.
func (s *Service) Bind(ctx context.Context, id, binding string) (*Flow, error) {
	if binding == "" {
		return nil, errors.New("flow: bind to an empty secret")
	}
	return s.Move(ctx, id, func(f *Flow) error {
		switch {
		case f.BrowserHash == nil:
			f.BrowserHash = token.Hash(binding)
		case !f.BoundTo(binding):
			return ErrOtherBrowser
		}
		f.CSRFHash = token.Hash(FormToken(binding))
		return nil
	})
}

// StartLocal creates a flow for Propusk's own pages (the account page):
// no relying party, the same sign-in and second-factor steps, then back to
// returnTo, a local path the caller has checked.
func (s *Service) StartLocal(ctx context.Context, returnTo, locale string) (*Flow, string, error) {
	return s.begin(ctx, "", nil, locale, func(f *Flow) error {
		f.ReturnTo = returnTo
		return nil
	})
}

// Local reports whether the flow serves Propusk's own pages.
func (f *Flow) Local() bool { return f.ClientID == "" }

// The pages of a flow's steps (package web serves them).
const (
	PageLogin        = "/login"
	PageSecondFactor = "/login/otp"
	PageConsent      = "/consent"
)

// Page is where the flow waits: the page of its current step, "" when it
// is final. It is the one place that maps a state to the next page; the
// authorization endpoint and every step's page follow it.
func (f *Flow) Page() string {
	switch f.State() {
	case StateLogin:
		return PageLogin
	case StateSecondFactor:
		return PageSecondFactor
	case StateConsent:
		return PageConsent
	}
	return ""
}

// PageURL is Page with the flow's ID: where to send the browser next.
func (f *Flow) PageURL() string { return f.Page() + "?flow=" + url.QueryEscape(f.ID) }
