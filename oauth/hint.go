package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// jwtClockLeeway is the clock difference between nodes that JWT access
// token checks tolerate.
const jwtClockLeeway = 5 * time.Second

// hintClaims is what Propusk reads from an id_token_hint.
type hintClaims struct {
	Subject  string
	SID      string
	Audience []string
}

// verifyHint verifies an id_token_hint: an ID token Propusk issued (to
// clientID, when given). It may have expired (OIDC Core §3.1.2.1), and it
// may be signed by a key that no longer signs but is still kept. fosite
// checks hints only against the current key, which would break them at
// every rotation, so Propusk checks them itself. A JWT access token is not
// an ID token and is refused, though Propusk signed it too.
func (h *Handler) verifyHint(ctx context.Context, hint, clientID string) (hintClaims, error) {
	tok, err := jwt.ParseSigned(hint, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return hintClaims{}, fmt.Errorf("id_token_hint is not a signed JWT: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return hintClaims{}, errors.New("id_token_hint has no key ID")
	}
	if typ, _ := tok.Headers[0].ExtraHeaders["typ"].(string); strings.EqualFold(typ, "at+jwt") {
		return hintClaims{}, errors.New("id_token_hint is an access token")
	}
	key, ok, err := h.Keys.Verifier(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return hintClaims{}, err
	}
	if !ok {
		return hintClaims{}, errors.New("id_token_hint was not signed by a Propusk key")
	}
	var claims jwt.Claims
	var extra struct {
		SID string `json:"sid"`
	}
	if err := tok.Claims(key.Key, &claims, &extra); err != nil {
		return hintClaims{}, fmt.Errorf("id_token_hint signature: %w", err)
	}
	if claims.Issuer != h.Config.Issuer {
		return hintClaims{}, errors.New("id_token_hint was issued by another issuer")
	}
	if clientID != "" && !slices.Contains([]string(claims.Audience), clientID) {
		return hintClaims{}, errors.New("id_token_hint was issued to another client")
	}
	if claims.Subject == "" {
		return hintClaims{}, errors.New("id_token_hint has no subject")
	}
	return hintClaims{Subject: claims.Subject, SID: extra.SID, Audience: claims.Audience}, nil
}

// hintSubject verifies an id_token_hint and returns its subject.
func (h *Handler) hintSubject(ctx context.Context, hint, clientID string) (string, error) {
	c, err := h.verifyHint(ctx, hint, clientID)
	return c.Subject, err
}

// verifyJWT checks a JWT access token's signature against the kept keys
// and its expiry. The token is also looked up by signature in storage, so a
// revoked token fails there even while its JWT is still valid.
func (h *Handler) verifyJWT(ctx context.Context, token string) error {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return fosite.ErrInvalidTokenFormat.WithWrap(err)
	}
	key, ok, err := h.Keys.Verifier(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return err
	}
	if !ok {
		return fosite.ErrTokenSignatureMismatch
	}
	var claims jwt.Claims
	if err := tok.Claims(key.Key, &claims); err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	// A few seconds of leeway: a token signed on a node whose clock runs
	// ahead must not look issued in the future to one whose clock runs
	// behind. It cannot stretch a token's life: the stored grant it is
	// looked up by expires on the verifying node's clock, without leeway.
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: h.Config.Issuer, Time: h.Clock.Now()}, jwtClockLeeway); err != nil {
		return fosite.ErrTokenExpired.WithWrap(err)
	}
	return nil
}
