package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
)

// token is the token endpoint: code exchange, refresh and client
// credentials, through fosite.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := checks(r, checkForm, checkGrant, checkClientNamed); err != nil {
		h.tokenError(w, r, err)
		return
	}
	ar, err := h.provider.NewAccessRequest(ctx, r, NewSession())
	if err != nil {
		h.tokenError(w, r, err)
		return
	}
	gt := ar.GetGrantTypes()
	if gt.ExactOne("client_credentials") {
		// The client acts for itself: it gets the scopes it asked for,
		// which fosite (and grantGuard, for openid and offline_access)
		// has checked against its registration.
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s)
		}
	}
	if gt.ExactOne("refresh_token") {
		// fosite ignores the scope of a refresh request and grants the
		// original scope; a scope beyond it must be refused (RFC 6749 §6).
		for _, s := range fosite.RemoveEmpty(strings.Split(ar.GetRequestForm().Get("scope"), " ")) {
			if !ar.GetGrantedScopes().Has(s) {
				h.tokenError(w, r, fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted originally.", s))
				return
			}
		}
	}
	if gt.ExactOne("refresh_token") || gt.ExactOne("authorization_code") {
		if err := h.personActive(ctx, ar); err != nil {
			h.tokenError(w, r, err)
			return
		}
	}
	if c, ok := ar.GetClient().(*Client); ok {
		ctx = withSigningAlg(ctx, c.IDTokenAlg())
	}
	resp, err := h.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		err = h.afterTokenFailure(ctx, ar, err)
		h.tokenError(w, r, err)
		return
	}
	h.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// personActive refuses new tokens for a person whose account is disabled
// or gone. Disabling an account deactivates its grants already; this closes
// the gap of a refresh racing the disable, and covers an account disabled
// by other means. The grant's family goes with the refusal.
func (h *Handler) personActive(ctx context.Context, ar fosite.AccessRequester) error {
	acct, err := h.Accounts.GetAccount(ctx, ar.GetSession().GetSubject())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return storageFailure(err)
	}
	if err == nil && !acct.Disabled() {
		return nil
	}
	if rerr := h.Storage.RevokeFamily(context.WithoutCancel(ctx), ar.GetID()); rerr != nil {
		h.Logger.ErrorContext(ctx, "revoke the grant of a disabled account", "request_id", ar.GetID(), "err", rerr)
	}
	return fosite.ErrInvalidGrant.WithHint("The account is disabled.")
}

// afterTokenFailure handles the two races fosite cannot see once its
// transaction has rolled back: a refresh token or a code used twice at the
// same time. Both are replays (one caller holds a stolen copy), so the whole
// family goes, as it would for a later reuse, and the loser gets
// invalid_grant.
func (h *Handler) afterTokenFailure(ctx context.Context, ar fosite.AccessRequester, err error) error {
	raced := errors.Is(err, ErrRefreshTokenRaced) ||
		(ar.GetGrantTypes().ExactOne("authorization_code") &&
			(errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || errors.Is(err, fosite.ErrNotFound)))
	if !raced {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if rerr := h.Storage.RevokeFamily(ctx, ar.GetID()); rerr != nil {
		h.Logger.ErrorContext(ctx, "revoke token family after a replay", "request_id", ar.GetID(), "err", rerr)
	}
	h.Logger.WarnContext(ctx, "token replay: family revoked", "client_id", ar.GetClient().GetID(), "request_id", ar.GetID())
	return fosite.ErrInvalidGrant.WithHint("The grant has already been used.").WithWrap(err)
}

func (h *Handler) tokenError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeBackChannelError(w, r, "token request refused", err)
}

// introspect is RFC 7662 introspection; the caller must authenticate as a
// confidential client, by its registered method (client_secret_basic,
// client_secret_post or private_key_jwt). fosite's own introspection
// accepts HTTP Basic only, whatever the client registered, and also takes
// any bearer access token as the caller's credential, which would let
// every token holder probe every other token: Propusk refuses that form
// wherever the bearer token is (fosite looks in the Authorization header,
// then in an access_token parameter of the body or query).
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := context.WithValue(r.Context(), fosite.RequestContextKey, r)
	if fosite.AccessTokenFromRequest(r) != "" {
		h.introspectionError(w, r, fosite.ErrInvalidClient.WithHint("Authenticate as a client, not with an access token."))
		return
	}
	if err := checks(r, checkForm, checkClientNamed, requires("token")); err != nil {
		h.introspectionError(w, r, err)
		return
	}
	client, err := h.authenticator().AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		h.introspectionError(w, r, err)
		return
	}
	if client.IsPublic() {
		// A public client has no credentials: anyone can claim its ID.
		h.introspectionError(w, r, fosite.ErrInvalidClient.WithHint("A public client cannot introspect tokens."))
		return
	}
	form := r.PostForm
	use, ar, err := h.provider.IntrospectToken(ctx, form.Get("token"), fosite.TokenUse(form.Get("token_type_hint")), NewSession(),
		fosite.RemoveEmpty(strings.Split(form.Get("scope"), " "))...)
	if err != nil && errors.Is(err, errStorage) {
		// Not knowing is not "inactive": a resource server would turn a
		// live token away, or cache the answer.
		h.introspectionError(w, r, err)
		return
	}
	resp := &fosite.IntrospectionResponse{Active: err == nil}
	if err == nil {
		resp.AccessRequester, resp.TokenUse = ar, use
		if use == fosite.AccessToken {
			resp.AccessTokenType = fosite.BearerAccessToken
		}
	}
	h.provider.WriteIntrospectionResponse(ctx, w, resp)
}

func (h *Handler) introspectionError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeBackChannelError(w, r, "introspection refused", err)
}

// authenticator is fosite's client authentication, which Compose always
// provides (the provider is a *fosite.Fosite).
func (h *Handler) authenticator() clientAuthenticator {
	return h.provider.(clientAuthenticator)
}

// revoke is RFC 7009 revocation: the client must own the token; revoking
// one token of an authorization revokes its whole family. A token that is
// unknown or no longer active is "revoked" (200, §2.2); a token of another
// client is refused with unauthorized_client (§2.1), where fosite answers
// 200 as if it were revoked. A database failure is 503 (§2.2.1): fosite
// answers 200 to every error but invalid_request and invalid_client, so a
// client would take a token the database failed to revoke for revoked.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := checks(r, checkForm, checkClientNamed, requires("token")); err != nil {
		h.revocationError(w, r, err)
		return
	}
	if err := h.provider.NewRevocationRequest(ctx, r); err != nil {
		h.revocationError(w, r, err)
		return
	}
	h.provider.WriteRevocationResponse(ctx, w, nil)
}

func (h *Handler) revocationError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeBackChannelError(w, r, "revocation refused", err)
}

// par is RFC 9126 pushed authorization.
// A pushed request may not carry a request object, and its client_id must
// be the client that authenticated: with HTTP Basic credentials fosite
// authenticates the client named there but then loads the client the body
// names, so one client could push for another (and around that one's PAR
// requirement).
func (h *Handler) par(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := checks(r, checkForm, checkClientNamed); err != nil {
		h.parError(w, r, err)
		return
	}
	if r.Form.Has("request") {
		h.parError(w, r, fosite.ErrRequestNotSupported.WithHint("Request objects are not supported."))
		return
	}
	if id, _, ok := r.BasicAuth(); ok && r.Form.Get("client_id") != "" {
		if uid, err := url.QueryUnescape(id); err != nil || uid != r.Form.Get("client_id") {
			h.parError(w, r, fosite.ErrInvalidRequest.WithHint("client_id must name the authenticated client."))
			return
		}
	}
	ar, err := h.provider.NewPushedAuthorizeRequest(ctx, r)
	if err != nil {
		h.parError(w, r, err)
		return
	}
	// checkRequest's rules are the authorization endpoint's, among them
	// unauthorized_client for a client without the authorization_code grant.
	if err := h.checkRequest(ctx, ar); err != nil {
		h.parError(w, r, err)
		return
	}
	resp, err := h.provider.NewPushedAuthorizeResponse(ctx, ar, NewSession())
	if err != nil {
		h.parError(w, r, err)
		return
	}
	h.provider.WritePushedAuthorizeResponse(ctx, w, ar, resp)
}

func (h *Handler) parError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeBackChannelError(w, r, "pushed authorization refused", err)
}
