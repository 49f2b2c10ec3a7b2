package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/propusk/propusk/clients"
)

// clientOut is the --json shape of a client, spelled out independently of
// clientJSON.
type clientOut struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            *string         `json:"client_secret"`
	Name                    string          `json:"name"`
	RedirectURIs            []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris"`
	GrantTypes              []string        `json:"grant_types"`
	Scopes                  []string        `json:"scopes"`
	Public                  bool            `json:"public"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKS                    json.RawMessage `json:"jwks"`
	FirstParty              bool            `json:"first_party"`
	BackchannelLogoutURI    string          `json:"backchannel_logout_uri"`
	MinimumACR              string          `json:"minimum_acr"`
	HasSecret               bool            `json:"has_secret"`
	PreviousSecretExpiresAt *time.Time      `json:"previous_secret_expires_at"`
}

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func showClient(t *testing.T, b *backendFixture, id string) clientOut {
	t.Helper()
	var raw map[string]any
	b.mustJSON(t, &raw, "clients", "show", id, "--json")
	if _, ok := raw["client_secret"]; ok {
		t.Errorf("clients show --json has client_secret: %v", raw)
	}
	for k := range raw {
		if strings.Contains(k, "hash") {
			t.Errorf("clients show --json has %q", k)
		}
	}
	var c clientOut
	b.mustJSON(t, &c, "clients", "show", id, "--json")
	return c
}

func listClientIDs(t *testing.T, b *backendFixture) []string {
	t.Helper()
	var list []clientOut
	out := b.mustJSON(t, &list, "clients", "list", "--json")
	if strings.Contains(out, `"client_secret":`) {
		t.Errorf("clients list --json shows a secret:\n%s", out)
	}
	ids := []string{}
	for _, c := range list {
		ids = append(ids, c.ClientID)
	}
	return ids
}

// verifySecret checks secret against the stored client the way the token
// endpoint will: with the server key unsealed by the command's own code.
func verifySecret(t *testing.T, b *backendFixture, id, secret string) bool {
	t.Helper()
	db, err := openDatabase(t.Context(), &b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ring, err := secretsRing(&b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, err := serverSecret(t.Context(), db, ring, clientSecretKeyName, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	h, err := clients.NewSecretHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &clients.Service{Store: db, Secrets: h}
	c, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.VerifySecret(c, secret, time.Now())
}

// writeJWKS writes a JWKS file holding the public half of a new P-256 key,
// or the private key itself when private is set.
func writeJWKS(t *testing.T, private bool) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key any = &k.PublicKey
	if private {
		key = k
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseCreated reads "client_id: …\nclient_secret: …\n".
func parseCreated(t *testing.T, stdout string) (id, secret string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		switch {
		case ok && k == "client_id" && id == "":
			id = v
		case ok && k == "client_secret" && secret == "":
			secret = v
		default:
			t.Errorf("unexpected output line %q", line)
		}
	}
	return id, secret
}

func TestClientsLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		// A confidential client with every list-valued flag repeated and
		// comma-separated.
		stdout, stderr, code := b.run(t, "", "clients", "create", "--id", "web-app", "--name", "Web App",
			"--redirect-uri", "https://rp.example/cb,https://rp.example/cb2", "--redirect-uri", "http://127.0.0.1:8000/cb",
			"--redirect-uri", "https://rp.example/cb",
			"--post-logout-redirect-uri", "https://rp.example/bye",
			"--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--scope", "openid,profile", "--scope", "email, offline_access",
			"--first-party", "--backchannel-logout-uri", "https://rp.example/bcl", "--minimum-acr", "standard")
		wantOK(t, code, stdout, stderr)
		id, secret := parseCreated(t, stdout)
		if id != "web-app" || !secretRE.MatchString(secret) {
			t.Errorf("clients create printed %q: want client_id web-app and a 43-character secret", stdout)
		}
		if !strings.Contains(stderr, "Store the client secret now") || strings.Contains(stderr, secret) {
			t.Errorf("clients create stderr %q", stderr)
		}
		if !verifySecret(t, b, "web-app", secret) {
			t.Error("the printed secret does not verify against the stored client")
		}
		got := showClient(t, b, "web-app")
		want := clientOut{
			ClientID: "web-app", Name: "Web App",
			RedirectURIs:            []string{"https://rp.example/cb", "https://rp.example/cb2", "http://127.0.0.1:8000/cb"},
			PostLogoutRedirectURIs:  []string{"https://rp.example/bye"},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			Scopes:                  []string{"openid", "profile", "email", "offline_access"},
			TokenEndpointAuthMethod: "client_secret_basic", FirstParty: true,
			BackchannelLogoutURI: "https://rp.example/bcl", MinimumACR: "standard", HasSecret: true,
		}
		got.JWKS = nil // "null"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("clients show --json:\n got %+v\nwant %+v", got, want)
		}
		stdout, stderr, code = b.run(t, "", "clients", "show", "web-app")
		wantOK(t, code, stdout, stderr)
		for _, s := range []string{"client_id:", "web-app", "confidential", "client_secret_basic",
			"https://rp.example/cb https://rp.example/cb2 http://127.0.0.1:8000/cb", "openid profile email offline_access"} {
			if !strings.Contains(stdout, s) {
				t.Errorf("clients show does not contain %q:\n%s", s, stdout)
			}
		}
		if strings.Contains(stdout, secret) {
			t.Error("clients show prints the secret")
		}

		// --json at creation carries the secret, once.
		var made clientOut
		b.mustJSON(t, &made, "clients", "create", "--name", "Backend", "--grant-type", "client_credentials", "--auth-method", "client_secret_post", "--json")
		if !hexID.MatchString(made.ClientID) || made.ClientSecret == nil || !secretRE.MatchString(*made.ClientSecret) ||
			!made.HasSecret || made.TokenEndpointAuthMethod != "client_secret_post" || len(made.RedirectURIs) != 0 || made.RedirectURIs == nil {
			t.Errorf("clients create --json: %+v", made)
		}
		if c := showClient(t, b, made.ClientID); c.ClientSecret != nil || !c.HasSecret {
			t.Errorf("clients show --json after create: client_secret %v, has_secret %v", c.ClientSecret, c.HasSecret)
		}

		// A public client: no secret, auth method none.
		stdout, stderr, code = b.run(t, "", "clients", "create", "--id", "mobile", "--name", "Mobile", "--public",
			"--redirect-uri", "com.example.app:/cb")
		wantOK(t, code, stdout, stderr)
		if stdout != "client_id: mobile\n" || stderr != "" {
			t.Errorf("public clients create: stdout %q, stderr %q", stdout, stderr)
		}
		if c := showClient(t, b, "mobile"); !c.Public || c.HasSecret || c.TokenEndpointAuthMethod != "none" {
			t.Errorf("public client: %+v", c)
		}
		var pub clientOut
		b.mustJSON(t, &pub, "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example/cb", "--json")
		if pub.ClientSecret != nil || pub.HasSecret || pub.TokenEndpointAuthMethod != "none" {
			t.Errorf("public clients create --json: %+v", pub)
		}

		// private_key_jwt with a JWKS file.
		var pkj clientOut
		b.mustJSON(t, &pkj, "clients", "create", "--id", "signed", "--name", "Signed", "--redirect-uri", "https://signed.example/cb",
			"--auth-method", "private_key_jwt", "--jwks-file", writeJWKS(t, false), "--json")
		if pkj.ClientSecret != nil || pkj.HasSecret || pkj.TokenEndpointAuthMethod != "private_key_jwt" {
			t.Errorf("private_key_jwt clients create --json: %+v", pkj)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(showClient(t, b, "signed").JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" || !set.Keys[0].IsPublic() {
			t.Errorf("stored jwks: %+v (err %v)", set, err)
		}
		_, stderr, code = b.run(t, "", "clients", "rotate-secret", "signed")
		wantFail(t, code, stderr, exitFailure, "propusk clients: ", `client "signed" has no secret to rotate`)
		_, stderr, code = b.run(t, "", "clients", "rotate-secret", "mobile")
		wantFail(t, code, stderr, exitFailure, "propusk clients: ", `client "mobile" has no secret to rotate (auth method "none")`)

		// rotate-secret: a new secret; the old one keeps working for the grace period.
		stdout, stderr, code = b.run(t, "", "clients", "rotate-secret", "web-app")
		wantOK(t, code, stdout, stderr)
		id2, secret2 := parseCreated(t, stdout)
		if id2 != "web-app" || !secretRE.MatchString(secret2) || secret2 == secret {
			t.Errorf("rotate-secret printed %q", stdout)
		}
		if !strings.Contains(stderr, "previous one stays valid for 24h0m0s") {
			t.Errorf("rotate-secret stderr %q", stderr)
		}
		if !verifySecret(t, b, "web-app", secret2) || !verifySecret(t, b, "web-app", secret) {
			t.Error("after rotation with grace, the new and the previous secret must both verify")
		}
		if c := showClient(t, b, "web-app"); c.PreviousSecretExpiresAt == nil ||
			c.PreviousSecretExpiresAt.Before(time.Now().Add(23*time.Hour)) || c.PreviousSecretExpiresAt.After(time.Now().Add(25*time.Hour)) {
			t.Errorf("previous_secret_expires_at %v, want in 24h", c.PreviousSecretExpiresAt)
		}

		stdout, stderr, code = b.run(t, "", "clients", "rotate-secret", "web-app", "--grace", "0", "--json")
		wantOK(t, code, stdout, stderr)
		var rot map[string]string
		if err := json.Unmarshal([]byte(stdout), &rot); err != nil {
			t.Fatalf("rotate-secret --json: %v\n%s", err, stdout)
		}
		keys := []string{}
		for k := range rot {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"client_id", "client_secret", "previous_secret_valid_for"}) ||
			rot["client_id"] != "web-app" || !secretRE.MatchString(rot["client_secret"]) ||
			rot["client_secret"] == secret2 || rot["previous_secret_valid_for"] != "0s" {
			t.Errorf("rotate-secret --json: %s", stdout)
		}
		if !verifySecret(t, b, "web-app", rot["client_secret"]) || verifySecret(t, b, "web-app", secret2) || verifySecret(t, b, "web-app", secret) {
			t.Error("after rotation with --grace 0, only the newest secret may verify")
		}
		if c := showClient(t, b, "web-app"); c.PreviousSecretExpiresAt != nil {
			t.Errorf("previous_secret_expires_at %v after --grace 0", c.PreviousSecretExpiresAt)
		}

		// list, sorted by client ID
		ids := listClientIDs(t, b)
		wantIDs := []string{made.ClientID, pub.ClientID, "mobile", "signed", "web-app"}
		slices.Sort(wantIDs)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("clients list --json: %q, want %q", ids, wantIDs)
		}
		stdout, stderr, code = b.run(t, "", "clients", "list")
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "CLIENT ID") || !regexp.MustCompile(`(?m)^mobile +Mobile +public +none$`).MatchString(stdout) {
			t.Errorf("clients list:\n%s", stdout)
		}

		// delete, then show
		stdout, stderr, code = b.run(t, "", "clients", "delete", "web-app")
		wantOK(t, code, stdout, stderr)
		if stdout != "deleted client web-app\n" {
			t.Errorf("delete printed %q", stdout)
		}
		for _, sub := range []string{"show", "delete", "rotate-secret"} {
			_, stderr, code = b.run(t, "", "clients", sub, "web-app")
			wantFail(t, code, stderr, exitMissing, "propusk clients: ", `client "web-app" not found`)
		}
		if slices.Contains(listClientIDs(t, b), "web-app") {
			t.Error("web-app still listed after delete")
		}
	})
}

func TestClientsBadInput(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "", "clients", "create", "--id", "taken", "--name", "Taken", "--redirect-uri", "https://rp.example/cb")
		wantOK(t, code, stdout, stderr)
		jwksPrivate := writeJWKS(t, true)
		create := func(extra ...string) []string { return append([]string{"clients", "create"}, extra...) }
		for _, tc := range []struct {
			name    string
			args    []string
			code    int
			phrases []string
		}{
			{"invalid redirect uris", create("--name", "Bad", "--redirect-uri", "/cb",
				"--redirect-uri", "https://rp.example/cb#frag,http://rp.example/cb", "--post-logout-redirect-uri", "javascript:alert(1)"),
				exitUsage, []string{`redirect uri "/cb": must be absolute`, `redirect uri "https://rp.example/cb#frag": must not contain a fragment`,
					`redirect uri "http://rp.example/cb": http is allowed only for loopback hosts`, `post-logout redirect uri "javascript:alert(1)"`}},
			{"private-use scheme on confidential client", create("--name", "Bad", "--redirect-uri", "com.example.app:/cb"),
				exitUsage, []string{"allowed only for public (native) clients"}},
			{"duplicate id", create("--id", "taken", "--name", "Again", "--redirect-uri", "https://rp.example/cb"),
				exitExists, []string{`client "taken" already exists`}},
			{"bad id", create("--id", "Taken!", "--name", "Bad", "--redirect-uri", "https://rp.example/cb"),
				exitUsage, []string{`client id "Taken!" may contain only`}},
			{"missing name and redirect", create(), exitUsage, []string{"name is required", "at least one redirect uri is required"}},
			// An unset variable in --scope "$SCOPES" must not fall back to
			// the default scopes.
			{"empty scope", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--scope", ""),
				exitUsage, []string{`empty item in ""`}},
			{"empty grant type item", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--grant-type", "authorization_code,"),
				exitUsage, []string{`empty item in "authorization_code,"`}},
			{"look-alike host", create("--name", "Bad", "--redirect-uri", "https://g\u043e\u043egle.com/cb"),
				exitUsage, []string{"outside ASCII"}},
			{"bad scope and grant", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--scope", "openid,admin", "--grant-type", "password"),
				exitUsage, []string{`scope "admin" is not supported`, `grant type "password" is not supported`}},
			{"public with client_credentials", create("--name", "Bad", "--public", "--grant-type", "client_credentials"),
				exitUsage, []string{`grant type "client_credentials" is not allowed for public clients`}},
			{"public with secret auth", create("--name", "Bad", "--public", "--redirect-uri", "https://rp.example/cb", "--auth-method", "client_secret_basic"),
				exitUsage, []string{`public clients must use auth method "none"`}},
			{"private_key_jwt without jwks", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--auth-method", "private_key_jwt"),
				exitUsage, []string{`auth method "private_key_jwt" requires a jwks`}},
			{"jwks with private key", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--auth-method", "private_key_jwt", "--jwks-file", jwksPrivate),
				exitUsage, []string{`jwks key 0 (kid "k1") contains private or secret key material (d)`}},
			{"missing jwks file", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "--auth-method", "private_key_jwt", "--jwks-file", filepath.Join(t.TempDir(), "none.json")),
				exitUsage, []string{"--jwks-file:", "no such file"}},
			{"unknown flag", create("--name", "Bad", "--secret", "x"), exitUsage, []string{"flag provided but not defined: -secret"}},
			{"positional", create("--name", "Bad", "--redirect-uri", "https://rp.example/cb", "extra"), exitUsage, []string{`unexpected argument "extra"`}},
			{"unknown subcommand", []string{"clients", "update", "taken"}, exitUsage, []string{`unknown subcommand "update"`}},
			{"show without id", []string{"clients", "show"}, exitUsage, []string{"missing client ID"}},
			{"negative grace", []string{"clients", "rotate-secret", "taken", "--grace", "-1s"}, exitUsage, []string{"--grace must not be negative"}},
			{"bad grace", []string{"clients", "rotate-secret", "taken", "--grace", "soon"}, exitUsage, []string{`invalid value "soon" for flag -grace`}},
			{"show unknown", []string{"clients", "show", "nope"}, exitMissing, []string{`client "nope" not found`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				stdout, stderr, code := b.run(t, "", tc.args...)
				wantFail(t, code, stderr, tc.code, "propusk clients: ", tc.phrases...)
				if stdout != "" {
					t.Errorf("stdout %q, want nothing", stdout)
				}
			})
		}
		if ids := listClientIDs(t, b); !slices.Equal(ids, []string{"taken"}) {
			t.Errorf("after the refused commands, clients are %q, want only taken", ids)
		}
		if c := showClient(t, b, "taken"); c.Name != "Taken" || !c.HasSecret || c.PreviousSecretExpiresAt != nil {
			t.Errorf("taken was changed: %+v", c)
		}
	})
}

// TestWrongSecretsKey: a key that does not open the database's sealed server
// secret is refused with a clear message; listing the new key first and the
// old one after it rotates, after which the new key alone works.
func TestWrongSecretsKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		keyA, keyB := newSecretsKey(t), newSecretsKey(t)
		b.cfg.SecretsKey = keyA
		withKey := func(k string) map[string]string { return b.withEnv(map[string]string{"PROPUSK_SECRETS_KEY": k}) }

		stdout, stderr, code := runCLI(t, withKey(keyA), "", append([]string{"clients", "create", "--id", "rp-one", "--name", "RP",
			"--redirect-uri", "https://rp.example/cb"}, b.args...)...)
		wantOK(t, code, stdout, stderr)
		_, secret := parseCreated(t, stdout)

		// Making a secret opens the sealed server secret; listing does not
		// (it works with any key, or none).
		create := func(k, name string) (string, string, int) {
			return runCLI(t, withKey(k), "", append([]string{"clients", "create", "--name", name, "--redirect-uri", "https://x.example/cb"}, b.args...)...)
		}
		for _, cmd := range [][]string{{"clients", "rotate-secret", "rp-one"}, {"clients", "create", "--name", "X", "--redirect-uri", "https://x.example/cb"}} {
			_, stderr, code = runCLI(t, withKey(keyB), "", append(slices.Clone(cmd), b.args...)...)
			wantFail(t, code, stderr, exitFailure, "propusk clients: ", "the secrets key does not open this database's secrets",
				"list the new key first and keep the old one after it")
			if strings.Contains(stderr, keyA) || strings.Contains(stderr, keyB) {
				t.Errorf("stderr shows a key: %q", stderr)
			}
		}
		if !verifySecret(t, b, "rp-one", secret) {
			t.Error("the refused commands broke key A")
		}

		stdout, stderr, code = create(keyB+","+keyA, "RP two")
		wantOK(t, code, stdout, stderr)
		stdout, stderr, code = create(keyB, "RP three")
		wantOK(t, code, stdout, stderr)
		_, stderr, code = create(keyA, "RP four")
		wantFail(t, code, stderr, exitFailure, "propusk clients: ", "the secrets key does not open this database's secrets")
		stdout, stderr, code = runCLI(t, withKey(keyA), "", append([]string{"clients", "list"}, b.args...)...)
		wantOK(t, code, stdout, stderr)
		if !strings.Contains(stdout, "rp-one") || strings.Contains(stdout, "RP four") {
			t.Errorf("clients list:\n%s", stdout)
		}

		// The client secret made under key A still verifies: only the
		// sealing of the server secret changed, not the secret itself.
		b.cfg.SecretsKey = keyB
		if !verifySecret(t, b, "rp-one", secret) {
			t.Error("after the key rotation the client secret no longer verifies")
		}
	})
}

// TestMalformedSecretsKey: a PROPUSK_SECRETS_KEY that is not a key at all is
// an input problem: exit 2, and (like every problem Validate finds) reported
// before the database is opened, so nothing is created or migrated.
func TestMalformedSecretsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PROPUSK_DATA_DIR": dir, "PROPUSK_SECRETS_KEY": "not-a-key"}
	_, stderr, code := runCLI(t, env, "", "clients", "list")
	if strings.Contains(stderr, "not-a-key") {
		t.Errorf("stderr shows the key: %q", stderr)
	}
	wantFail(t, code, stderr, exitUsage, "propusk clients: ", "PROPUSK_SECRETS_KEY")
	emptyDir(t, dir)
}
