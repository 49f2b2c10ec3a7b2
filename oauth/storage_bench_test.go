package oauth

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/store"
)

// BenchmarkOpenAccessRecord is the CPU cost of turning a stored access-token
// row back into a fosite request (decrypt, decode, client from the cache):
// what introspection, userinfo and refresh pay on top of the database read.
func BenchmarkOpenAccessRecord(b *testing.B) {
	ctx := b.Context()
	db := testdb.SQLite(b)
	key := make([]byte, 32)
	rand.Read(key)
	ring, err := seal.NewRing(key)
	if err != nil {
		b.Fatal(err)
	}
	hasher, err := clients.NewSecretHasher(key)
	if err != nil {
		b.Fatal(err)
	}
	c, _, err := (&clients.Service{Store: db, Secrets: hasher}).Create(ctx, clients.Registration{
		Name: "Card", RedirectURIs: []string{"https://card.example.org/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"},
		Scopes:     []string{"openid", "profile", "email", "identity", "offline_access"},
	})
	if err != nil {
		b.Fatal(err)
	}
	st := &Storage{Store: db, Ring: ring, NewSession: NewFositeSession}
	client, err := st.GetClient(ctx, c.ID)
	if err != nil {
		b.Fatal(err)
	}

	// An access token from a code exchange, as fosite hands it to storage.
	now := time.Now().UTC()
	sess := NewSession()
	sess.Subject, sess.SID = "2278f5a7542c57ed0c3380193fd05a2f", "027ARqQarfD_f1lAWk8GQh"
	sess.Claims.Issuer, sess.Claims.Subject = "https://id.example.org", sess.Subject
	sess.Claims.RequestedAt, sess.Claims.AuthTime = now, now
	sess.Claims.AuthenticationContextClassReference = "urn:propusk:acr:standard:mfa"
	sess.Claims.AuthenticationMethodsReferences = []string{"pwd", "otp"}
	sess.Claims.Extra = map[string]any{"sid": sess.SID}
	sess.ExpiresAt = map[fosite.TokenType]time.Time{fosite.AccessToken: now.Add(15 * time.Minute), fosite.RefreshToken: now.Add(720 * time.Hour)}
	req := fosite.NewAccessRequest(sess)
	req.Client = client
	req.RequestedAt = now
	req.SetRequestedScopes(fosite.Arguments{"openid", "profile", "email", "offline_access"})
	for _, s := range req.GetRequestedScopes() {
		req.GrantScope(s)
	}
	req.Form.Set("grant_type", "authorization_code")
	rec, err := st.record(store.OAuthAccess, "signature-of-the-token", req, fosite.AccessToken)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.open(ctx, rec, NewSession()); err != nil {
			b.Fatal(err)
		}
	}
}
