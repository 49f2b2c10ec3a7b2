package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// discoveryDocument is OpenID Connect Discovery 1.0 / RFC 8414 metadata.
// It advertises exactly what Propusk honours: nothing more, nothing less.
type discoveryDocument struct {
	Issuer                             string   `json:"issuer"`
	AuthorizationEndpoint              string   `json:"authorization_endpoint"`
	TokenEndpoint                      string   `json:"token_endpoint"`
	UserinfoEndpoint                   string   `json:"userinfo_endpoint"`
	JWKSURI                            string   `json:"jwks_uri"`
	IntrospectionEndpoint              string   `json:"introspection_endpoint"`
	RevocationEndpoint                 string   `json:"revocation_endpoint"`
	PushedAuthorizationRequestEndpoint string   `json:"pushed_authorization_request_endpoint"`
	EndSessionEndpoint                 string   `json:"end_session_endpoint"`
	ScopesSupported                    []string `json:"scopes_supported"`
	ResponseTypesSupported             []string `json:"response_types_supported"`
	ResponseModesSupported             []string `json:"response_modes_supported"`
	GrantTypesSupported                []string `json:"grant_types_supported"`
	SubjectTypesSupported              []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported   []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs       []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported      []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                    []string `json:"claims_supported"`
	ClaimsParameterSupported           bool     `json:"claims_parameter_supported"`
	RequestParameterSupported          bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported       bool     `json:"request_uri_parameter_supported"`
	ACRValuesSupported                 []string `json:"acr_values_supported"`
	UILocalesSupported                 []string `json:"ui_locales_supported"`
	ClaimsLocalesSupported             []string `json:"claims_locales_supported"`
	PromptValuesSupported              []string `json:"prompt_values_supported"`
	AuthorizationResponseIssParameter  bool     `json:"authorization_response_iss_parameter_supported"`
	FrontchannelLogoutSupported        bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported         bool     `json:"backchannel_logout_supported"`
}

func (h *Handler) discoveryDoc() discoveryDocument {
	iss := h.Config.Issuer
	// Introspection needs an authenticated client; a public client may
	// revoke its own tokens with its client_id alone (RFC 7009 §2.1), so
	// revocation keeps none.
	authenticatedMethods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	authMethods := append(slices.Clone(authenticatedMethods), "none")
	// private_key_jwt assertions are checked alike at every back-channel
	// endpoint; RFC 8414 §2 asks each endpoint that lists it to say with
	// which algorithms.
	assertionAlgs := []string{"ES256", "PS256"}
	return discoveryDocument{
		Issuer:                             iss,
		AuthorizationEndpoint:              iss + PathAuthorize,
		TokenEndpoint:                      iss + PathToken,
		UserinfoEndpoint:                   iss + PathUserinfo,
		JWKSURI:                            iss + PathJWKS,
		IntrospectionEndpoint:              iss + PathIntrospect,
		RevocationEndpoint:                 iss + PathRevoke,
		PushedAuthorizationRequestEndpoint: iss + PathPAR,
		EndSessionEndpoint:                 iss + PathEndSession,
		ScopesSupported:                    ScopesSupported,
		ResponseTypesSupported:             []string{"code"},
		ResponseModesSupported:             []string{"query", "form_post"},
		GrantTypesSupported:                []string{"authorization_code", "refresh_token", "client_credentials"},
		SubjectTypesSupported:              []string{"public"},
		IDTokenSigningAlgValuesSupported:   SigningAlgorithms,
		TokenEndpointAuthMethodsSupported:  authMethods,
		TokenEndpointAuthSigningAlgs:       assertionAlgs,
		IntrospectionAuthMethodsSupported:  authenticatedMethods,
		IntrospectionAuthSigningAlgs:       assertionAlgs,
		RevocationAuthMethodsSupported:     authMethods,
		RevocationAuthSigningAlgs:          assertionAlgs,
		CodeChallengeMethodsSupported:      []string{"S256"},
		ClaimsSupported:                    ClaimsSupported,
		ClaimsParameterSupported:           true,
		RequestParameterSupported:          false,
		RequestURIParameterSupported:       false,
		ACRValuesSupported:                 ACRValuesSupported,
		UILocalesSupported:                 []string{"ru", "en"},
		ClaimsLocalesSupported:             []string{"ru", "en"},
		PromptValuesSupported:              []string{"none", "login", "consent"},
		AuthorizationResponseIssParameter:  true,
	}
}

// PathAuthorizationServerMetadata is RFC 8414 metadata: the same document
// as discovery, for OAuth clients that look there.
const PathAuthorizationServerMetadata = "/.well-known/oauth-authorization-server"

// metadata serves the discovery document, encoded once: it depends on
// nothing but the configuration, so it answers while the database is down.
// metadataCacheControl is how long relying parties may keep discovery and
// the JWKS: short enough that a rotated-in key (published an hour ahead)
// reaches every one of them before it signs.
var metadataCacheControl = fmt.Sprintf("public, max-age=%d", int(JWKSMaxAge.Seconds()))

func (h *Handler) metadata() http.Handler {
	body, err := json.Marshal(h.discoveryDoc())
	if err != nil {
		panic(fmt.Sprintf("oauth: encode the discovery document: %v", err)) // static types: cannot happen
	}
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", metadataCacheControl)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(body)
	})
}

// jwks serves the JWKS from memory (KeySet.PublishedJSON): relying parties
// keep verifying tokens through a database outage.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	body, err := h.Keys.PublishedJSON(r.Context())
	if err != nil {
		if body == nil {
			h.Logger.ErrorContext(r.Context(), "publish jwks", "err", err)
			writeUnavailable(w)
			return
		}
		h.Logger.WarnContext(r.Context(), "publish jwks: serving the last good one", "err", err)
	}
	w.Header().Set("Cache-Control", metadataCacheControl)
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
