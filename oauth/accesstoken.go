package oauth

import (
	"context"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"
)

// accessTokens chooses the access-token format per client: opaque HMAC
// tokens by default, RFC 9068 JWTs (typ at+jwt) for clients registered
// for them, so their resource servers can check tokens offline. Either way
// the token is stored by its signature, so introspection and revocation
// work the same; codes and refresh tokens are always opaque.
type accessTokens struct {
	*oauth2.HMACSHAStrategy
	jwt *oauth2.DefaultJWTStrategy
	// verify checks a JWT access token against every published key; nil
	// falls back to fosite, which knows only the current key (a rotation
	// would then break tokens signed minutes before).
	verify func(ctx context.Context, token string) error
}

// isJWT tells the formats apart: an opaque token has one dot
// (key.signature), a JWT two.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// AccessTokenSignature implements oauth2.AccessTokenStrategy.
func (a *accessTokens) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return a.jwt.AccessTokenSignature(ctx, token)
	}
	return a.HMACSHAStrategy.AccessTokenSignature(ctx, token)
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (a *accessTokens) GenerateAccessToken(ctx context.Context, req fosite.Requester) (string, string, error) {
	c, ok := req.GetClient().(*Client)
	if !ok || c.AccessTokenFormat != "jwt" {
		return a.HMACSHAStrategy.GenerateAccessToken(ctx, req)
	}
	sess, _ := req.GetSession().(*Session)
	if sess == nil {
		sess = NewSession()
	}
	return a.jwt.GenerateAccessToken(ctx, sessionOverride{Requester: req, session: &jwtAccessSession{Session: sess, clientID: c.ID, issuer: a.jwt.Config.GetAccessTokenIssuer(ctx)}})
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (a *accessTokens) ValidateAccessToken(ctx context.Context, req fosite.Requester, token string) error {
	if !isJWT(token) {
		return a.HMACSHAStrategy.ValidateAccessToken(ctx, req, token)
	}
	if a.verify != nil {
		return a.verify(ctx, token)
	}
	return a.jwt.ValidateAccessToken(ctx, req, token)
}

// sessionOverride is a request seen with another session.
type sessionOverride struct {
	fosite.Requester
	session fosite.Session
}

func (s sessionOverride) GetSession() fosite.Session { return s.session }

// jwtAccessSession gives fosite's JWT strategy RFC 9068's claims: sub (the
// person, or the client itself for client credentials), client_id, aud
// (Propusk's own API unless the request named an audience), auth_time, acr
// and amr when a person signed in.
type jwtAccessSession struct {
	*Session
	clientID, issuer string
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *jwtAccessSession) GetJWTClaims() jwt.JWTClaimsContainer {
	sub := s.Subject
	if sub == "" {
		sub = s.clientID
	}
	extra := map[string]any{"client_id": s.clientID}
	if c := s.Claims; c != nil && !c.AuthTime.IsZero() {
		extra["auth_time"] = c.AuthTime.Unix()
		if c.AuthenticationContextClassReference != "" {
			extra["acr"] = c.AuthenticationContextClassReference
		}
		if len(c.AuthenticationMethodsReferences) > 0 {
			extra["amr"] = c.AuthenticationMethodsReferences
		}
	}
	return defaultAudience{JWTClaims: &jwt.JWTClaims{Subject: sub, Extra: extra}, aud: []string{s.issuer}}
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *jwtAccessSession) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
}

// defaultAudience fills aud when the request granted none (RFC 9068
// requires it).
type defaultAudience struct {
	*jwt.JWTClaims
	aud []string
}

func (d defaultAudience) With(expiry time.Time, scope, audience []string) jwt.JWTClaimsContainer {
	if len(audience) == 0 {
		audience = d.aud
	}
	return d.JWTClaims.With(expiry, scope, audience)
}

var (
	_ oauth2.CoreStrategy        = (*accessTokens)(nil)
	_ oauth2.JWTSessionContainer = (*jwtAccessSession)(nil)
)
