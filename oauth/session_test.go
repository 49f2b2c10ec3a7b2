package oauth

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

func fullSession() *Session {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &Session{
		DefaultSession: openid.DefaultSession{
			Claims: &jwt.IDTokenClaims{
				JTI: "j", Issuer: "https://id.example.org", Subject: "s", Audience: []string{"a", "b"}, Nonce: "n",
				ExpiresAt: t0.Add(time.Hour), IssuedAt: t0, RequestedAt: t0.Add(-time.Minute), AuthTime: t0.Add(-2 * time.Minute),
				AccessTokenHash: "ath", AuthenticationContextClassReference: "urn:propusk:acr:standard:mfa",
				AuthenticationMethodsReferences: []string{"pwd", "otp"}, CodeHash: "ch",
				Extra: map[string]any{"sid": "x", "n": 1.5, "list": []any{"a", true}},
			},
			Headers:   &jwt.Headers{Extra: map[string]any{"kid": "k"}},
			ExpiresAt: map[fosite.TokenType]time.Time{fosite.AccessToken: t0.Add(15 * time.Minute), fosite.RefreshToken: t0.Add(720 * time.Hour)},
			Username:  "anna@example.org", Subject: "s",
		},
		SID: "x", FamilyExpiresAt: t0.Add(720 * time.Hour),
	}
}

// The stored form leaves zero values out; reading it back must still give
// exactly what was stored, whatever the session read into held before.
func TestSessionStoredFormRoundTrip(t *testing.T) {
	for name, in := range map[string]*Session{
		"full":  fullSession(),
		"empty": {DefaultSession: openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(in.toJSON())
			if err != nil {
				t.Fatal(err)
			}
			// A session that already holds values, as NewSession's
			// RequestedAt and a reused session's maps do.
			out := fullSession()
			out.Claims.RequestedAt = time.Now()
			out.ExpiresAt = nil
			w := out.decodeInto()
			if err := json.Unmarshal(b, w); err != nil {
				t.Fatal(err)
			}
			out.fromJSON(w)
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("round trip changed the session:\n in %+v %+v\nout %+v %+v", in, in.Claims, out, out.Claims)
			}
			if c := in.Clone(); !reflect.DeepEqual(in, c) {
				t.Fatalf("Clone differs:\n in %+v\nout %+v", in, c)
			}
		})
	}
}

// Zero values are left out of the stored form.
func TestSessionStoredFormIsCompact(t *testing.T) {
	s := NewSession()
	s.Claims.RequestedAt = time.Time{}
	b, err := json.Marshal(s.toJSON())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"id_token_claims":{}}` {
		t.Fatalf("empty session stored as %s", b)
	}
}

// Rows written before the compact form (every key present, nulls and zero
// times) still read back.
func TestSessionReadsFullForm(t *testing.T) {
	in := fullSession()
	b, err := json.Marshal(in) // encoding/json's own form of the type
	if err != nil {
		t.Fatal(err)
	}
	out := NewSession()
	w := out.decodeInto()
	if err := json.Unmarshal(b, w); err != nil {
		t.Fatal(err)
	}
	out.fromJSON(w)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("full form read back as %+v", out)
	}
}

// Reading a stored session into one that already carries token expiries
// adds the stored expiries to them (fosite's code exchange depends on it).
func TestSessionDecodeKeepsExpiries(t *testing.T) {
	now := time.Now().UTC().Round(time.Second)
	stored := NewSession()
	stored.SetExpiresAt(fosite.AuthorizeCode, now.Add(time.Minute))
	b, err := json.Marshal(stored.toJSON())
	if err != nil {
		t.Fatal(err)
	}
	into := NewSession()
	into.SetExpiresAt(fosite.AccessToken, now.Add(15*time.Minute))
	w := into.decodeInto()
	if err := json.Unmarshal(b, w); err != nil {
		t.Fatal(err)
	}
	into.fromJSON(w)
	if !into.GetExpiresAt(fosite.AccessToken).Equal(now.Add(15*time.Minute)) || !into.GetExpiresAt(fosite.AuthorizeCode).Equal(now.Add(time.Minute)) {
		t.Fatalf("expiries after reading: %v", into.ExpiresAt)
	}
}
