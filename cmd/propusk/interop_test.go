package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/propusk/propusk/clients"
)

// The interoperability tests run relying-party libraries nobody here wrote
// against Propusk's real handler tree, as their own documentation shows
// them. openid-client (npm) lives in interop/openid-client; .ci/run
// installs it with `npm ci` from the committed lock file.

const openIDClientDir = "../../interop/openid-client"

// nodeRP finds node and the installed openid-client, or skips the test
// (fails it under CI=true, where they are required).
func nodeRP(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not on PATH"
	default:
		if _, err := os.Stat(filepath.Join(openIDClientDir, "node_modules", "openid-client")); err != nil {
			missing = "openid-client is not installed (run `npm ci` in interop/openid-client)"
		}
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: the interoperability tests are required under CI=true", missing)
		}
		t.Skip(missing)
	}
	return node
}

// rpResult is what rp.mjs prints last.
type rpResult struct {
	Error       string `json:"error"`
	Code        string `json:"code"`
	OAuthError  string `json:"oauth_error"`
	Status      int    `json:"status"`
	Sub         string `json:"sub"`
	Iss         string `json:"iss"`
	UserinfoSub string `json:"userinfo_sub"`
	Active      *bool  `json:"introspected_active"`
	ClientID    string `json:"introspected_client_id"`
	Revoked     *bool  `json:"revoked_active"`
}

// runOpenIDClient runs rp.mjs with env, signs the person in with a browser
// at the URL it builds, hands it the callback and returns its answer.
func runOpenIDClient(t *testing.T, p *idp, env []string, username string) (rpResult, map[string][]string) {
	t.Helper()
	node := nodeRP(t)
	cmd := exec.CommandContext(t.Context(), node, "rp.mjs")
	cmd.Dir = openIDClientDir
	cmd.Env = append(os.Environ(), append(env, "PROPUSK_ISSUER="+p.issuer, "PROPUSK_REDIRECT_URI="+rpRedirect)...)
	cmd.WaitDelay = 5 * time.Second
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	next := func() map[string]any {
		if !lines.Scan() {
			cmd.Wait()
			t.Fatalf("openid-client stopped: %v\n%s", lines.Err(), stderr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("openid-client printed %q: %v", lines.Text(), err)
		}
		return m
	}
	first := next()
	authURL, _ := first["authorize"].(string)
	if authURL == "" {
		t.Fatalf("openid-client built no authorization URL: %v\n%s", first, stderr.String())
	}
	if first["state"] != nil {
		t.Fatalf("openid-client sent state, so it did not see PKCE support in discovery: %v", first)
	}
	cb := newBrowser(t).signIn(authURL, username, "correct horse battery", nil)
	io.WriteString(stdin, cb.String()+"\n")
	stdin.Close()
	raw, _ := json.Marshal(next())
	var res rpResult
	json.Unmarshal(raw, &res)
	if err := cmd.Wait(); err != nil && res.Error == "" {
		t.Fatalf("openid-client: %v\n%s", err, stderr.String())
	}
	return res, cb.Query()
}

// openid-client v6 as its documentation shows it: code + PKCE without
// state, private_key_jwt with its default audience (the issuer),
// userinfo, introspection and revocation with the client's own
// authentication method.
func TestInteropOpenIDClient(t *testing.T) {
	nodeRP(t)
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "rp-key", Use: "sig", Algorithm: "ES256"}}})
		priv, _ := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "rp-key", Use: "sig", Algorithm: "ES256"})
		withKey, _ := p.rp(t, clients.Registration{AuthMethod: "private_key_jwt", JWKS: pub})
		withPost, _ := p.rp(t, clients.Registration{AuthMethod: "client_secret_post"})
		withBasic, _ := p.rp(t, clients.Registration{})

		cases := []struct {
			name string
			env  []string
			id   string
		}{
			{"private_key_jwt", []string{"PROPUSK_RP_AUTH=private_key_jwt", "PROPUSK_RP_JWK=" + string(priv)}, withKey.ClientID},
			{"client_secret_post", []string{"PROPUSK_RP_AUTH=client_secret_post", "PROPUSK_RP_SECRET=" + withPost.ClientSecret}, withPost.ClientID},
			{"client_secret_basic", []string{"PROPUSK_RP_AUTH=client_secret_basic", "PROPUSK_RP_SECRET=" + withBasic.ClientSecret}, withBasic.ClientID},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				user := "oc-" + c.name
				sub := p.person(t, user, "standard")
				res, cb := runOpenIDClient(t, p, append(c.env, "PROPUSK_CLIENT_ID="+c.id), user)
				if res.Error != "" {
					t.Fatalf("openid-client failed: %s (code %s, OAuth error %q, status %d)", res.Error, res.Code, res.OAuthError, res.Status)
				}
				if _, ok := cb["state"]; ok {
					t.Errorf("the authorization response carries a state nobody sent: %v", cb)
				}
				if res.Sub != sub || res.UserinfoSub != sub || res.Iss != p.issuer {
					t.Errorf("ID token sub %q, userinfo sub %q, iss %q; want %q, %q", res.Sub, res.UserinfoSub, res.Iss, sub, p.issuer)
				}
				if res.Active == nil || !*res.Active || res.ClientID != c.id {
					t.Errorf("introspection before revocation: active %v, client_id %q", res.Active, res.ClientID)
				}
				if res.Revoked == nil || *res.Revoked {
					t.Errorf("introspection after revocation: active %v, want false", res.Revoked)
				}
			})
		}
	})
}
