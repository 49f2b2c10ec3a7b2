package oauth

import (
	"encoding/json"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/store"
)

// Client is a stored relying party as fosite sees it.
type Client struct {
	store.Client
	jwks    *josev3.JSONWebKeySet
	authAlg string
	now     time.Time // when it was loaded: decides whether the previous secret still counts
}

// newClient wraps c. fosite v0.49 speaks go-jose v3, Propusk v4; the JWKS
// crosses over as JSON, key by key, so that it means what registration
// (package clients) took it to mean: a key of a type v3 does not know
// (X25519 …) is left out rather than making the whole set, and so the
// client, unusable; a key without "use" signs (RFC 7517 §4.2 makes "use"
// optional), where fosite would look only for use "sig".
func newClient(c store.Client, now time.Time) (*Client, error) {
	out := &Client{Client: c, now: now}
	if len(c.JWKS) > 0 {
		var raw struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(c.JWKS, &raw); err != nil {
			return nil, err
		}
		set := josev3.JSONWebKeySet{}
		for _, k := range raw.Keys {
			var key josev3.JSONWebKey
			if err := json.Unmarshal(k, &key); err != nil {
				continue
			}
			if key.Use == "" {
				key.Use = "sig"
			}
			set.Keys = append(set.Keys, key)
		}
		out.jwks = &set
		out.authAlg = clients.AssertionAlg(c.JWKS)
	}
	return out, nil
}

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret implements fosite.Client: the keyed hash (package clients).
func (c *Client) GetHashedSecret() []byte { return c.SecretHash }

// GetRotatedHashes implements fosite.ClientWithSecretRotation: the previous
// secret, while its grace period lasts.
func (c *Client) GetRotatedHashes() [][]byte {
	if len(c.PreviousSecretHash) > 0 && c.now.Before(c.PreviousSecretExpiresAt) {
		return [][]byte{c.PreviousSecretHash}
	}
	return nil
}

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes implements fosite.Client.
func (c *Client) GetGrantTypes() fosite.Arguments { return c.GrantTypes }

// GetResponseTypes implements fosite.Client: the authorization code flow
// only; implicit and hybrid are never offered.
func (c *Client) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }

// GetScopes implements fosite.Client.
func (c *Client) GetScopes() fosite.Arguments { return c.Scopes }

// IsPublic implements fosite.Client.
func (c *Client) IsPublic() bool { return c.Public }

// GetAudience implements fosite.Client. Propusk issues tokens for itself
// and the client; no extra audiences.
func (c *Client) GetAudience() fosite.Arguments { return nil }

// GetRequestURIs implements fosite.OpenIDConnectClient: request objects by
// reference are not supported (PAR replaces them without the SSRF surface).
func (c *Client) GetRequestURIs() []string { return nil }

// GetJSONWebKeys implements fosite.OpenIDConnectClient.
func (c *Client) GetJSONWebKeys() *josev3.JSONWebKeySet { return c.jwks }

// GetJSONWebKeysURI implements fosite.OpenIDConnectClient: keys are
// registered, never fetched.
func (c *Client) GetJSONWebKeysURI() string { return "" }

// GetRequestObjectSigningAlgorithm implements fosite.OpenIDConnectClient.
func (c *Client) GetRequestObjectSigningAlgorithm() string { return "" }

// GetTokenEndpointAuthMethod implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthMethod() string { return c.TokenEndpointAuthMethod }

// GetTokenEndpointAuthSigningAlgorithm implements fosite.OpenIDConnectClient.
// The algorithm is pinned by the client's registered keys, so an assertion
// cannot pick a weaker or confused one: EC P-256 keys sign with ES256, RSA
// keys with PS256, and a key's own "alg" wins when registered.
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string { return c.authAlg }

// IDTokenAlg is the algorithm the client's ID tokens are signed with.
func (c *Client) IDTokenAlg() string {
	if c.IDTokenSigningAlg == AlgRS256 {
		return AlgRS256
	}
	return AlgES256
}

// GetResponseModes implements fosite.ResponseModeClient: query and
// form_post (fragment only serves implicit and hybrid, which are off).
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFormPost}
}

var (
	_ fosite.Client                   = (*Client)(nil)
	_ fosite.ClientWithSecretRotation = (*Client)(nil)
	_ fosite.OpenIDConnectClient      = (*Client)(nil)
	_ fosite.ResponseModeClient       = (*Client)(nil)
)
