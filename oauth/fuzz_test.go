package oauth

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/testdb"
)

// FuzzParseClaimsRequest checks that the claims parameter (chosen by the
// relying party, or by whoever crafts the authorization URL) never panics
// the parser nor the code that reads what it parsed.
func FuzzParseClaimsRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{`, `{"id_token":null}`,
		`{"id_token":{"acr":null}}`,
		`{"id_token":{"acr":{"essential":true,"values":["urn:propusk:acr:standard"]}}}`,
		`{"userinfo":{"acr":{"essential":true,"value":"urn:propusk:acr:confirmed"}},"id_token":{"email":null,"name":{}}}`,
		`{"id_token":{"acr":{"essential":true,"values":null,"value":""}}}`,
		`{"id_token":{"acr":{"essential":"yes"}}}`,
		`{"ID_TOKEN":{"ACR":{"ESSENTIAL":true,"VALUE":"x"}}}`,
		`{"id_token":{"acr":{"essential":true}},"id_token":{"acr":{"essential":false}}}`,
		`{"id_token":{"\u0000":{},"a\ud800":{}}}`,
		strings.Repeat(`[`, 5000),
		`{"id_token":{` + strings.Repeat(`"a":{},`, 600) + `"b":{}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseClaimsRequest(s)
		if len(s) > 4096 && err == nil {
			t.Fatalf("accepted a claims parameter of %d bytes", len(s))
		}
		if err != nil {
			return
		}
		ess := cr.essentialACR()
		claims := cr.idTokenClaims()
		if !slices.IsSorted(claims) || len(claims) != len(cr.IDToken) {
			t.Fatalf("idTokenClaims = %q for %v", claims, cr.IDToken)
		}
		for _, min := range []string{"", "standard"} {
			if req, ok := newRequirement(min, "", ess); ok && !req.metBy(acr{level: 2, mfa: true}) {
				t.Fatalf("the top of the lattice does not meet %v", req)
			}
		}
	})
}

// FuzzRequirement checks the acr rules on arbitrary input: a requirement
// is met monotonically (whatever meets it, anything higher meets too), the
// client's minimum always binds, and ok is false exactly when a list holds
// only unknown values.
func FuzzRequirement(f *testing.F) {
	f.Add("", "", "")
	f.Add("confirmed", "urn:propusk:acr:simplified", "")
	f.Add("standard:mfa", "", "urn:propusk:acr:simplified")
	f.Add("simplified", "urn:propusk:acr:confirmed urn:propusk:acr:standard:mfa", "x\nurn:propusk:acr:confirmed")
	f.Add("", "unknown", "")
	f.Add("", "", "unknown")
	f.Add("bogus", "\t urn:propusk:acr:standard\n", "\n\n")
	f.Add("", "URN:PROPUSK:ACR:CONFIRMED", "urn:propusk:acr:confirmed:mfa ")
	var all []acr
	for l := range levels {
		all = append(all, acr{level: l}, acr{level: l, mfa: true})
	}
	f.Fuzz(func(t *testing.T, minimum, acrValues, essentialJoined string) {
		var essential []string
		if essentialJoined != "" {
			essential = strings.Split(essentialJoined, "\n")
		}
		req, ok := newRequirement(minimum, acrValues, essential)
		known := func(values []string) bool {
			if len(values) == 0 {
				return true
			}
			for _, v := range values {
				if _, ok := parseACR(v); ok {
					return true
				}
			}
			return false
		}
		if want := known(strings.Fields(acrValues)) && known(essential); ok != want {
			t.Fatalf("newRequirement(%q, %q, %q) ok = %v, want %v", minimum, acrValues, essential, ok, want)
		}
		if !ok {
			return
		}
		floor, hasFloor := parseLevel(minimum)
		for _, a := range all {
			if req.metBy(a) {
				for _, b := range all {
					if b.meets(a) && !req.metBy(b) {
						t.Fatalf("%v meets %v but the higher %v does not", a, req, b)
					}
				}
				if hasFloor && !a.meets(floor) {
					t.Fatalf("%v meets %v though below the client's minimum %v", a, req, floor)
				}
			}
		}
	})
}

// FuzzRedirectSecure checks that plain http is accepted only for loopback
// hosts, whatever url.Parse makes of the input, and that every redirect URI
// registration accepts is one authorization accepts too.
func FuzzRedirectSecure(f *testing.F) {
	for _, s := range []string{
		"https://shop.example/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost/cb",
		"http://localhost.evil.example/", "http://evil.localhost/", "http://127.0.0.1.nip.io/",
		"http://127.0.0.1@evil.example/", "http://evil.example#@127.0.0.1", "http://[::ffff:127.0.0.1]/",
		"http://127.1/", "http://0x7f000001/", "http://LOCALHOST/", "http://localhost./", "HTTP://evil.example/",
		"http:evil.example", "http:///evil.example", "http://local%68ost/", "http://[::1%25lo]/",
		"http://[fe80::1%25en0]/", "ru.example.app:/cb", "javascript:alert(1)", "", "//evil.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		secure := redirectSecure(u)
		if _, err := (clients.Registration{Name: "Card", RedirectURIs: []string{s}}).Validate(); err == nil && !secure {
			t.Fatalf("registration accepts redirect URI %q, authorization refuses it", s)
		}
		if u.Scheme == "" && secure {
			t.Fatalf("redirectSecure(%q) accepted a relative URL", s)
		}
		if u.Scheme != "http" || !secure {
			return
		}
		h := u.Hostname()
		if strings.EqualFold(h, "localhost") {
			return
		}
		ip := net.ParseIP(h)
		if ip == nil || !ip.IsLoopback() {
			t.Fatalf("redirectSecure(%q) accepted http for host %q", s, h)
		}
		// A browser must see the same loopback host: no user info or
		// leftovers that could make it connect elsewhere.
		if strings.ContainsAny(u.Host, "\\@") {
			t.Fatalf("redirectSecure(%q) accepted an ambiguous host %q", s, u.Host)
		}
	})
}

// FuzzHintSubject checks that id_token_hint verification never panics and
// accepts only hints Propusk signed for the issuer (and the client, when
// given). The fuzzer cannot forge a signature, so an accepted hint must be
// one of the seeds' tokens (or a re-encoding of one).
func FuzzHintSubject(f *testing.F) {
	ctx := f.Context()
	db := testdb.SQLite(f)
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	ring, err := seal.NewRing(k)
	if err != nil {
		f.Fatal(err)
	}
	ks := &KeySet{Store: db, Ring: ring}
	if err := ks.Ensure(ctx); err != nil {
		f.Fatal(err)
	}
	h := &Handler{Config: Config{Issuer: testIssuer}, Keys: ks}

	sign := func(alg string, kid *string, c jwt.Claims) string {
		key, err := ks.Current(ctx, alg)
		if err != nil {
			f.Fatal(err)
		}
		k := *key
		if kid != nil {
			k.KeyID = *kid
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: &k}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			f.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	past := jwt.NewNumericDate(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	good := jwt.Claims{Issuer: testIssuer, Subject: "account-1", Audience: jwt.Audience{"client-a"}, Expiry: past, IssuedAt: past}
	twoAud := jwt.Claims{Issuer: testIssuer, Subject: "account-2", Audience: jwt.Audience{"client-b", "client-a"}}
	otherIss := jwt.Claims{Issuer: "https://evil.example", Subject: "account-1", Audience: jwt.Audience{"client-a"}}
	noSub := jwt.Claims{Issuer: testIssuer, Audience: jwt.Audience{"client-a"}}
	empty, unknown := "", "no-such-key"
	es := sign(AlgES256, nil, good)
	parts := strings.Split(es, ".")
	seeds := []string{
		es,
		sign(AlgRS256, nil, good),
		sign(AlgES256, nil, twoAud),
		sign(AlgES256, nil, otherIss),
		sign(AlgES256, nil, noSub),
		sign(AlgES256, &empty, good),
		sign(AlgES256, &unknown, good),
		// alg none and a tampered payload
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		parts[0] + ".eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUub3JnIiwic3ViIjoieCJ9." + parts[2],
		parts[0] + "." + parts[1], "", ".", "..", "a.b.c", "\x00",
		`{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
	}
	// The seeds must reach both outcomes, or the target tests little.
	for i, want := range []string{"account-1", "account-1", "account-2", "", "", "", ""} {
		if got, _ := h.hintSubject(ctx, seeds[i], "client-a"); got != want {
			f.Fatalf("seed %d: hintSubject = %q, want %q", i, got, want)
		}
	}
	for _, s := range seeds {
		f.Add(s, "client-a")
		f.Add(s, "")
	}
	f.Add(seeds[2], "client-b")
	f.Add(seeds[2], "client-c")
	f.Fuzz(func(t *testing.T, hint, clientID string) {
		sub, err := h.hintSubject(t.Context(), hint, clientID)
		if err != nil {
			if sub != "" {
				t.Fatalf("subject %q returned with error %v", sub, err)
			}
			return
		}
		if sub != "account-1" && sub != "account-2" {
			t.Fatalf("accepted a hint with subject %q", sub)
		}
		// Verify independently: a Propusk key signed it, for this issuer
		// and (when given) this client.
		tok, perr := jwt.ParseSigned(hint, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
		if perr != nil {
			t.Fatalf("accepted an unparsable hint: %v", perr)
		}
		set, _ := ks.Published(t.Context())
		var c jwt.Claims
		verified := false
		for _, k := range set.Keys {
			if tok.Claims(k.Key, &c) == nil {
				verified = true
				break
			}
		}
		if !verified {
			t.Fatalf("accepted a hint no Propusk key verifies: %q", hint)
		}
		if c.Issuer != testIssuer || c.Subject != sub || (clientID != "" && !slices.Contains([]string(c.Audience), clientID)) {
			t.Fatalf("accepted hint with claims %+v for client %q", c, clientID)
		}
	})
}
