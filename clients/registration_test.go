package clients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// confidential is a minimal valid confidential registration.
func confidential() Registration {
	return Registration{
		ID:           "shop",
		Name:         "Shop",
		RedirectURIs: []string{"https://shop.example/callback"},
	}
}

// public is a minimal valid public (native) registration.
func public() Registration {
	r := confidential()
	r.ID = "shop-app"
	r.Public = true
	return r
}

type validateCase struct {
	name string
	base func() Registration
	edit func(*Registration)
	// want is a substring of the error; "" means Validate must succeed.
	want string
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if base == nil {
				base = confidential
			}
			r := base()
			if tc.edit != nil {
				tc.edit(&r)
			}
			got, err := r.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: unexpected error:\n%v", err)
				}
				// Normalised output must itself be valid and unchanged by
				// another pass.
				again, err := got.Validate()
				if err != nil {
					t.Fatalf("Validate(normalised): %v", err)
				}
				if !reflect.DeepEqual(again, got) {
					t.Fatalf("Validate not idempotent:\n%+v\n%+v", got, again)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: want error containing %q, got none (%+v)", tc.want, got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: want error containing %q, got:\n%v", tc.want, err)
			}
			if !reflect.DeepEqual(got, Registration{}) {
				t.Fatalf("Validate returned a registration along with an error: %+v", got)
			}
			if msg := err.Error(); strings.ToLower(msg[:1]) != msg[:1] {
				t.Errorf("error should start lower case: %q", msg)
			}
		})
	}
}

func redirect(uri string) func(*Registration) {
	return func(r *Registration) { r.RedirectURIs = []string{uri} }
}

func TestValidateRedirectURIs(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "https public host", edit: redirect("https://shop.example/callback?x=1")},
		{name: "https with port", edit: redirect("https://shop.example:8443/cb")},
		{name: "upper-case scheme kept", edit: redirect("HTTPS://shop.example/cb")},
		{name: "http public host", edit: redirect("http://shop.example/cb"), want: `redirect uri "http://shop.example/cb": http is allowed only for loopback`},
		{name: "http ipv4 loopback with port", edit: redirect("http://127.0.0.1:8080/cb")},
		{name: "http other 127/8 address", edit: redirect("http://127.8.9.10/cb")},
		{name: "http localhost", edit: redirect("http://localhost/cb")},
		{name: "http LOCALHOST", edit: redirect("http://LOCALHOST:3000/cb")},
		{name: "http ipv6 loopback", edit: redirect("http://[::1]/cb")},
		{name: "http ipv6 loopback with port", edit: redirect("http://[::1]:9000/cb")},
		{name: "http localhost lookalike", edit: redirect("http://localhost.evil.example/cb"), want: "only for loopback"},
		{name: "http 127 lookalike", edit: redirect("http://127.0.0.1.nip.io/cb"), want: "only for loopback"},
		{name: "http private address", edit: redirect("http://10.0.0.1/cb"), want: "only for loopback"},
		{name: "http zoned ipv6 loopback", edit: redirect("http://[::1%25eth0]/cb"), want: "only for loopback"},
		{name: "relative path", edit: redirect("/callback"), want: `redirect uri "/callback": must be absolute`},
		{name: "relative word", edit: redirect("callback"), want: "must be absolute"},
		{name: "scheme-relative", edit: redirect("//shop.example/cb"), want: "must be absolute"},
		{name: "fragment", edit: redirect("https://shop.example/cb#frag"), want: `redirect uri "https://shop.example/cb#frag": must not contain a fragment`},
		{name: "empty fragment", edit: redirect("https://shop.example/cb#"), want: "must not contain a fragment"},
		{name: "userinfo", edit: redirect("https://shop.example@evil.example/cb"), want: "must not contain user information"},
		{name: "userinfo with password", edit: redirect("https://u:p@shop.example/cb"), want: "must not contain user information"},
		{name: "https without host", edit: redirect("https:///cb"), want: "has no host"},
		{name: "https opaque", edit: redirect("https:cb"), want: "has no host"},
		{name: "whitespace", edit: redirect("https://shop.example/c b"), want: "whitespace"},
		{name: "trailing newline", edit: redirect("https://shop.example/cb\n"), want: "whitespace"},
		{name: "empty", edit: redirect(""), want: `redirect uri "": is empty`},
		{name: "too long", edit: redirect("https://shop.example/" + strings.Repeat("a", 3000)), want: "longer than 2048 bytes"},
		{name: "javascript", edit: redirect("javascript:alert(1)"), want: `scheme "javascript" is not allowed`},
		{name: "custom scheme without dot", edit: redirect("myapp:/cb"), want: `scheme "myapp" is not allowed`},
		{name: "private-use scheme confidential", edit: redirect("ru.example.app:/callback"), want: `private-use scheme "ru.example.app" is allowed only for public`},
		{name: "private-use scheme public", base: public, edit: redirect("ru.example.app:/callback")},
		{name: "private-use scheme public double slash", base: public, edit: redirect("ru.example.app://callback")},
		{name: "private-use scheme opaque", base: public, edit: redirect("ru.example.app:callback"), want: "must have a path starting with '/'"},
		{name: "public loopback", base: public, edit: redirect("http://127.0.0.1:51234/cb")},
		{name: "none", edit: func(r *Registration) { r.RedirectURIs = nil }, want: "at least one redirect uri is required"},
		{name: "none for client_credentials only", edit: func(r *Registration) {
			r.RedirectURIs = nil
			r.GrantTypes = []string{GrantClientCredentials}
		}},
		{name: "one bad among good", edit: func(r *Registration) {
			r.RedirectURIs = []string{"https://shop.example/a", "http://shop.example/b"}
		}, want: `"http://shop.example/b"`},
	})
}

func TestValidateLogoutURIs(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "post-logout https", edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"https://shop.example/bye"} }},
		{name: "post-logout loopback", edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"http://localhost:8080/bye"} }},
		{name: "post-logout http public host", edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"http://shop.example/bye"} }, want: `post-logout redirect uri "http://shop.example/bye": http is allowed only for loopback`},
		{name: "post-logout fragment", edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"https://shop.example/bye#x"} }, want: "post-logout redirect uri"},
		{name: "post-logout private scheme public", base: public, edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"ru.example.app:/bye"} }},
		{name: "post-logout private scheme confidential", edit: func(r *Registration) { r.PostLogoutRedirectURIs = []string{"ru.example.app:/bye"} }, want: "allowed only for public"},
		{name: "back-channel https", edit: func(r *Registration) { r.BackchannelLogoutURI = "https://shop.example/bcl?tenant=1" }},
		{name: "back-channel loopback", edit: func(r *Registration) { r.BackchannelLogoutURI = "http://127.0.0.1:9000/bcl" }},
		{name: "back-channel http public host", edit: func(r *Registration) { r.BackchannelLogoutURI = "http://shop.example/bcl" }, want: `back-channel logout uri "http://shop.example/bcl": http is allowed only for loopback`},
		{name: "back-channel fragment", edit: func(r *Registration) { r.BackchannelLogoutURI = "https://shop.example/bcl#x" }, want: "must not contain a fragment"},
		{name: "back-channel relative", edit: func(r *Registration) { r.BackchannelLogoutURI = "/bcl" }, want: "must be absolute"},
		{name: "back-channel private scheme even for public", base: public, edit: func(r *Registration) { r.BackchannelLogoutURI = "ru.example.app:/bcl" }, want: `private-use scheme "ru.example.app" is not allowed here`},
	})
}

func TestValidateGrantTypes(t *testing.T) {
	grants := func(g ...string) func(*Registration) {
		return func(r *Registration) { r.GrantTypes = g }
	}
	runValidateCases(t, []validateCase{
		{name: "code", edit: grants(GrantAuthorizationCode)},
		{name: "code and refresh", edit: grants(GrantAuthorizationCode, GrantRefreshToken)},
		{name: "refresh then code", edit: grants(GrantRefreshToken, GrantAuthorizationCode)},
		{name: "all three confidential", edit: grants(GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials)},
		{name: "client_credentials confidential", edit: grants(GrantClientCredentials)},
		{name: "public code and refresh", base: public, edit: grants(GrantAuthorizationCode, GrantRefreshToken)},
		{name: "implicit", edit: grants("implicit"), want: `grant type "implicit" is not supported`},
		{name: "password", edit: grants(GrantAuthorizationCode, "password"), want: `grant type "password" is not supported`},
		{name: "empty string", edit: grants(""), want: `grant type "" is not supported`},
		{name: "refresh alone", edit: grants(GrantRefreshToken), want: `grant type "refresh_token" requires "authorization_code"`},
		{name: "refresh with client_credentials", edit: grants(GrantClientCredentials, GrantRefreshToken), want: `requires "authorization_code"`},
		{name: "client_credentials public", base: public, edit: grants(GrantClientCredentials), want: `grant type "client_credentials" is not allowed for public clients`},
		{name: "client_credentials public with code", base: public, edit: grants(GrantAuthorizationCode, GrantClientCredentials), want: "not allowed for public clients"},
	})
}

func TestValidateScopes(t *testing.T) {
	scopes := func(s ...string) func(*Registration) {
		return func(r *Registration) { r.Scopes = s }
	}
	runValidateCases(t, []validateCase{
		{name: "all supported", edit: scopes(SupportedScopes...)},
		{name: "openid only", edit: scopes("openid")},
		{name: "unknown", edit: scopes("openid", "admin"), want: `scope "admin" is not supported`},
		{name: "space inside", edit: scopes("openid profile"), want: `scope "openid profile" contains characters not allowed`},
		{name: "quote", edit: scopes(`a"b`), want: "characters not allowed"},
		{name: "backslash", edit: scopes(`a\b`), want: "characters not allowed"},
		{name: "non-ascii", edit: scopes("профиль"), want: "characters not allowed"},
		{name: "empty string", edit: scopes(""), want: `scope "" contains characters not allowed`},
	})
}

func TestValidateAuthMethods(t *testing.T) {
	method := func(m string) func(*Registration) {
		return func(r *Registration) { r.AuthMethod = m }
	}
	withJWKS := func(m string, set func(*testing.T) []byte) func(*Registration) {
		return func(r *Registration) {
			r.AuthMethod = m
			r.JWKS = set(t)
		}
	}
	ecSet := func(t *testing.T) []byte { return jwks(t, jwk(t, "p256", false, "sig")) }
	runValidateCases(t, []validateCase{
		{name: "basic", edit: method(AuthClientSecretBasic)},
		{name: "post", edit: method(AuthClientSecretPost)},
		{name: "confidential none", edit: method(AuthNone), want: `auth method "none" is only for public clients`},
		{name: "unknown", edit: method("tls_client_auth"), want: `auth method "tls_client_auth" is not supported`},
		{name: "client_secret_jwt not offered", edit: method("client_secret_jwt"), want: "is not supported"},
		{name: "public none", base: public, edit: method(AuthNone)},
		{name: "public basic", base: public, edit: method(AuthClientSecretBasic), want: `public clients must use auth method "none", not "client_secret_basic"`},
		{name: "public private_key_jwt", base: public, edit: withJWKS(AuthPrivateKeyJWT, ecSet), want: `public clients must use auth method "none"`},
		{name: "private_key_jwt without jwks", edit: method(AuthPrivateKeyJWT), want: `auth method "private_key_jwt" requires a jwks`},
		{name: "private_key_jwt ec p-256", edit: withJWKS(AuthPrivateKeyJWT, ecSet)},
		{name: "jwks with basic", edit: withJWKS(AuthClientSecretBasic, ecSet), want: `a jwks is only used with auth method "private_key_jwt", not "client_secret_basic"`},
		{name: "jwks defaulted method", edit: func(r *Registration) { r.JWKS = ecSet(t) }, want: "a jwks is only used with"},
	})
}

func TestValidateJWKS(t *testing.T) {
	set := func(f func(t *testing.T) []byte) func(*Registration) {
		return func(r *Registration) {
			r.AuthMethod = AuthPrivateKeyJWT
			r.JWKS = f(t)
		}
	}
	raw := func(s string) func(*Registration) {
		return set(func(*testing.T) []byte { return []byte(s) })
	}
	runValidateCases(t, []validateCase{
		{name: "ec p-256 public", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "p256", false, "")) })},
		{name: "rsa 2048 public", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "rsa2048", false, "sig")) })},
		{name: "ec and rsa", edit: set(func(t *testing.T) []byte {
			return jwks(t, jwk(t, "p256", false, "sig"), jwk(t, "rsa2048", false, "sig"))
		})},
		{name: "ec private", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "p256", true, "sig")) }),
			want: `jwks key 0 (kid "p256") contains private or secret key material (d)`},
		{name: "rsa private", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "rsa2048", true, "sig")) }),
			want: "contains private or secret key material"},
		{name: "private next to public", edit: set(func(t *testing.T) []byte {
			return jwks(t, jwk(t, "rsa2048", false, "sig"), jwk(t, "p256", true, "sig"))
		}), want: `jwks key 1 (kid "p256") contains private`},
		{name: "upper-case private member", edit: raw(`{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","D":"c"}]}`),
			want: "contains private or secret key material (D)"},
		{name: "malformed private key", edit: raw(`{"keys":[{"kty":"EC","d":"AAAA"}]}`), want: "contains private"},
		{name: "symmetric", edit: raw(`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`), want: "secret key material (k)"},
		{name: "rsa 1024", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "rsa1024", false, "sig")) }),
			want: "is a 1024-bit rsa key; at least 2048 bits are required"},
		{name: "weak rsa next to good ec", edit: set(func(t *testing.T) []byte {
			return jwks(t, jwk(t, "p256", false, "sig"), jwk(t, "rsa1024", false, "sig"))
		}), want: "1024-bit"},
		{name: "p-384 only", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "p384", false, "sig")) }),
			want: "jwks has no public signing key"},
		{name: "p-384 next to p-256", edit: set(func(t *testing.T) []byte {
			return jwks(t, jwk(t, "p384", false, "sig"), jwk(t, "p256", false, "sig"))
		})},
		{name: "encryption key only", edit: set(func(t *testing.T) []byte { return jwks(t, jwk(t, "rsa2048", false, "enc")) }),
			want: "jwks has no public signing key"},
		{name: "unknown key type ignored", edit: set(func(t *testing.T) []byte {
			return jwks(t, json.RawMessage(`{"kty":"XYZ","kid":"future","x":"AQAB"}`), jwk(t, "p256", false, "sig"))
		})},
		{name: "unknown key type only", edit: raw(`{"keys":[{"kty":"XYZ"}]}`), want: "jwks has no public signing key"},
		{name: "broken ec key", edit: raw(`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"k1"}]}`),
			want: `jwks key 0 (kid "k1") is not a valid key`},
		{name: "key not an object", edit: raw(`{"keys":[42]}`), want: "jwks key 0 is not a json object"},
		{name: "no keys", edit: raw(`{"keys":[]}`), want: "jwks contains no keys"},
		{name: "no keys member", edit: raw(`{}`), want: "jwks contains no keys"},
		{name: "not json", edit: raw(`{"keys":`), want: "jwks is not a valid json web key set"},
		{name: "single key not a set", edit: set(func(t *testing.T) []byte { return jwk(t, "p256", false, "sig") }),
			want: "jwks contains no keys"},
		{name: "too large", edit: raw(`{"keys":[],"pad":"` + strings.Repeat("x", 70000) + `"}`), want: "jwks is larger than"},
	})
}

func TestValidateIDNameACR(t *testing.T) {
	id := func(s string) func(*Registration) { return func(r *Registration) { r.ID = s } }
	name := func(s string) func(*Registration) { return func(r *Registration) { r.Name = s } }
	acr := func(s string) func(*Registration) { return func(r *Registration) { r.MinimumACR = s } }
	runValidateCases(t, []validateCase{
		{name: "id allowed characters", edit: id("my-app.v2_x")},
		{name: "id three chars", edit: id("abc")},
		{name: "id 64 chars", edit: id(strings.Repeat("a", 64))},
		{name: "id too short", edit: id("ab"), want: `client id "ab" must be 3 to 64 characters long`},
		{name: "id too long", edit: id(strings.Repeat("a", 65)), want: "must be 3 to 64 characters long"},
		{name: "id upper case", edit: id("Shop"), want: `client id "Shop" may contain only a-z, 0-9`},
		{name: "id slash", edit: id("a/b/c"), want: "may contain only"},
		{name: "id space", edit: id(" shop"), want: "may contain only"},
		{name: "name required", edit: name(""), want: "name is required"},
		{name: "name blank", edit: name(" \t "), want: "name is required"},
		{name: "name 200 cyrillic runes", edit: name(strings.Repeat("ж", 200))},
		{name: "name 201 runes", edit: name(strings.Repeat("ж", 201)), want: "name is 201 characters long; at most 200 allowed"},
		{name: "name control", edit: name("Shop\x00"), want: "contains control"},
		{name: "name newline inside", edit: name("Shop\nBank"), want: "contains control"},
		{name: "name bidi override", edit: name("Shop\u202egnp.exe"), want: "bidirectional-override"},
		{name: "name invalid utf-8", edit: name("Shop\xff"), want: "not valid utf-8"},
		{name: "acr empty", edit: acr("")},
		{name: "acr simplified", edit: acr("simplified")},
		{name: "acr standard", edit: acr("standard")},
		{name: "acr confirmed", edit: acr("confirmed")},
		{name: "acr unknown", edit: acr("high"), want: `minimum acr "high" is not one of simplified, standard, confirmed`},
	})
}

func TestValidateNormalises(t *testing.T) {
	in := Registration{
		Name:                   "  Shop  ",
		RedirectURIs:           []string{"https://shop.example/a", "https://shop.example/b", "https://shop.example/a"},
		PostLogoutRedirectURIs: []string{"https://shop.example/bye", "https://shop.example/bye"},
		GrantTypes:             []string{GrantAuthorizationCode, GrantRefreshToken, GrantAuthorizationCode},
		Scopes:                 []string{"openid", "email", "openid"},
	}
	got, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got.ID) {
		t.Errorf("generated ID %q: want 32 lowercase hex characters", got.ID)
	}
	if got.Name != "Shop" {
		t.Errorf("Name = %q, want trimmed", got.Name)
	}
	want := Registration{
		ID:                     got.ID,
		Name:                   "Shop",
		RedirectURIs:           []string{"https://shop.example/a", "https://shop.example/b"},
		PostLogoutRedirectURIs: []string{"https://shop.example/bye"},
		GrantTypes:             []string{GrantAuthorizationCode, GrantRefreshToken},
		Scopes:                 []string{"openid", "email"},
		AuthMethod:             AuthClientSecretBasic,
		IDTokenSigningAlg:      "ES256",
		AccessTokenFormat:      "opaque",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate =\n%+v\nwant\n%+v", got, want)
	}

	// The output must not share backing arrays with the input.
	in.RedirectURIs[1] = "https://evil.example/"
	if got.RedirectURIs[1] != "https://shop.example/b" {
		t.Error("normalised RedirectURIs alias the input")
	}

	other, err := Registration{Name: "x", RedirectURIs: want.RedirectURIs}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == got.ID {
		t.Error("two generated IDs are equal")
	}
}

func TestValidateDefaults(t *testing.T) {
	got, err := confidential().Validate()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.GrantTypes, []string{GrantAuthorizationCode}) {
		t.Errorf("GrantTypes = %q", got.GrantTypes)
	}
	if !slices.Equal(got.Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("Scopes = %q", got.Scopes)
	}
	if got.AuthMethod != AuthClientSecretBasic {
		t.Errorf("confidential AuthMethod = %q", got.AuthMethod)
	}
	// Defaults must be copies: changing one result must not change the next.
	got.GrantTypes[0] = "mutated"
	got.Scopes[0] = "mutated"
	again, err := confidential().Validate()
	if err != nil {
		t.Fatal(err)
	}
	if again.GrantTypes[0] != GrantAuthorizationCode || again.Scopes[0] != "openid" {
		t.Error("defaults are shared between results")
	}

	pub, err := public().Validate()
	if err != nil {
		t.Fatal(err)
	}
	if pub.AuthMethod != AuthNone {
		t.Errorf("public AuthMethod = %q, want none", pub.AuthMethod)
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	r := Registration{
		ID:                   "X",
		Name:                 "",
		RedirectURIs:         []string{"http://shop.example/cb", "https://shop.example/cb#f"},
		GrantTypes:           []string{"implicit"},
		Scopes:               []string{"admin"},
		AuthMethod:           AuthNone,
		BackchannelLogoutURI: "ftp://shop.example/bcl",
		MinimumACR:           "max",
	}
	_, err := r.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	wants := []string{
		`client id "X" must be 3 to 64 characters long`,
		`client id "X" may contain only`,
		"name is required",
		`redirect uri "http://shop.example/cb": http is allowed only for loopback`,
		`redirect uri "https://shop.example/cb#f": must not contain a fragment`,
		`grant type "implicit" is not supported`,
		`back-channel logout uri "ftp://shop.example/bcl": scheme "ftp" is not allowed`,
		`scope "admin" is not supported`,
		`auth method "none" is only for public clients`,
		`minimum acr "max" is not one of`,
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not unwrap to a list", err)
	}
	if n := len(joined.Unwrap()); n != len(wants) {
		t.Errorf("got %d problems, want %d:\n%v", n, len(wants), err)
	}
	for _, e := range joined.Unwrap() {
		if msg := e.Error(); msg == "" || strings.ToLower(msg[:1]) != msg[:1] || strings.Contains(msg, "\n") {
			t.Errorf("problem %q should be one lower-case line", msg)
		}
	}
}

// FuzzValidateRedirectURI checks that Validate never panics on arbitrary
// redirect URIs and that whatever it accepts obeys the rules.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://shop.example/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb",
		"http://localhost/cb", "ru.example.app:/cb", "https://u@h/#", "%", "http://[::1%25",
		"https://[fe80::1%25en0]/", "ru.example.app:cb", "//x", "", "a.b:", "\x00",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, uri string, public bool) {
		r := Registration{ID: "fuzz", Name: "Fuzz", Public: public, RedirectURIs: []string{uri}, PostLogoutRedirectURIs: []string{uri}, BackchannelLogoutURI: uri}
		got, err := r.Validate()
		r.BackchannelLogoutURI = ""
		got2, err2 := r.Validate()
		for _, res := range []struct {
			got Registration
			err error
		}{{got, err}, {got2, err2}} {
			if res.err != nil {
				if !reflect.DeepEqual(res.got, Registration{}) {
					t.Fatalf("registration returned with error for %q", uri)
				}
				continue
			}
			if len(res.got.RedirectURIs) != 1 || res.got.RedirectURIs[0] != uri {
				t.Fatalf("accepted %q but stored %q", uri, res.got.RedirectURIs)
			}
			if strings.Contains(uri, "#") {
				t.Fatalf("accepted fragment in %q", uri)
			}
			u, perr := url.Parse(uri)
			if perr != nil || !u.IsAbs() || u.User != nil {
				t.Fatalf("accepted %q (parse err %v)", uri, perr)
			}
			switch {
			case u.Scheme == "https":
				if u.Hostname() == "" {
					t.Fatalf("accepted https without host: %q", uri)
				}
			case u.Scheme == "http":
				if !IsLoopbackHost(u.Hostname()) {
					t.Fatalf("accepted non-loopback http: %q", uri)
				}
			case strings.Contains(u.Scheme, "."):
				if !public || res.got.BackchannelLogoutURI != "" {
					t.Fatalf("accepted private-use scheme %q (public=%v, back-channel=%q)", uri, public, res.got.BackchannelLogoutURI)
				}
			default:
				t.Fatalf("accepted scheme %q in %q", u.Scheme, uri)
			}
		}
	})
}

func TestErrorsAreJoined(t *testing.T) {
	// Callers (admin API) rely on errors.Join's shape to list problems.
	_, err := Registration{}.Validate()
	if err == nil {
		t.Fatal("empty registration accepted")
	}
	var target interface{ Unwrap() []error }
	if !errors.As(err, &target) {
		t.Fatalf("%T is not a joined error", err)
	}
}

func TestValidateClientOptions(t *testing.T) {
	base := Registration{Name: "Entry", RedirectURIs: []string{"https://entry.example/cb"}}
	ok := base
	ok.IDTokenSigningAlg, ok.AccessTokenFormat, ok.RequirePAR = "RS256", "jwt", true
	got, err := ok.Validate()
	if err != nil || got.IDTokenSigningAlg != "RS256" || got.AccessTokenFormat != "jwt" || !got.RequirePAR {
		t.Fatalf("Validate(%+v) = %+v, %v", ok, got, err)
	}
	bad := base
	bad.IDTokenSigningAlg, bad.AccessTokenFormat = "HS256", "paseto"
	_, err = bad.Validate()
	if err == nil || !strings.Contains(err.Error(), `"HS256"`) || !strings.Contains(err.Error(), `"paseto"`) {
		t.Fatalf("bad options: err = %v, want both named", err)
	}
}

// A public client cannot skip consent, so it cannot be first-party.
func TestPublicClientIsNotFirstParty(t *testing.T) {
	_, err := Registration{Name: "Entry app", Public: true, FirstParty: true, RedirectURIs: []string{"ru.example.entry:/callback"}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "public client cannot be first-party") {
		t.Fatalf("public first-party client: %v", err)
	}
	if _, err := (Registration{Name: "Entry app", Public: true, RedirectURIs: []string{"ru.example.entry:/callback"}}).Validate(); err != nil {
		t.Fatalf("public client: %v", err)
	}
}

// Redirect and post-logout URIs are ASCII: a look-alike host, a
// right-to-left override or an invisible character is refused; punycode
// and percent-encoding are the way to write the rest.
func TestURIsAreASCII(t *testing.T) {
	for _, uri := range []string{
		"https://g\u043e\u043egle.com/cb",   // Cyrillic о
		"https://card.example.org/\u202Ecb", // right-to-left override
		"https://card\u00ad.example.org/cb", // soft hyphen
		"https://card.example.org/\u200bcb", // zero-width space
		"ru.example.entr\u0443:/callback",   // Cyrillic у in a private scheme
	} {
		_, err := Registration{Name: "Card", RedirectURIs: []string{uri}}.Validate()
		if err == nil || !strings.Contains(err.Error(), "outside ASCII") && !strings.Contains(err.Error(), "control") {
			t.Errorf("redirect uri %q: %v", uri, err)
		}
		_, err = Registration{Name: "Card", RedirectURIs: []string{"https://card.example.org/cb"}, PostLogoutRedirectURIs: []string{uri}}.Validate()
		if err == nil {
			t.Errorf("post-logout redirect uri %q accepted", uri)
		}
	}
	for _, uri := range []string{"https://xn--ggle-55da.com/cb", "https://card.example.org/%D0%BA%D0%B0%D1%80%D1%82%D0%B0"} {
		if _, err := (Registration{Name: "Card", RedirectURIs: []string{uri}}).Validate(); err != nil {
			t.Errorf("redirect uri %q: %v", uri, err)
		}
	}
}

// The assertion algorithm is pinned to the first key registration counts
// as a signing key, passing over the keys it lets stay but does not count.
func TestAssertionAlgFollowsRegistration(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, tc := range map[string]struct {
		keys []jose.JSONWebKey
		want string
	}{
		"P-256":                       {[]jose.JSONWebKey{{Key: &p256.PublicKey}}, "ES256"},
		"P-384 first, then P-256":     {[]jose.JSONWebKey{{Key: &p384.PublicKey}, {Key: &p256.PublicKey}}, "ES256"},
		"encryption key first":        {[]jose.JSONWebKey{{Key: &p256.PublicKey, Use: "enc"}, {Key: &p256.PublicKey, Use: "sig"}}, "ES256"},
		"another alg, then P-256":     {[]jose.JSONWebKey{{Key: &p256.PublicKey, Algorithm: "ES384"}, {Key: &p256.PublicKey}}, "ES256"},
		"only keys that do not count": {[]jose.JSONWebKey{{Key: &p384.PublicKey}}, ""},
	} {
		jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: tc.keys})
		if err != nil {
			t.Fatal(err)
		}
		if got := AssertionAlg(jwks); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
