package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// jwsJSON turns a compact JWS into the flattened JSON serialization (RFC
// 7515 §7.2.2): the same protected header, payload and signature, so the
// signature still verifies. Anyone holding the compact form can do it.
func jwsJSON(t *testing.T, compact string) string {
	t.Helper()
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", compact)
	}
	b, _ := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
	return string(b)
}

// The audience-injection defence (every aud value must be Propusk's) reads
// aud with go-jose v4's jwt.ParseSigned, which takes the compact form
// only, and lets through whatever it cannot parse ("fosite refuses it").
// fosite parses with go-jose v3, which also takes the JSON serialization.
// A malicious server that got the client to sign an assertion for
// [itself, Propusk] re-encodes it as JSON and replays it here: the check
// is skipped and fosite, content with one of our audiences, authenticates
// the client.
func TestEndToEndAssertionInJSONSerializationIsRefused(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		sign := p.rawAssertionClient(t)
		now := time.Now().Unix()
		injected := []string{"https://attacker.example", p.issuer}

		// The compact form is refused, as the defence means.
		form := sign("rp-key", map[string]any{"exp": now + 60, "iat": now, "aud": injected})
		checkAnswer(t, p.call(t, backChannelCall{path: pathToken, form: form}), http.StatusBadRequest, "invalid_client", false)

		for name, reencode := range map[string]func(string) string{
			"JSON serialization": func(c string) string { return jwsJSON(t, c) },
			// go-jose v3 strips white space from a compact JWS; v4 does not.
			"compact with a space": func(c string) string { return strings.Replace(c, ".", ". ", 1) },
		} {
			t.Run(name, func(t *testing.T) {
				form := sign("rp-key", map[string]any{"exp": now + 60, "iat": now, "aud": injected})
				form.Set("client_assertion", reencode(form.Get("client_assertion")))
				got := p.call(t, backChannelCall{path: pathToken, form: form})
				if got.status == http.StatusOK {
					t.Fatalf("an assertion for [attacker, Propusk] in %s got a token: %v", name, got.body)
				}
				checkAnswer(t, got, http.StatusBadRequest, "invalid_client", false)
			})
		}
	})
}
