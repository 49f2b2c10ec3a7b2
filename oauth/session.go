package oauth

import (
	"encoding/json"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
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
// stored that way), so a JSON round trip is a faithful deep copy.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic("oauth: session does not serialise: " + err.Error())
	}
	c := new(Session)
	if err := json.Unmarshal(b, c); err != nil {
		panic("oauth: session does not deserialise: " + err.Error())
	}
	return c
}

var _ openid.Session = (*Session)(nil)

// NewFositeSession is NewSession typed for fosite's session factories.
func NewFositeSession() fosite.Session { return NewSession() }
