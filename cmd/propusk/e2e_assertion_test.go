package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/store/sqlite"
)

// rawAssertionClient registers a private_key_jwt client for
// client_credentials and returns a function that signs the given claims
// (iss, sub and aud filled in when absent) under the given kid.
func (p *idp) rawAssertionClient(t *testing.T) func(kid string, claims map[string]any) url.Values {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "rp-key", Use: "sig"}}})
	cfg, _ := p.rp(t, clients.Registration{AuthMethod: "private_key_jwt", JWKS: jwks, GrantTypes: []string{"client_credentials"}})
	return func(kid string, claims map[string]any) url.Values {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
		c := map[string]any{"iss": cfg.ClientID, "sub": cfg.ClientID, "aud": p.issuer, "jti": random(t)}
		for k, v := range claims {
			c[k] = v
		}
		a, err := jwt.Signed(signer).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.ClientID},
			"client_assertion_type": {assertionType}, "client_assertion": {a}}
	}
}

// An assertion with "exp": 0 is expired (1970); RFC 7523 §3 item 4: the
// authorization server MUST reject a JWT whose expiration time has passed.
// fosite reads exp 0 as "no exp" (valid) and Propusk records the jti as
// expiring in 1970, so the conditional write replaces it every time: the
// same assertion authenticates the client again and again, for ever.
func TestEndToEndAssertionExpZeroIsRefused(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		sign := p.rawAssertionClient(t)
		form := sign("rp-key", map[string]any{"exp": 0, "iat": time.Now().Unix()})
		for i := range 3 {
			got := p.call(t, backChannelCall{path: pathToken, form: form})
			if got.status == http.StatusOK {
				t.Errorf("use %d of an assertion with exp 0: 200 (a token was issued)", i+1)
			}
		}
	})
}

// fosite holds an assertion valid through the whole second its exp names
// (now.Unix() <= exp), while the jti record is treated as expired from the
// start of that second (expires_at <= now): during the assertion's last
// second the conditional write accepts the same jti again and again.
func TestEndToEndAssertionReplayInItsLastSecond(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		sign := p.rawAssertionClient(t)
		exp := time.Now().Unix() + 2
		form := sign("rp-key", map[string]any{"exp": exp, "iat": time.Now().Unix()})
		if got := p.call(t, backChannelCall{path: pathToken, form: form}); got.status != http.StatusOK {
			t.Fatalf("first use: %d %v", got.status, got.body)
		}
		time.Sleep(time.Until(time.Unix(exp, 300_000_000)))
		got := p.call(t, backChannelCall{path: pathToken, form: form})
		checkAnswer(t, got, http.StatusBadRequest, "invalid_client", false)
	})
}

// An assertion signed under a key ID the client never registered is a
// failed client authentication: RFC 7523 §3.2 says the error MUST be
// invalid_client. fosite answers invalid_request at the token endpoint
// (and invalid_client at PAR, which rewrites it).
func TestEndToEndAssertionUnknownKeyIsInvalidClient(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		sign := p.rawAssertionClient(t)
		now := time.Now().Unix()
		for _, path := range []string{pathToken, pathIntrospect, pathRevoke} {
			form := sign("no-such-key", map[string]any{"exp": now + 60, "iat": now})
			if path != pathToken {
				form.Del("grant_type")
				form.Set("token", "ory_at_x.y")
			}
			t.Run(path, func(t *testing.T) {
				checkAnswer(t, p.call(t, backChannelCall{path: path, form: form}), http.StatusBadRequest, "invalid_client", false)
			})
		}
	})
}

// With the SQLite file's write lock held by another process (a CLI
// command, a backup) past the busy timeout, a write fails with
// store.ErrConflict, which the oauth package turns into fosite's
// ErrSerializationFailure ("error", 409); backChannelError then reads its
// ErrorField "error" as ErrUnknownRequest's and answers 500 server_error.
// The provider is as unavailable as with the database gone: 503
// temporarily_unavailable with Retry-After, as for every other storage
// failure (issue 12 point 9).
func TestEndToEndBackChannelDatabaseLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "propusk.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := startIDP(t, db, newRing(t))
	basic, _ := p.rp(t, clients.Registration{FirstParty: true, GrantTypes: []string{"client_credentials"}})
	sign := p.rawAssertionClient(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	tok := p.call(t, backChannelCall{path: pathToken, form: cc, basic: basic})
	if tok.status != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", tok.status, tok.body)
	}
	now := time.Now().Unix()
	if got := p.call(t, backChannelCall{path: pathToken, form: sign("rp-key", map[string]any{"exp": now + 60, "iat": now})}); got.status != http.StatusOK {
		t.Fatalf("private_key_jwt: %d %v", got.status, got.body)
	}

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	for _, tc := range []struct {
		name string
		call backChannelCall
	}{
		{"token: client_credentials", backChannelCall{path: pathToken, form: cc, basic: basic}},
		{"token: private_key_jwt", backChannelCall{path: pathToken, form: sign("rp-key", map[string]any{"exp": now + 60, "iat": now})}},
		{"revoke", backChannelCall{path: pathRevoke, form: url.Values{"token": {tok.body["access_token"].(string)}}, basic: basic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := p.call(t, tc.call)
			checkAnswer(t, got, http.StatusServiceUnavailable, "temporarily_unavailable", false)
			if got.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}
