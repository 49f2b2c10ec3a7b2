package oauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
)

// userinfo returns the claims the access token's granted scopes release
// (OIDC Core §5.3). GET and POST; the token in the Authorization header
// or, as RFC 6750 §2.2 allows, the access_token field of a POSTed form —
// never in the URL (§2.3: it would end up in logs and Referer headers).
// Only an access token: fosite's IntrospectToken also accepts a refresh
// token when asked for an access token, and a leaked refresh token of a
// confidential client must not read personal data without the client's
// credentials.
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	token := bearerToken(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="propusk"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "No access token."})
		return
	}
	use, ar, err := h.provider.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil && errors.Is(err, errStorage) {
		h.Logger.ErrorContext(ctx, "userinfo: read token", "err", err)
		writeUnavailable(w)
		return
	}
	if err != nil || use != fosite.AccessToken {
		w.Header().Set("WWW-Authenticate", `Bearer realm="propusk", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is not active."})
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="propusk", error="insufficient_scope", scope="openid"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "The token was not granted the openid scope."})
		return
	}
	acct, err := h.Accounts.GetAccount(ctx, ar.GetSession().GetSubject())
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Disabled()) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="propusk", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The account is not available."})
		return
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "userinfo: read account", "err", err)
		writeUnavailable(w)
		return
	}
	claims := accountClaims(acct, ar.GetGrantedScopes())
	claims["sub"] = acct.ID
	writeJSON(w, http.StatusOK, claims)
}

// bearerToken is the access token of a request to a protected resource:
// from "Authorization: Bearer …", else from the access_token field of a
// form-encoded POST body (RFC 6750 §2.1, §2.2); the query is not read.
func bearerToken(r *http.Request) string {
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	if r.Method == http.MethodPost {
		return r.PostFormValue("access_token")
	}
	return ""
}
