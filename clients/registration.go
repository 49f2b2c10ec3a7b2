package clients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// Token-endpoint authentication methods (OpenID Connect Core §9).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
)

// Grant types a client may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

var (
	// SupportedGrantTypes is the closed set of grant types. The implicit and
	// password grants are deliberately absent: the OAuth 2.0 Security BCP
	// (RFC 9700) forbids the password grant and discourages implicit, which
	// leaks tokens through the browser.
	SupportedGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

	// SupportedScopes is the closed set of scopes a client may request.
	SupportedScopes = []string{"openid", "profile", "email", "phone", "offline_access", "identity"}

	// ACRValues are the account assurance levels a client may demand as its
	// minimum, weakest first. They mirror the national portal's account
	// levels; the OpenID Connect layer maps them to acr URNs.
	// A ":mfa" suffix also demands a second factor.
	ACRValues = []string{"simplified", "standard", "confirmed", "simplified:mfa", "standard:mfa", "confirmed:mfa"}

	// AuthMethods is the closed set of token-endpoint authentication methods.
	AuthMethods = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone}
)

// Defaults applied by Validate when a field is empty. Unexported so nobody
// changes them at run time; the exported lists above are documentation of
// the closed sets.
var (
	defaultGrantTypes = []string{GrantAuthorizationCode}
	defaultScopes     = []string{"openid", "profile", "email"}
)

const (
	minIDLen = 3
	maxIDLen = 64
	// maxNameRunes bounds what the consent screen has to lay out.
	maxNameRunes = 200
	// maxURILen keeps rows and authorization requests a sane size; browsers
	// and proxies start truncating URLs not far above this.
	maxURILen = 2048
	// maxJWKSLen bounds the stored key set; a handful of keys is a few KiB.
	maxJWKSLen = 64 << 10
	// minRSABits: RSA keys below 2048 bits are factorable by a determined
	// attacker and are rejected by NIST SP 800-131A.
	minRSABits = 2048
)

// Registration is what an administrator (or, later, dynamic registration)
// submits for a relying party. Validate turns it into the normalised form
// that Service stores.
type Registration struct {
	ID   string // optional; generated when empty
	Name string // shown on the consent screen

	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // default: authorization_code
	Scopes                 []string // default: openid profile email

	// Public clients (native and browser apps) cannot keep a secret; they
	// authenticate with "none" and rely on PKCE.
	Public bool
	// FirstParty clients belong to the operator and skip the consent
	// screen; confidential clients only (a public one cannot prove it is
	// the operator's app).
	FirstParty bool

	AuthMethod string // token-endpoint authentication method; defaulted from Public
	JWKS       []byte // public keys for private_key_jwt

	BackchannelLogoutURI string
	MinimumACR           string // empty or one of ACRValues

	// IDTokenSigningAlg is ES256 (default) or RS256, for relying parties
	// whose libraries cannot verify ECDSA.
	IDTokenSigningAlg string
	// RequirePAR makes the client push every authorization request
	// (RFC 9126), so its parameters never travel through the browser.
	RequirePAR bool
	// AccessTokenFormat is "opaque" (default) or "jwt" (RFC 9068).
	AccessTokenFormat string
}

// Supported per-client options.
var (
	IDTokenSigningAlgs = []string{"ES256", "RS256"}
	AccessTokenFormats = []string{"opaque", "jwt"}
)

// Validate checks r and returns its normalised form: defaults filled in,
// lists deduplicated, an ID generated when none was given. On failure it
// returns the zero Registration and every problem found, joined with
// errors.Join, so a caller can show them all at once.
func (r Registration) Validate() (Registration, error) {
	var p problems
	out := Registration{
		Public:     r.Public,
		FirstParty: r.FirstParty,
	}

	out.ID = p.id(r.ID)
	out.Name = p.name(r.Name)
	if r.Public && r.FirstParty {
		// Nothing proves which app is asking, so the person always
		// confirms (RFC 8252 §8.6); first-party could not skip it.
		p.add("a public client cannot be first-party: it always asks for consent")
	}

	out.GrantTypes = p.grantTypes(r.GrantTypes, r.Public)
	// Redirect URIs are only used by the authorization-code flow; a
	// machine-to-machine client (client_credentials only) never redirects
	// anyone, so forcing it to invent a URI would only add attack surface.
	needRedirect := slices.Contains(out.GrantTypes, GrantAuthorizationCode)
	out.RedirectURIs = p.uris("redirect uri", r.RedirectURIs, r.Public)
	if needRedirect && len(r.RedirectURIs) == 0 {
		p.add("at least one redirect uri is required for the %q grant", GrantAuthorizationCode)
	}
	out.PostLogoutRedirectURIs = p.uris("post-logout redirect uri", r.PostLogoutRedirectURIs, r.Public)
	if r.BackchannelLogoutURI != "" {
		// The OP calls this URI server to server, so a scheme only a phone
		// app can open makes no sense here: private schemes are never allowed.
		if msg := checkURI(r.BackchannelLogoutURI, false, false); msg != "" {
			p.add("back-channel logout uri %s: %s", quoteURI(r.BackchannelLogoutURI), msg)
		}
		out.BackchannelLogoutURI = r.BackchannelLogoutURI
	}

	out.Scopes = p.scopes(r.Scopes)
	out.AuthMethod, out.JWKS = p.authMethod(r.AuthMethod, r.JWKS, r.Public)

	if r.MinimumACR != "" && !slices.Contains(ACRValues, r.MinimumACR) {
		p.add("minimum acr %q is not one of %s", r.MinimumACR, strings.Join(ACRValues, ", "))
	}
	out.MinimumACR = r.MinimumACR

	out.IDTokenSigningAlg = r.IDTokenSigningAlg
	if out.IDTokenSigningAlg == "" {
		out.IDTokenSigningAlg = "ES256"
	} else if !slices.Contains(IDTokenSigningAlgs, out.IDTokenSigningAlg) {
		p.add("id token signing algorithm %q is not one of %s", r.IDTokenSigningAlg, strings.Join(IDTokenSigningAlgs, ", "))
	}
	out.AccessTokenFormat = r.AccessTokenFormat
	if out.AccessTokenFormat == "" {
		out.AccessTokenFormat = "opaque"
	} else if !slices.Contains(AccessTokenFormats, out.AccessTokenFormat) {
		p.add("access token format %q is not one of %s", r.AccessTokenFormat, strings.Join(AccessTokenFormats, ", "))
	}
	out.RequirePAR = r.RequirePAR

	if err := errors.Join(p...); err != nil {
		return Registration{}, err
	}
	return out, nil
}

// problems collects validation failures so Validate can report all of them.
type problems []error

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Errorf(format, args...))
}

func (p *problems) id(id string) string {
	if id == "" {
		return newClientID()
	}
	if n := len(id); n < minIDLen || n > maxIDLen {
		p.add("client id %q must be %d to %d characters long", id, minIDLen, maxIDLen)
	}
	// The ID appears in URLs, logs and tokens (aud, azp): a small lowercase
	// alphabet keeps it free of escaping and of look-alike variants that
	// differ only in case.
	if strings.ContainsFunc(id, func(c rune) bool { return !isIDChar(c) }) {
		p.add("client id %q may contain only a-z, 0-9, '.', '_' and '-'", id)
	}
	return id
}

func isIDChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// newClientID returns 16 random bytes as lowercase hex (32 characters). Hex
// rather than base64url so a generated ID passes the same rule as a chosen
// one, and Validate stays idempotent on its own output.
func newClientID() string {
	var b [16]byte
	// crypto/rand.Read never fails (it crashes the program rather than
	// return weak randomness).
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (p *problems) name(name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		p.add("name is required")
	case !utf8.ValidString(name):
		p.add("name %q is not valid utf-8", name)
	case utf8.RuneCountInString(name) > maxNameRunes:
		p.add("name is %d characters long; at most %d allowed", utf8.RuneCountInString(name), maxNameRunes)
	case strings.ContainsFunc(name, isDisguising):
		// The name is shown to people deciding whether to trust the client;
		// control characters and bidi overrides only serve to make it look
		// like something else.
		p.add("name %q contains control or bidirectional-override characters", name)
	}
	return name
}

// isDisguising reports control characters and the Unicode bidi embedding,
// override and isolate controls (U+202A–U+202E, U+2066–U+2069), which can
// reorder how a name is displayed.
func isDisguising(c rune) bool {
	return unicode.IsControl(c) || c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069
}

func (p *problems) uris(label string, in []string, public bool) []string {
	out := dedupe(in)
	for _, u := range out {
		if msg := checkURI(u, true, public); msg != "" {
			p.add("%s %s: %s", label, quoteURI(u), msg)
		}
	}
	return out
}

// checkURI returns why raw is unacceptable as a URI the OP sends a browser
// (or a server-to-server call) to, or "" when it is fine. privateSchemes
// says whether the field admits RFC 8252 private-use schemes at all; public
// says whether the client is public, the only kind allowed to use them.
//
// URIs are kept exactly as given: redirect URIs are compared by simple
// string comparison (RFC 9700 §4.1.3), so rewriting them would only break
// the match.
func checkURI(raw string, privateSchemes, public bool) string {
	if raw == "" {
		return "is empty"
	}
	if len(raw) > maxURILen {
		return fmt.Sprintf("is longer than %d bytes", maxURILen)
	}
	if strings.ContainsFunc(raw, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) {
		return "contains whitespace or control characters"
	}
	// ASCII only: a look-alike host (Cyrillic "о" in "gооgle.com"), a
	// right-to-left override or an invisible character would send codes
	// somewhere a person reading the registration did not see. An
	// internationalised host is registered in its punycode (xn--) form,
	// and other characters percent-encoded.
	if strings.ContainsFunc(raw, func(c rune) bool { return c > unicode.MaxASCII }) {
		return "contains characters outside ASCII (write an internationalised host as punycode, xn--…, and percent-encode the rest)"
	}
	// Checked on the raw string because url.Parse drops an empty fragment
	// ("https://a/cb#"), and any '#' would make the OP's appended response
	// parameters land in the fragment (RFC 6749 §3.1.2).
	if strings.Contains(raw, "#") {
		return "must not contain a fragment"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid uri"
	}
	if !u.IsAbs() {
		return "must be absolute (scheme://host/path)"
	}
	// Userinfo in a redirect target is a classic phishing disguise
	// ("https://bank.example@evil.example/").
	if u.User != nil {
		return "must not contain user information"
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return "has no host"
		}
	case "http":
		// Plain http exposes the authorization code on the wire; it is
		// tolerable only when the traffic never leaves the machine
		// (RFC 8252 §7.3 loopback redirects for native apps and local
		// development).
		if !IsLoopbackHost(u.Hostname()) {
			return "http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https"
		}
	default:
		// RFC 8252 §7.1: private-use schemes are reverse domain names, so a
		// '.' tells them apart from "javascript", "data", "file" and friends.
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Sprintf("scheme %q is not allowed; use https", u.Scheme)
		}
		if !privateSchemes {
			return fmt.Sprintf("private-use scheme %q is not allowed here; use https", u.Scheme)
		}
		// A confidential client is a server: it has no business with a
		// scheme any app on a phone can register for.
		if !public {
			return fmt.Sprintf("private-use scheme %q is allowed only for public (native) clients", u.Scheme)
		}
		// RFC 8252 §7.1 spells them "com.example.app:/oauth2redirect"; an
		// opaque form ("com.example.app:cb") is not a redirect URI.
		if u.Opaque != "" {
			return "must have a path starting with '/' after the scheme"
		}
	}
	return ""
}

// IsLoopbackHost reports whether host (a URL's Hostname) is "localhost", in
// any case (host names are case-insensitive, RFC 3986 §3.2.2), or an address
// in 127.0.0.0/8 or ::1 without a zone. Other names are refused: they go
// through DNS and may resolve anywhere. It is the one rule for where plain
// http is allowed: redirect URIs at registration and at authorization, and
// the issuer.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Zone() == "" && addr.IsLoopback()
}

// quoteURI quotes a URI for an error message, shortening monsters.
func quoteURI(s string) string {
	const limit = 100
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

func (p *problems) grantTypes(in []string, public bool) []string {
	out := dedupe(in)
	if len(out) == 0 {
		return slices.Clone(defaultGrantTypes)
	}
	for _, g := range out {
		if !slices.Contains(SupportedGrantTypes, g) {
			p.add("grant type %q is not supported (allowed: %s)", g, strings.Join(SupportedGrantTypes, ", "))
		}
	}
	// A refresh token is only ever issued alongside an authorization-code
	// exchange; on its own the grant could never be used.
	if slices.Contains(out, GrantRefreshToken) && !slices.Contains(out, GrantAuthorizationCode) {
		p.add("grant type %q requires %q", GrantRefreshToken, GrantAuthorizationCode)
	}
	// client_credentials means "the client itself is the principal": without
	// a secret or key anyone holding the public client ID could get tokens.
	if public && slices.Contains(out, GrantClientCredentials) {
		p.add("grant type %q is not allowed for public clients", GrantClientCredentials)
	}
	return out
}

func (p *problems) scopes(in []string) []string {
	out := dedupe(in)
	if len(out) == 0 {
		return slices.Clone(defaultScopes)
	}
	for _, s := range out {
		switch {
		case !isScopeToken(s):
			p.add("scope %q contains characters not allowed in a scope token", s)
		case !slices.Contains(SupportedScopes, s):
			p.add("scope %q is not supported (allowed: %s)", s, strings.Join(SupportedScopes, ", "))
		}
	}
	return out
}

// isScopeToken follows RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B /
// %x5D-7E ), i.e. printable ASCII without space, '"' and '\'. Checked even
// though the set is closed, so the message says what is actually wrong.
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (p *problems) authMethod(method string, jwks []byte, public bool) (string, []byte) {
	if method == "" {
		if public {
			method = AuthNone
		} else {
			method = AuthClientSecretBasic
		}
	}
	switch {
	case !slices.Contains(AuthMethods, method):
		p.add("auth method %q is not supported (allowed: %s)", method, strings.Join(AuthMethods, ", "))
	case public && method != AuthNone:
		// A public client cannot keep a secret or a private key safe, so
		// pretending it authenticates would only give false assurance.
		p.add("public clients must use auth method %q, not %q", AuthNone, method)
	case !public && method == AuthNone:
		p.add("auth method %q is only for public clients; confidential clients must authenticate", AuthNone)
	}

	if method != AuthPrivateKeyJWT {
		if len(jwks) > 0 {
			p.add("a jwks is only used with auth method %q, not %q", AuthPrivateKeyJWT, method)
		}
		return method, nil
	}
	if len(jwks) == 0 {
		p.add("auth method %q requires a jwks", AuthPrivateKeyJWT)
		return method, nil
	}
	*p = append(*p, checkJWKS(jwks)...)
	return method, slices.Clone(jwks)
}

// signingAlg is the algorithm a client's key signs assertions with, or ""
// when the key does not count as a signing key: EC P-256 → ES256, RSA of
// at least minRSABits → PS256, with "use" sig or absent and "alg" absent
// or that algorithm. Other curves (P-384, P-521), Ed25519 and encryption
// keys are harmless and may stay in a set, but they do not count.
func signingAlg(k jose.JSONWebKey) string {
	if k.Use != "" && k.Use != "sig" {
		return ""
	}
	var alg string
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		if key.Curve == elliptic.P256() {
			alg = "ES256"
		}
	case *rsa.PublicKey:
		if key.N.BitLen() >= minRSABits {
			alg = "PS256"
		}
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return ""
	}
	return alg
}

// AssertionAlg is the one algorithm the token endpoint accepts for a
// private_key_jwt client's assertions: that of the first key in its
// registered set that counts as a signing key (checkJWKS makes sure there
// is one). Keys it cannot read are passed over, as registration does.
func AssertionAlg(jwks []byte) string {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(jwks, &set) != nil {
		return ""
	}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.IsPublic() {
			continue
		}
		if alg := signingAlg(k); alg != "" {
			return alg
		}
	}
	return ""
}

// privateMembers are the JWK members that carry private or secret key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; "priv" for AKP keys). Checked on
// the raw JSON, before go-jose parses anything, so a private key is refused
// even when it is otherwise malformed or of a type go-jose does not know.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// checkJWKS returns the problems with a client's JSON Web Key Set. The set
// is what the token endpoint verifies client assertions with, so every key
// in it is trusted: it must contain no private or secret material (a key an
// administrator pasted by mistake would now sit in our database), no weak
// keys (any key in the set can sign an assertion), and at least one key the
// token endpoint can actually use.
func checkJWKS(data []byte) []error {
	var p problems
	if len(data) > maxJWKSLen {
		p.add("jwks is larger than %d bytes", maxJWKSLen)
		return p
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		p.add("jwks is not a valid json web key set: %v", err)
		return p
	}
	if len(set.Keys) == 0 {
		p.add("jwks contains no keys")
		return p
	}

	usable := 0
	for i, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil || members == nil {
			p.add("jwks key %d is not a json object", i)
			continue
		}
		label := fmt.Sprintf("jwks key %d", i)
		var kid string
		if json.Unmarshal(members["kid"], &kid) == nil && kid != "" {
			label = fmt.Sprintf("jwks key %d (kid %q)", i, kid)
		}

		var private []string
		for name := range members {
			// Lower-cased so "D" does not slip past us yet get picked up by
			// some case-insensitive parser further down the line.
			if slices.Contains(privateMembers, strings.ToLower(name)) {
				private = append(private, name)
			}
		}
		if len(private) > 0 {
			slices.Sort(private)
			p.add("%s contains private or secret key material (%s); publish only the public key",
				label, strings.Join(private, ", "))
			continue
		}

		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				// RFC 7517 §5: key types we do not understand are ignored,
				// not fatal; they may be meant for other parties.
				continue
			}
			p.add("%s is not a valid key: %v", label, err)
			continue
		}
		if !k.IsPublic() || !k.Valid() {
			p.add("%s is not a valid public key", label)
			continue
		}
		if key, ok := k.Key.(*rsa.PublicKey); ok && key.N.BitLen() < minRSABits {
			p.add("%s is a %d-bit rsa key; at least %d bits are required", label, key.N.BitLen(), minRSABits)
			continue
		}
		if signingAlg(k) != "" {
			usable++
		}
	}
	if usable == 0 && len(p) == 0 {
		p.add("jwks has no public signing key (ec p-256, or rsa of at least %d bits)", minRSABits)
	}
	return p
}

// dedupe returns the distinct values of in, first occurrence first. Order is
// kept because it is the administrator's (and the discovery document's).
func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
