package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// ErrUnmetAuthenticationRequirements is OIDC Core's error for an acr that
// cannot be achieved.
var ErrUnmetAuthenticationRequirements = &fosite.RFC6749Error{
	ErrorField:       "unmet_authentication_requirements",
	DescriptionField: "The requested authentication level cannot be met for this person.",
	CodeField:        http.StatusBadRequest,
}

// authzParams are the OpenID Connect request parameters Propusk interprets
// itself (fosite only validates their syntax, or not at all).
type authzParams struct {
	prompt map[string]bool
	maxAge time.Duration // < 0: none
	req    requirement
	// subject is the person the request is for, when it names one: the
	// id_token_hint's sub, or a sub value asked for in the claims
	// parameter (OIDC Core §5.5.1: no tokens for anyone else).
	subject string
	// hintSubject is the id_token_hint's sub alone.
	hintSubject string
	loginHint   string
	claims      claimsRequest
}

// params reads and checks them, the id_token_hint's signature included;
// errors are invalid_request (or unmet_authentication_requirements) for
// the client.
func (h *Handler) params(ctx context.Context, ar fosite.AuthorizeRequester) (authzParams, error) {
	p, err := readParams(ar.GetRequestForm(), ar.GetClient())
	if err != nil {
		return p, err
	}
	var hintSubject string
	if hint := ar.GetRequestForm().Get("id_token_hint"); hint != "" {
		sub, err := h.hintSubject(ctx, hint, ar.GetClient().GetID())
		if err != nil {
			return p, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not valid.").WithWrap(err).WithDebug(err.Error())
		}
		hintSubject = sub
	}
	return p, p.nameSubject(hintSubject)
}

// nameSubject records the person the request is for: the id_token_hint's
// sub (checked already), and any sub value the claims parameter asks for,
// which must be the same person.
func (p *authzParams) nameSubject(hintSubject string) error {
	p.subject, p.hintSubject = hintSubject, hintSubject
	for _, claimed := range []*claimRequest{p.claims.IDToken["sub"], p.claims.UserInfo["sub"]} {
		if claimed == nil || claimed.Value == "" {
			continue
		}
		if p.subject != "" && p.subject != claimed.Value {
			return fosite.ErrInvalidRequest.WithHint("The request names two different people (id_token_hint and the claims parameter's sub).")
		}
		p.subject = claimed.Value
	}
	return nil
}

// readParams reads and checks the parameters that need nothing but the
// form and the client: at the authorization endpoint, and again from the
// flow's record when the request is answered (the client may have changed
// meanwhile).
func readParams(form url.Values, client fosite.Client) (authzParams, error) {
	p := authzParams{prompt: map[string]bool{}, maxAge: -1, loginHint: form.Get("login_hint")}
	// fosite checks the response type, not the grant: a client registered
	// for client_credentials alone could otherwise start a sign-in whose
	// code it may not redeem (RFC 6749 §4.1.2.1).
	if !client.GetGrantTypes().Has("authorization_code") {
		return p, fosite.ErrUnauthorizedClient.WithHint("The client is not registered for the authorization_code grant.")
	}
	// PKCE is required of every client. fosite enforces it too, but only
	// when the code is issued; checking here spares the person a sign-in
	// that could never succeed.
	if form.Get("code_challenge") == "" {
		return p, fosite.ErrInvalidRequest.WithHint("PKCE is required: send code_challenge with code_challenge_method=S256.")
	}
	if form.Get("code_challenge_method") != "S256" {
		return p, fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256.")
	}
	for _, v := range strings.Fields(form.Get("prompt")) {
		switch v {
		case "none", "login", "consent":
			p.prompt[v] = true
		default:
			return p, fosite.ErrInvalidRequest.WithHintf("prompt=%s is not supported.", v)
		}
	}
	if p.prompt["none"] && len(p.prompt) > 1 {
		return p, fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	if v := form.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative integer.")
		}
		p.maxAge = time.Duration(n) * time.Second
	}
	cr, err := parseClaimsRequest(form.Get("claims"))
	if err != nil {
		return p, fosite.ErrInvalidRequest.WithHint(err.Error())
	}
	p.claims = cr
	minimum := ""
	if c, ok := client.(*Client); ok {
		minimum = c.MinimumACR
	}
	req, ok := newRequirement(minimum, form.Get("acr_values"), cr.essentialACR())
	if !ok {
		return p, ErrUnmetAuthenticationRequirements.WithHint("None of the requested acr values is supported.")
	}
	p.req = req
	return p, nil
}

// onlyPushedOrPlain trims an authorization request to the two forms Propusk
// takes, before fosite reads it, and says what it refused:
//   - a request object (request=…, or a request_uri that is not a pushed
//     request's) is refused: discovery says request objects are not
//     supported, and fosite would otherwise accept one (even alg none)
//     whose client_id differs from the one the PAR rule was checked on;
//   - a pushed request (RFC 9126) counts only for what was pushed: every
//     other front-channel parameter is dropped (RFC 9126 §4 and RFC 9101
//     §5), where fosite would keep those the push left out.
//
// The refusal is returned, not answered, so that it goes to the client's
// redirect URI once fosite has checked it.
func (h *Handler) onlyPushedOrPlain(ctx context.Context, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return nil // fosite answers a malformed request itself
	}
	var refused error
	if r.Form.Has("request") {
		r.Form.Del("request")
		refused = fosite.ErrRequestNotSupported.WithHint("Request objects are not supported; push the request (PAR) instead.")
	}
	switch uri := r.Form.Get("request_uri"); {
	case uri == "":
	case h.pushed(ctx, uri):
		r.Form = url.Values{"client_id": {r.Form.Get("client_id")}, "request_uri": {uri}}
	default:
		r.Form.Del("request_uri")
		refused = fosite.ErrRequestURINotSupported.WithHint("request_uri must name a pushed authorization request.")
	}
	return refused
}

// pushed says whether uri names a pushed authorization request.
func (h *Handler) pushed(ctx context.Context, uri string) bool {
	return uri != "" && strings.HasPrefix(uri, h.fosite.GetPushedAuthorizeRequestURIPrefix(ctx))
}

// checkRequest checks a pushed request's OpenID Connect parameters when it
// is pushed, not only when it is used.
func (h *Handler) checkRequest(ctx context.Context, ar fosite.AuthorizeRequester) error {
	_, err := h.params(ctx, ar)
	return err
}

// authorize is the authorization endpoint. fosite parses and validates the
// request; Propusk then decides: straight back to the client (a valid SSO
// session, nothing to ask), an error (prompt=none that cannot be honoured),
// or a flow through the login and consent pages.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	refused := h.onlyPushedOrPlain(ctx, r)
	ar, err := h.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	if refused != nil {
		// Answered to the client now that its redirect URI is known.
		h.authorizeError(w, r, ar, refused)
		return
	}
	if c, ok := ar.GetClient().(*Client); ok && c.RequirePAR && !h.pushed(ctx, r.Form.Get("request_uri")) {
		h.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("This client must push its authorization requests (PAR)."))
		return
	}
	p, err := h.params(ctx, ar)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	lang := page.ChooseLanguage(r, ar.GetRequestForm().Get("ui_locales"))

	auth, acct, err := h.usableSession(r, p)
	if err != nil {
		h.pageError(w, r, page.Unavailable(err))
		return
	}
	if auth != nil {
		achieved := achievedACR(acct.Assurance, auth.AMR)
		if !p.req.metBy(achieved) {
			if !p.req.needsSecondFactor(achieved) {
				// The account's identity level is below what is asked;
				// signing in again does not raise it.
				h.Logger.InfoContext(ctx, "acr cannot be met", "required", p.req.String(), "achieved", achieved.String())
				h.authorizeError(w, r, ar, ErrUnmetAuthenticationRequirements.WithHint("The person's account does not reach the requested level."))
				return
			}
			// Step-up: the session has a password only and the request needs
			// a second factor. Ask for the code, not the password again.
			if p.prompt["none"] {
				h.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("A second factor is required."))
				return
			}
			f, _, err := h.Flows.StartStepUp(ctx, ar.GetClient().GetID(), h.flowRequest(ar, p), lang.String(), *auth)
			if err != nil {
				h.pageError(w, r, page.Unavailable(err))
				return
			}
			http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
			return
		}
		need, err := h.needsConsent(ctx, ar.GetClient(), auth.AccountID, ar.GetRequestedScopes(), p.prompt["consent"])
		if err != nil {
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		if !need {
			h.issue(w, r, ar, p, *auth, acct, flow.ConsentOnRecord, lang.String())
			return
		}
		if p.prompt["none"] {
			h.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("The person has not consented to this client yet."))
			return
		}
	} else if p.prompt["none"] {
		h.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The person is not signed in."))
		return
	}

	req := h.flowRequest(ar, p)
	var f *flow.Flow
	if auth != nil {
		f, _, err = h.Flows.StartAuthenticated(ctx, ar.GetClient().GetID(), req, lang.String(), *auth)
	} else {
		f, _, err = h.Flows.Start(ctx, ar.GetClient().GetID(), req, lang.String())
	}
	if err != nil {
		h.pageError(w, r, page.Unavailable(err))
		return
	}
	http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
}

// usableSession returns the person's SSO session when it may answer this
// request without a new login: it exists, prompt does not force a login,
// max_age allows its age, an id_token_hint names the same person, and the
// account is still enabled.
func (h *Handler) usableSession(r *http.Request, p authzParams) (*flow.Authentication, store.Account, error) {
	if p.prompt["login"] {
		return nil, store.Account{}, nil
	}
	c, err := r.Cookie(SessionCookieName(h.secureCookies()))
	if err != nil {
		return nil, store.Account{}, nil
	}
	bs, err := h.Sessions.Lookup(r.Context(), c.Value)
	if err != nil {
		if errors.Is(err, accounts.ErrNoSession) {
			return nil, store.Account{}, nil
		}
		return nil, store.Account{}, err
	}
	if p.maxAge >= 0 && h.Clock.Now().Sub(bs.AuthTime) > p.maxAge {
		return nil, store.Account{}, nil
	}
	if p.subject != "" && p.subject != bs.AccountID {
		return nil, store.Account{}, nil
	}
	acct, err := h.Accounts.GetAccount(r.Context(), bs.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Account{}, nil
	}
	if err != nil {
		return nil, store.Account{}, err
	}
	if acct.Disabled() {
		return nil, store.Account{}, nil
	}
	return &flow.Authentication{AccountID: bs.AccountID, SessionID: bs.ID, AuthTime: bs.AuthTime, AMR: bs.AMR, ACR: bs.ACR}, acct, nil
}

// needsConsent: forced by prompt=consent; always for public clients;
// never for first-party clients; otherwise unless the person already
// allowed every requested scope. Scopes are all there is to allow: the
// claims parameter releases nothing beyond the granted scopes (session,
// userinfo), so a consent to the scopes covers its claims.
//
// A public client (a mobile or desktop app) cannot prove who it is: any
// app on the device can claim its redirect scheme or loopback port and
// send its own request with its own PKCE pair. Skipping the page would
// hand it the person's tokens unseen, so the person always confirms
// (RFC 8252 §8.6); prompt=none then answers consent_required.
func (h *Handler) needsConsent(ctx context.Context, c fosite.Client, accountID string, scopes []string, forced bool) (bool, error) {
	if forced || c.IsPublic() {
		return true, nil
	}
	if pc, ok := c.(*Client); ok && pc.FirstParty {
		return false, nil
	}
	covered, err := h.Consents.Covers(ctx, accountID, c.GetID(), scopes)
	return !covered, err
}

// flowRequest is what a flow keeps of an authorization request
// (flow.Request's Protocol): the request as fosite validated it at the
// authorization endpoint, stored as grants store theirs (storedRequest),
// enough to issue the answer without reading the request again. It keeps
// the request's ID, as a pushed request does: a request is answered with
// one code at most (a flow is single use, and a flow asked about again,
// consentAgain, follows an answer that wrote nothing). Its form
// holds the parameters as fosite merged them (pushed ones included),
// without request_uri (a pushed request is consumed when first read),
// client credentials, or the id_token_hint, whose subject is kept instead
// (its signature was checked once).
type flowRequest struct {
	storedRequest
	HintSubject string `json:"hint_subject,omitempty"`
}

// flowRequest records ar, whose parameters p were read from it, for a
// flow: the protocol part, and the details the pages show.
func (h *Handler) flowRequest(ar fosite.AuthorizeRequester, p authzParams) flow.Request {
	fr := flowRequest{storedRequest: storedRequestOf(ar, "request_uri", "id_token_hint"), HintSubject: p.hintSubject}
	d := flow.Details{Scopes: ar.GetRequestedScopes(), LoginHint: p.loginHint}
	if u := ar.GetRedirectURI(); u != nil {
		d.RedirectOrigin = u.Scheme + "://" + u.Host
	}
	if c, ok := ar.GetClient().(*Client); ok {
		d.ClientName, d.FirstParty, d.Public = c.Name, c.FirstParty, c.Public
	}
	b, _ := json.Marshal(fr) // strings, lists and a time: always marshals
	return flow.Request{Details: d, Protocol: b}
}

// resume rebuilds a flow's authorization request from its record, for the
// client as it is now: fosite checked the request against the client as it
// was then, and a client deleted, or no longer allowed what it asked for,
// meanwhile is refused as a new request would be. (Propusk clients' response
// types and modes are fixed, oauth/client.go.)
func (h *Handler) resume(ctx context.Context, f *flow.Flow) (fosite.AuthorizeRequester, authzParams, error) {
	var fr flowRequest
	if err := json.Unmarshal(f.Protocol(), &fr); err != nil {
		return nil, authzParams{}, fmt.Errorf("read flow request: %w", err)
	}
	client, err := h.Storage.GetClient(ctx, f.ClientID)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, authzParams{}, fosite.ErrInvalidClient.WithHint("The requested OAuth 2.0 Client does not exist.").WithWrap(err).WithDebug(err.Error())
	}
	if err != nil {
		return nil, authzParams{}, err // marked errStorage (fositeErr)
	}
	ar, err := fr.rebuild(client, nil)
	if err != nil {
		return nil, authzParams{}, fmt.Errorf("read flow request: %w", err)
	}
	if !redirectRegistered(fr.RedirectURI, client) {
		ar.RedirectURI = nil // refused on a page, never redirected to
		return ar, authzParams{}, fosite.ErrInvalidRequest.WithHint("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")
	}
	allowed := h.fosite.GetScopeStrategy(ctx)
	for _, s := range fr.RequestedScope {
		if !allowed(client.GetScopes(), s) {
			return ar, authzParams{}, fosite.ErrInvalidScope.WithHintf("The OAuth 2.0 Client is not allowed to request scope '%s'.", s)
		}
	}
	if err := h.fosite.GetAudienceStrategy(ctx)(client.GetAudience(), fr.RequestedAudience); err != nil {
		return ar, authzParams{}, err
	}
	p, err := readParams(ar.Form, client)
	if err == nil {
		err = p.nameSubject(fr.HintSubject)
	}
	return ar, p, err
}

// issue answers the client with a code for the authenticated person.
// p are the request's parameters, already read (the hint's signature is
// checked once, at the authorization endpoint). given says whether the person
// allowed this very request on the consent page; otherwise the code rests
// on the consent on record, which may have been withdrawn since it was
// read. lang is the language of a consent page this may lead to.
//
// The code is written in a transaction that first takes the person's
// grant lock and then reads the consent again: a withdrawal either
// commits before it, and the request is refused (consent_required) or
// asked about again, or waits for it and ends the code with the rest.
// Without this, a silent authorization whose check ran just before the
// withdrawal got a code after it, which redeemed for working tokens.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, p authzParams, auth flow.Authentication, acct store.Account, given flow.Consent, lang string) {
	ctx := r.Context()
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	sess, err := h.session(ctx, ar, p, auth, acct)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	if c, ok := ar.GetClient().(*Client); ok {
		ctx = withSigningAlg(ctx, c.IDTokenAlg())
	}
	// Propusk checked the hint itself against every kept key (params);
	// fosite would check it again against the current key only and refuse
	// hints signed before a rotation. (A flow's record holds none.)
	ar.GetRequestForm().Del("id_token_hint")
	var resp fosite.AuthorizeResponder
	err = store.InGrantTx(ctx, h.Storage.Store, acct.ID, func(ctx context.Context) error {
		if given != flow.ConsentGivenNow {
			need, err := h.needsConsent(ctx, ar.GetClient(), acct.ID, ar.GetRequestedScopes(), p.prompt["consent"])
			if err != nil {
				return err
			}
			if need {
				return errConsentGone
			}
		}
		var err error
		resp, err = h.provider.NewAuthorizeResponse(ctx, ar, sess)
		return err
	})
	switch {
	case errors.Is(err, errConsentGone):
		h.consentAgain(w, r, ar, p, auth, lang)
		return
	case err != nil:
		err = storageFailure(err) // the transaction's own reads and writes
	}
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	h.respond(w, r, ar, resp.GetParameters())
}

// errConsentGone: the remembered consent a code was about to rest on has
// been withdrawn (issue).
var errConsentGone = errors.New("remembered consent withdrawn")

// consentAgain answers a request whose remembered consent was withdrawn
// while it was being answered: prompt=none gets consent_required, as it
// would have a moment later; otherwise the person is asked on the consent
// page.
func (h *Handler) consentAgain(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, p authzParams, auth flow.Authentication, lang string) {
	if p.prompt["none"] {
		h.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("The person has not consented to this client yet."))
		return
	}
	f, _, err := h.Flows.StartAuthenticated(r.Context(), ar.GetClient().GetID(), h.flowRequest(ar, p), lang, auth)
	if err != nil {
		h.pageError(w, r, page.Unavailable(err))
		return
	}
	http.Redirect(w, r, f.PageURL(), http.StatusSeeOther)
}

// session builds what the grant carries: the ID token's claims and the SSO
// session it came from.
func (h *Handler) session(ctx context.Context, ar fosite.AuthorizeRequester, p authzParams, auth flow.Authentication, acct store.Account) (*Session, error) {
	if p.subject != "" && p.subject != acct.ID {
		return nil, fosite.ErrLoginRequired.WithHint("The request names another person (id_token_hint or the sub claim).")
	}
	achieved := achievedACR(acct.Assurance, auth.AMR)
	if !p.req.metBy(achieved) {
		// The description reaches the client: it does not say what level
		// the person's account has (the client has no consent for that).
		return nil, ErrUnmetAuthenticationRequirements.WithHint("The sign-in does not reach the requested level.")
	}
	sess := NewSession()
	// No Username: fosite would put it in every introspection response,
	// and a username is often an e-mail address, which a client gets only
	// with the email scope (through userinfo or the ID token).
	sess.Subject = acct.ID
	c := sess.Claims
	c.Subject = acct.ID
	c.Issuer = h.Config.Issuer
	c.AuthTime = auth.AuthTime
	c.RequestedAt = ar.GetRequestedAt()
	c.AuthenticationContextClassReference = reportedACR(achieved, p.claims.essentialACR()).String()
	c.AuthenticationMethodsReferences = slices.Clone(auth.AMR)
	bs, err := h.Sessions.Store.GetBrowserSession(ctx, auth.SessionID)
	if err == nil {
		sess.SID = bs.PublicID
		c.Add("sid", bs.PublicID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// Claims the claims parameter asks for in the ID token, within the
	// granted scopes (consent covers scopes, not more).
	if want := p.claims.idTokenClaims(); len(want) > 0 {
		released := accountClaims(acct, ar.GetGrantedScopes())
		for _, k := range want {
			if v, ok := released[k]; ok {
				c.Add(k, v)
			}
		}
	}
	return sess, nil
}

// NeedsConsent reports whether the consent page must be shown for a flow
// whose person has signed in.
func (h *Handler) NeedsConsent(ctx context.Context, f *flow.Flow) (bool, error) {
	ar, p, err := h.resume(ctx, f)
	if err != nil {
		return false, err
	}
	return h.needsConsent(ctx, ar.GetClient(), f.AccountID, ar.GetRequestedScopes(), p.prompt["consent"])
}

// RequiresSecondFactor reports whether a flow whose person proved a
// password for an account at level must also prove a second factor: the
// request is not met with a password alone but is with a second factor.
// (When neither is enough, the flow ends with
// unmet_authentication_requirements when it finishes.)
func (h *Handler) RequiresSecondFactor(ctx context.Context, f *flow.Flow, level string) (bool, error) {
	_, p, err := h.resume(ctx, f)
	if err != nil {
		return false, err
	}
	return p.req.needsSecondFactor(achievedACR(level, []string{"pwd"})), nil
}

// FinishFlow answers the client for a flow whose person signed in and
// consented (on the page now, or by the consent on record, which is read
// again as the code is issued): a code, or an error if the request no
// longer holds.
func (h *Handler) FinishFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow, given flow.Consent) {
	ctx := r.Context()
	ar, p, err := h.resume(ctx, f)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	acct, err := h.Accounts.GetAccount(ctx, f.AccountID)
	if err != nil || acct.Disabled() {
		h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The account is not available."))
		return
	}
	h.Flows.Delete(ctx, f.ID)
	h.issue(w, r, ar, p, flow.Authentication{AccountID: f.AccountID, SessionID: f.SessionID, AuthTime: f.AuthTime, AMR: f.AMR, ACR: f.ACR}, acct, given, f.Locale)
}

// DenyFlow answers the client with access_denied.
func (h *Handler) DenyFlow(w http.ResponseWriter, r *http.Request, f *flow.Flow) {
	ar, _, err := h.resume(r.Context(), f)
	h.Flows.Delete(r.Context(), f.ID)
	if err != nil {
		h.authorizeError(w, r, ar, err)
		return
	}
	h.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The person declined the request."))
}
