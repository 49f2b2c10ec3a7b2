package oauth

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/store"
)

// userinfo returns the claims the access token's granted scopes release
// (OIDC Core §5.3). GET and POST; the token in the Authorization header
// (or, as RFC 6750 allows, the access_token form field of a POST).
func (h *Handler) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="propusk"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "No access token."})
		return
	}
	_, ar, err := h.provider.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil {
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
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	claims := accountClaims(acct, ar.GetGrantedScopes())
	claims["sub"] = acct.ID
	writeJSON(w, http.StatusOK, claims)
}
