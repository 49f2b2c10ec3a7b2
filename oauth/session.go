package oauth

import (
	"encoding/json"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what Propusk keeps with every grant: the ID-token claims and
// headers fosite needs, plus the SSO session the grant came from.
type Session struct {
	openid.DefaultSession
	// SID is the SSO session's public ID (the ID token's sid claim); logout
	// finds the grants of a session by it.
	SID string `json:"sid,omitempty"`
	// FamilyExpiresAt is when the grant's refresh tokens end, however
	// often they rotate: fosite restarts the lifetime at every refresh,
	// Propusk keeps it absolute (set at the first refresh token).
	FamilyExpiresAt time.Time `json:"family_expires_at,omitzero"`
}

// NewSession returns an empty session with the parts fosite dereferences.
func NewSession() *Session {
	return &Session{DefaultSession: *openid.NewDefaultSession()}
}

// SSOSessionID implements the storage adapter's sessionIDer.
func (s *Session) SSOSessionID() string { return s.SID }

// Clone implements fosite.Session. A session is plain JSON by design (it is
// stored that way), so a round trip through its stored form is a faithful
// deep copy.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(s.toJSON())
	if err != nil {
		panic("oauth: session does not serialise: " + err.Error())
	}
	c := new(Session)
	w := c.decodeInto()
	if err := json.Unmarshal(b, w); err != nil {
		panic("oauth: session does not deserialise: " + err.Error())
	}
	c.fromJSON(w)
	return c
}

// GetExtraClaims implements fosite.ExtraClaimsSession, which fosite's
// introspection response adds to the standard members: for a token issued
// to a person, how and when they signed in — acr and auth_time, as RFC 9470
// §6.2 asks, so a resource server can demand a step-up (the same values as
// the ID token's). A client's own token (client_credentials) has neither.
func (s *Session) GetExtraClaims() map[string]any {
	if s.Claims == nil {
		return nil
	}
	extra := map[string]any{}
	if acr := s.Claims.AuthenticationContextClassReference; acr != "" {
		extra["acr"] = acr
	}
	if !s.Claims.AuthTime.IsZero() {
		extra["auth_time"] = s.Claims.AuthTime.Unix()
	}
	return extra
}

var (
	_ openid.Session            = (*Session)(nil)
	_ fosite.ExtraClaimsSession = (*Session)(nil)
)

// NewFositeSession is NewSession typed for fosite's session factories.
func NewFositeSession() fosite.Session { return NewSession() }

// sessionJSON is Session's stored form: the same keys as encoding/json
// gives Session, but zero values left out. Every token request and every
// introspection decodes one, and encoding/json's cost grows with the bytes
// and literals it scans; an access token's session is mostly zero values
// (no nonce, hashes or expiry claims) and shrinks by about a third.
type sessionJSON struct {
	Claims          *idTokenClaimsJSON             `json:"id_token_claims,omitempty"`
	Headers         *jwt.Headers                   `json:"headers,omitempty"`
	ExpiresAt       map[fosite.TokenType]time.Time `json:"expires_at,omitempty"`
	Username        string                         `json:"username,omitempty"`
	Subject         string                         `json:"subject,omitempty"`
	SID             string                         `json:"sid,omitempty"`
	FamilyExpiresAt time.Time                      `json:"family_expires_at,omitzero"`
}

// idTokenClaimsJSON is jwt.IDTokenClaims field for field, with omitempty
// and omitzero tags: a conversion between the two is free, and a field
// added to fosite's type stops the build here instead of being dropped.
type idTokenClaimsJSON struct {
	JTI                                 string         `json:"jti,omitempty"`
	Issuer                              string         `json:"iss,omitempty"`
	Subject                             string         `json:"sub,omitempty"`
	Audience                            []string       `json:"aud,omitempty"`
	Nonce                               string         `json:"nonce,omitempty"`
	ExpiresAt                           time.Time      `json:"exp,omitzero"`
	IssuedAt                            time.Time      `json:"iat,omitzero"`
	RequestedAt                         time.Time      `json:"rat,omitzero"`
	AuthTime                            time.Time      `json:"auth_time,omitzero"`
	AccessTokenHash                     string         `json:"at_hash,omitempty"`
	AuthenticationContextClassReference string         `json:"acr,omitempty"`
	AuthenticationMethodsReferences     []string       `json:"amr,omitempty"`
	CodeHash                            string         `json:"c_hash,omitempty"`
	Extra                               map[string]any `json:"ext,omitempty"`
}

// toJSON returns s's stored form; it shares s's maps and slices.
func (s *Session) toJSON() *sessionJSON {
	w := &sessionJSON{
		Claims: (*idTokenClaimsJSON)(s.Claims), ExpiresAt: s.ExpiresAt,
		Username: s.Username, Subject: s.Subject, SID: s.SID, FamilyExpiresAt: s.FamilyExpiresAt,
	}
	if s.Headers != nil && len(s.Headers.Extra) > 0 {
		w.Headers = s.Headers
	}
	return w
}

// decodeInto empties s and returns a stored form to decode into: its
// claims are s's own, filled in place, and a key left out of the stored
// form stays zero rather than keeping NewSession's defaults. The expiry
// map is the exception: decoding adds to it, as encoding/json does with a
// map it decodes into, and fosite relies on that — the code exchange sets
// the new tokens' expiries on the session and then has storage read the
// code's session into it again before it stores the tokens.
func (s *Session) decodeInto() *sessionJSON {
	claims, expires := s.Claims, s.ExpiresAt
	if claims == nil {
		claims = &jwt.IDTokenClaims{}
	}
	*claims = jwt.IDTokenClaims{}
	*s = Session{DefaultSession: openid.DefaultSession{Claims: claims, Headers: &jwt.Headers{}}}
	return &sessionJSON{Claims: (*idTokenClaimsJSON)(claims), ExpiresAt: expires}
}

func (s *Session) fromJSON(w *sessionJSON) {
	if w.Claims != nil {
		s.Claims = (*jwt.IDTokenClaims)(w.Claims)
	}
	if w.Headers != nil {
		s.Headers = w.Headers
	}
	s.ExpiresAt, s.Username, s.Subject, s.SID, s.FamilyExpiresAt = w.ExpiresAt, w.Username, w.Subject, w.SID, w.FamilyExpiresAt
}
