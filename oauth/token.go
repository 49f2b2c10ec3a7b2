package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
)

// token is the token endpoint: code exchange, refresh and client
// credentials, through fosite.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := h.provider.NewAccessRequest(ctx, r, NewSession())
	if err != nil {
		h.tokenError(w, r, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// The client acts for itself: it gets the scopes it asked for,
		// which fosite has checked against its registration. Never
		// offline_access: there is no person to stay signed in.
		for _, s := range ar.GetRequestedScopes() {
			if s != "offline_access" && s != "openid" {
				ar.GrantScope(s)
			}
		}
	}
	if gt := ar.GetGrantTypes(); gt.ExactOne("refresh_token") || gt.ExactOne("authorization_code") {
		if err := h.personActive(ctx, ar); err != nil {
			h.tokenError(w, r, ar, err)
			return
		}
	}
	if c, ok := ar.GetClient().(*Client); ok {
		ctx = withSigningAlg(ctx, c.IDTokenAlg())
	}
	resp, err := h.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		err = h.afterTokenFailure(ctx, ar, err)
		h.tokenError(w, r, ar, err)
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
		return fmt.Errorf("%w: %w", errStorage, err)
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

// tokenError writes an OAuth error. A failed client authentication is 401
// with a WWW-Authenticate challenge (RFC 6749 §5.2); server errors are
// logged with their cause, which the client never sees.
func (h *Handler) tokenError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	err = storageFailure(err)
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.ErrorField == fosite.ErrJTIKnown.ErrorField {
		// A replayed client assertion is a failed client authentication
		// (RFC 7523 §3.2): 401 invalid_client, like any wrong credential.
		err = fosite.ErrInvalidClient.WithHint("The client assertion was already used.").WithWrap(err)
		rfc = fosite.ErrorToRFC6749Error(err)
	}
	if rfc.CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
	}
	h.logOAuthError(r, "token request refused", rfc)
	h.provider.WriteAccessError(r.Context(), w, ar, err)
}

// storageFailure answers server_error when the database failed, whatever
// protocol error fosite folded the failure into: a client must not be told
// its credentials are wrong (invalid_client) because a node lost its
// database.
func storageFailure(err error) error {
	if err != nil && errors.Is(err, errStorage) {
		return fosite.ErrServerError.WithHint("The provider is temporarily unavailable; try again.").WithWrap(err)
	}
	return err
}

func (h *Handler) logOAuthError(r *http.Request, msg string, rfc *fosite.RFC6749Error) {
	level := slog.LevelInfo
	if rfc.CodeField >= 500 {
		level = slog.LevelError
	}
	h.Logger.Log(r.Context(), level, msg, "error", rfc.ErrorField, "hint", rfc.HintField, "debug", rfc.DebugField, "cause", errString(rfc.Cause()))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// introspect is RFC 7662 introspection; the caller must authenticate.
// Only authenticated clients may introspect: fosite would also accept any
// bearer access token as the caller's credential, which would let every
// token holder probe every other token, so Propusk refuses that form —
// wherever the bearer token is: fosite looks in the Authorization header,
// then in an access_token parameter of the body or query, and prefers that
// parameter even to HTTP Basic credentials.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if fosite.AccessTokenFromRequest(r) != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
		h.provider.WriteIntrospectionError(ctx, w, fosite.ErrRequestUnauthorized.WithHint("Authenticate as a client (HTTP Basic)."))
		return
	}
	resp, err := h.provider.NewIntrospectionRequest(ctx, r, NewSession())
	if err != nil {
		err = storageFailure(err)
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.CodeField == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
		}
		if !errors.Is(err, fosite.ErrInactiveToken) {
			h.logOAuthError(r, "introspection refused", rfc)
		}
		h.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	h.provider.WriteIntrospectionResponse(ctx, w, resp)
}

// revoke is RFC 7009 revocation: the client must own the token; revoking
// one token of an authorization revokes its whole family.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := storageFailure(h.provider.NewRevocationRequest(ctx, r))
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.CodeField >= http.StatusInternalServerError {
			// A database failure (server_error, temporarily_unavailable):
			// fosite answers 200 to every error but invalid_request and
			// invalid_client, so a client would take a token the database
			// failed to revoke for revoked. RFC 7009 §2.2.1: 503, try again.
			h.logOAuthError(r, "revocation failed", rfc)
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
				"error_description": "The token could not be revoked now; try again."})
			return
		}
		if rfc.CodeField == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
		}
		h.logOAuthError(r, "revocation refused", rfc)
	}
	h.provider.WriteRevocationResponse(ctx, w, err)
}

// par is RFC 9126 pushed authorization.
// A pushed request may not carry a request object, and its client_id must
// be the client that authenticated: with HTTP Basic credentials fosite
// authenticates the client named there but then loads the client the body
// names, so one client could push for another (and around that one's PAR
// requirement).
func (h *Handler) par(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err == nil {
		if r.Form.Has("request") {
			h.parError(w, r, fosite.NewAuthorizeRequest(), fosite.ErrRequestNotSupported.WithHint("Request objects are not supported."))
			return
		}
		if id, _, ok := r.BasicAuth(); ok && r.Form.Get("client_id") != "" {
			if uid, err := url.QueryUnescape(id); err != nil || uid != r.Form.Get("client_id") {
				h.parError(w, r, fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHint("client_id must name the authenticated client."))
				return
			}
		}
	}
	ar, err := h.provider.NewPushedAuthorizeRequest(ctx, r)
	if err != nil {
		h.parError(w, r, ar, err)
		return
	}
	if err := h.checkRequest(ctx, ar); err != nil {
		h.parError(w, r, ar, err)
		return
	}
	resp, err := h.provider.NewPushedAuthorizeResponse(ctx, ar, NewSession())
	if err != nil {
		h.parError(w, r, ar, err)
		return
	}
	h.provider.WritePushedAuthorizeResponse(ctx, w, ar, resp)
}

func (h *Handler) parError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	err = storageFailure(err)
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
	}
	h.logOAuthError(r, "pushed authorization refused", rfc)
	h.provider.WritePushedAuthorizeError(r.Context(), w, ar, err)
}
