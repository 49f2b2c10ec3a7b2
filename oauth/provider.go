package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/propusk/propusk/clients"
)

// Lifetimes. Codes live a minute at most (RFC 9700 asks for short-lived,
// one-time codes; fosite's default is 15 minutes).
const (
	DefaultCodeLifespan         = time.Minute
	DefaultAccessTokenLifespan  = 15 * time.Minute
	DefaultIDTokenLifespan      = 15 * time.Minute
	DefaultRefreshTokenLifespan = 30 * 24 * time.Hour // absolute: rotation never extends a family
	DefaultPARLifespan          = 90 * time.Second
)

// Config is what the provider needs beyond its storage.
type Config struct {
	Issuer string // byte-identical in every token and in discovery

	CodeLifespan         time.Duration
	AccessTokenLifespan  time.Duration
	IDTokenLifespan      time.Duration
	RefreshTokenLifespan time.Duration
	PARLifespan          time.Duration

	// TokenKey is the HMAC key for opaque tokens (at least 32 bytes),
	// shared by every node through the database.
	TokenKey []byte
	// SecretsHasher compares client secrets (clients.SecretHasher: a keyed
	// hash, not bcrypt, see package clients).
	SecretsHasher fosite.Hasher
	// SigningKey returns the current ID-token signing key: a go-jose v3
	// *JSONWebKey (its kid reaches the token header), which is what fosite
	// v0.49 accepts.
	SigningKey func(ctx context.Context) (any, error)
	// VerifyJWT verifies a JWT Propusk signed (any published key) and its
	// expiry; nil leaves JWT access tokens to fosite's current-key check.
	VerifyJWT func(ctx context.Context, token string) error
}

func (c *Config) withDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CodeLifespan, DefaultCodeLifespan)
	def(&c.AccessTokenLifespan, DefaultAccessTokenLifespan)
	def(&c.IDTokenLifespan, DefaultIDTokenLifespan)
	def(&c.RefreshTokenLifespan, DefaultRefreshTokenLifespan)
	def(&c.PARLifespan, DefaultPARLifespan)
}

// Endpoint paths, relative to the issuer.
const (
	PathAuthorize  = "/oauth2/auth"
	PathToken      = "/oauth2/token"
	PathPAR        = "/oauth2/par"
	PathIntrospect = "/oauth2/introspect"
	PathRevoke     = "/oauth2/revoke"
	PathUserinfo   = "/userinfo"
	PathJWKS       = "/.well-known/jwks.json"
	PathEndSession = "/oauth2/sessions/logout"
	PathDiscovery  = "/.well-known/openid-configuration"
)

// newFosite composes fosite with Propusk's choices: authorization code with
// PKCE (S256 only), refresh tokens, client credentials, OpenID Connect,
// introspection, revocation and PAR. No implicit, hybrid, password or
// JWT-bearer grants: they are not composed, so they cannot be reached.
func newFosite(cfg Config, st *Storage) (fosite.OAuth2Provider, *fosite.Config, error) {
	cfg.withDefaults()
	if len(cfg.TokenKey) < 32 {
		return nil, nil, errors.New("oauth: token key must be at least 32 bytes")
	}
	if cfg.SigningKey == nil || cfg.SecretsHasher == nil {
		return nil, nil, errors.New("oauth: signing key and secrets hasher are required")
	}
	if _, err := url.Parse(cfg.Issuer); err != nil || cfg.Issuer == "" {
		return nil, nil, errors.New("oauth: issuer must be an absolute URL")
	}
	fc := &fosite.Config{
		IDTokenIssuer:     cfg.Issuer,
		AccessTokenIssuer: cfg.Issuer,
		TokenURL:          cfg.Issuer + PathToken,

		AuthorizeCodeLifespan:          cfg.CodeLifespan,
		AccessTokenLifespan:            cfg.AccessTokenLifespan,
		IDTokenLifespan:                cfg.IDTokenLifespan,
		RefreshTokenLifespan:           cfg.RefreshTokenLifespan,
		PushedAuthorizeContextLifespan: cfg.PARLifespan,

		GlobalSecret:        cfg.TokenKey,
		ClientSecretsHasher: cfg.SecretsHasher,
		ScopeStrategy:       fosite.ExactScopeStrategy,
		// Refresh tokens only for grants that include offline_access.
		RefreshTokenScopes: []string{"offline_access"},

		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		// No minimum length for state or nonce: no standard sets one, and
		// PKCE is the CSRF defence. 1, not 0: fosite reads 0 as 8. A
		// request without state is let through by provider (request.go).
		MinParameterEntropy: 1,

		RedirectSecureChecker:      func(_ context.Context, u *url.URL) bool { return redirectSecure(u) },
		SendDebugMessagesToClients: false,
		OmitRedirectScopeParam:     true,
		// RFC 9068 names the scope claim "scope", a space-separated string.
		JWTScopeClaimKey: jwt.JWTScopeFieldString,
	}
	keyGetter := func(ctx context.Context) (any, error) { return cfg.SigningKey(ctx) }
	hmac := compose.NewOAuth2HMACStrategy(fc)
	signer := &jwt.DefaultSigner{GetPrivateKey: keyGetter}
	strategy := &compose.CommonStrategy{
		CoreStrategy: &accessTokens{HMACSHAStrategy: hmac,
			jwt:    &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: hmac, Config: fc},
			verify: cfg.VerifyJWT},
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(keyGetter, fc),
		Signer:                     signer,
	}
	p := compose.Compose(fc, st, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
		compose.PushedAuthorizeHandlerFactory,
	)
	fc.TokenEndpointHandlers = append(fosite.TokenEndpointHandlers{grantGuard{}}, fc.TokenEndpointHandlers...)
	// A client assertion may name the issuer (rfc7523bis) or any endpoint
	// it authenticates the client at, not only the token endpoint: a
	// resource server introspecting with private_key_jwt addresses the
	// introspection endpoint.
	f := p.(*fosite.Fosite)
	f.Config = &assertionAudiences{Config: fc, audiences: []string{
		cfg.Issuer, cfg.Issuer + PathToken, cfg.Issuer + PathPAR, cfg.Issuer + PathIntrospect, cfg.Issuer + PathRevoke},
		fosite: f}
	return provider{f}, fc, nil
}

// redirectSecure accepts https, http only on loopback (RFC 8252 §7.3), and
// private-use schemes of native apps (§7.1). fosite's default also lets
// http through for any *.localhost name; registration (package clients)
// already refuses those, and this applies registration's own rule.
func redirectSecure(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return clients.IsLoopbackHost(u.Hostname())
	default:
		// A native app's private-use scheme is a reversed domain name
		// (RFC 8252 §7.1), so it has a dot; that also keeps out
		// javascript:, data: and the like. Registration checks the same.
		return strings.Contains(u.Scheme, ".")
	}
}
