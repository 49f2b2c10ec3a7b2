package oauth

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestDiscoveryJWTAuthSigningAlgs: RFC 8414 §2 — when an endpoint's
// *_auth_methods_supported lists private_key_jwt (or client_secret_jwt),
// its *_auth_signing_alg_values_supported MUST be present. Introspection
// (newly) and revocation list private_key_jwt without it, so a strict
// RFC 8414 client cannot tell which algorithms to sign the assertion with.
func TestDiscoveryJWTAuthSigningAlgs(t *testing.T) {
	h := &Handler{Config: Config{Issuer: "https://id.example.org"}}
	b, err := json.Marshal(h.discoveryDoc())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"token_endpoint", "introspection_endpoint", "revocation_endpoint"} {
		var methods []string
		for _, m := range doc[ep+"_auth_methods_supported"].([]any) {
			methods = append(methods, m.(string))
		}
		if !slices.Contains(methods, "private_key_jwt") && !slices.Contains(methods, "client_secret_jwt") {
			continue
		}
		if algs, ok := doc[ep+"_auth_signing_alg_values_supported"].([]any); !ok || len(algs) == 0 {
			t.Errorf("%s_auth_methods_supported lists %v but %s_auth_signing_alg_values_supported is missing (RFC 8414 §2: MUST be present)", ep, methods, ep)
		}
	}
}
