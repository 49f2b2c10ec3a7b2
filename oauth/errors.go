package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// Errors are mapped here, once: store errors to fosite's storage contract
// (fositeErr), any failure to the OAuth error a client is told
// (protocolError), and that to the answer of each side: the back channel's
// JSON (RFC 6749 §5.2, backChannelError) and the front channel's redirect
// or error page (authorizeError). Handlers return or pass on errors; they
// do not pick codes themselves.

// fositeErr is the one place that maps store errors to fosite's storage
// contract: not found becomes fosite.ErrNotFound, a lost race
// fosite.ErrSerializationFailure; anything else is marked errStorage and
// passes on for fosite to answer server_error.
func fositeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", fosite.ErrNotFound, err)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrAlreadyExists):
		return fmt.Errorf("%w: %w", fosite.ErrSerializationFailure, err)
	}
	return fmt.Errorf("%w: %w", errStorage, err)
}

// errStorage marks a failure of the database itself. fosite folds some of
// them into protocol errors (a client it cannot load becomes
// invalid_client); the pages look for this mark to say "try again" instead
// of "bad request".
var errStorage = errors.New("storage unavailable")

// storageFailure marks err, a failure of the database met outside
// fosite's storage (a transaction of Propusk's own), as errStorage, unless
// it is already a protocol error.
func storageFailure(err error) error {
	if err == nil || errors.As(err, new(*fosite.RFC6749Error)) || errors.Is(err, errStorage) {
		return err
	}
	return fmt.Errorf("%w: %w", errStorage, err)
}

// protocolError is the OAuth error a failure stands for, on either side:
//   - A database failure is temporarily_unavailable, whatever fosite
//     folded it into: a client must not be told its credentials or its
//     grant are bad (and drop them) because a node lost its database.
//     store.ErrConflict is a lock held past its timeout (fositeErr made it
//     fosite's ErrSerializationFailure, whose code "error" would otherwise
//     read as ErrUnknownRequest's and become a 500).
//   - fosite's own codes (jti_known, request_unauthorized,
//     scope_not_granted …) become the RFC code they stand for.
func protocolError(err error) *fosite.RFC6749Error {
	if errors.Is(err, errStorage) || errors.Is(err, store.ErrConflict) || errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		debug := fosite.ErrorToRFC6749Error(err).DebugField
		return fosite.ErrTemporarilyUnavailable.WithHint("The provider is temporarily unavailable; try again.").WithWrap(err).WithDebug(debug)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	as := func(e *fosite.RFC6749Error) *fosite.RFC6749Error {
		out := e.WithWrap(err).WithDebug(rfc.DebugField)
		if rfc.HintField != "" {
			out = out.WithHint(rfc.HintField)
		}
		return out
	}
	switch rfc.ErrorField {
	case fosite.ErrJTIKnown.ErrorField:
		// A replayed client assertion is a failed client authentication
		// (RFC 7523 §3.2), like any wrong credential.
		rfc = as(fosite.ErrInvalidClient)
	case fosite.ErrRequestUnauthorized.ErrorField:
		rfc = as(fosite.ErrInvalidClient)
	case fosite.ErrScopeNotGranted.ErrorField, fosite.ErrTokenExpired.ErrorField, fosite.ErrTokenSignatureMismatch.ErrorField,
		fosite.ErrTokenClaim.ErrorField, fosite.ErrInactiveToken.ErrorField, fosite.ErrNotFound.ErrorField:
		rfc = as(fosite.ErrInvalidGrant)
	case fosite.ErrInsufficientEntropy.ErrorField, fosite.ErrInvalidState.ErrorField, fosite.ErrUnsupportedResponseMode.ErrorField:
		rfc = as(fosite.ErrInvalidRequest)
	case fosite.ErrMisconfiguration.ErrorField, fosite.ErrUnknownRequest.ErrorField:
		rfc = as(fosite.ErrServerError)
	}
	return rfc
}

// retryAfter is the Retry-After of a 503: seconds, long enough for a
// database fail-over to be noticed, short enough not to stall a login.
const retryAfter = "5"

// writeUnavailable answers 503 temporarily_unavailable with Retry-After,
// for the endpoints that write their own JSON (userinfo, JWKS): a database
// outage must never look like an answer about the token.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", retryAfter)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable",
		"error_description": "The provider is temporarily unavailable; try again."})
}

// backChannelError normalises err to what RFC 6749 §5.2 (and RFC 7009,
// 7662 and 9126, which refer to it) lets a client see:
//
//   - A database failure is 503 temporarily_unavailable with Retry-After,
//     whatever fosite folded it into: a client must not be told its
//     credentials or its grant are bad (and drop them) because a node lost
//     its database.
//   - fosite's own codes (jti_known, request_unauthorized,
//     scope_not_granted …) become the RFC code they stand for.
//   - invalid_client is 401 with a Basic challenge when the client sent an
//     Authorization header (§5.2 asks for the challenge of the scheme it
//     used) or no credentials at all; a client that authenticated in the
//     body or with an assertion gets 400 and no challenge — no HTTP
//     scheme was used, and a Basic challenge makes libraries such as
//     openid-client report the challenge instead of the OAuth error.
//   - Everything else a client did wrong is 400.
func backChannelError(r *http.Request, err error) *fosite.RFC6749Error {
	rfc := protocolError(err)
	out := *rfc
	switch {
	case out.ErrorField == fosite.ErrInvalidClient.ErrorField && challenged(r):
		out.CodeField = http.StatusUnauthorized
	case out.CodeField >= http.StatusInternalServerError:
	default:
		out.CodeField = http.StatusBadRequest
	}
	return &out
}

// challenged reports whether a failed client authentication earns a Basic
// challenge: the client used the Authorization header, or sent no client
// credentials at all (then the challenge says which scheme to use).
func challenged(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	return r.PostForm.Get("client_secret") == "" && r.PostForm.Get("client_assertion") == "" &&
		r.PostForm.Get("client_assertion_type") == ""
}

// writeBackChannelError logs and writes an error of a back-channel
// endpoint as RFC 6749 §5.2 JSON.
func (h *Handler) writeBackChannelError(w http.ResponseWriter, r *http.Request, msg string, err error) {
	rfc := backChannelError(r, err)
	switch rfc.CodeField {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="propusk", charset="UTF-8"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfter)
	}
	h.logOAuthError(r, msg, rfc)
	h.provider.WriteAccessError(r.Context(), w, nil, rfc)
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

// authorizeError answers a failed authorization request. When fosite has
// validated the redirect URI against the client, the error goes back to
// the client; otherwise (unknown client, unregistered redirect URI) the
// person sees an error page and is never redirected: redirecting to an
// unchecked URI would make Propusk an open redirector.
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	// A database failed or busy is "try again" (RFC 6749 §4.1.2.1), as
	// the back channel says it, not server_error, the redirect's 500.
	rfc := protocolError(err)
	h.logOAuthError(r, "authorization refused", rfc)
	if ar == nil || !ar.IsRedirectURIValid() || ar.GetRedirectURI() == nil {
		if rfc.CodeField >= http.StatusInternalServerError {
			// Propusk's own failure (a database gone away), not the
			// request's: "try again", not "bad request".
			h.pageError(w, r, page.Unavailable(err))
			return
		}
		h.pageError(w, r, page.BadRequest(err))
		return
	}
	params := url.Values{"error": {rfc.ErrorField}}
	if d := rfc.GetDescription(); d != "" {
		params.Set("error_description", d)
	}
	h.respond(w, r, ar, params)
}

// pageError shows a localized error page with a reference that is also
// logged.
func (h *Handler) pageError(w http.ResponseWriter, r *http.Request, err error) {
	h.Pages.Error(w, r, page.ChooseLanguage(r, r.URL.Query().Get("ui_locales")), h.Logger, err)
}
