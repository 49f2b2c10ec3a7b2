package oauth

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/propusk/propusk/internal/testdb"
)

// A JWT access token signed on a node whose clock runs a little ahead is
// not "issued in the future" here; one far ahead, or expired, is refused.
func TestVerifyJWTClockLeeway(t *testing.T) {
	ctx := t.Context()
	ks := &KeySet{Store: testdb.SQLite(t), Ring: testRing(t)}
	if err := ks.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	h := &Handler{Config: Config{Issuer: testIssuer}, Keys: ks, Clock: func() time.Time { return now }}
	key, err := ks.Current(ctx, AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	token := func(issued, expires time.Time) string {
		s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: testIssuer, Subject: "s",
			IssuedAt: jwt.NewNumericDate(issued), Expiry: jwt.NewNumericDate(expires)}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := h.verifyJWT(ctx, token(now.Add(3*time.Second), now.Add(15*time.Minute))); err != nil {
		t.Errorf("issued 3 s ahead (clock skew): %v", err)
	}
	if err := h.verifyJWT(ctx, token(now.Add(time.Minute), now.Add(15*time.Minute))); err == nil {
		t.Error("issued a minute ahead: accepted")
	}
	if err := h.verifyJWT(ctx, token(now.Add(-20*time.Minute), now.Add(-time.Minute))); err == nil {
		t.Error("expired a minute ago: accepted")
	}
}
