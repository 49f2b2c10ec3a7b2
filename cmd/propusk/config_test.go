package main

import "testing"

// The issuer may be plain http only where a redirect URI may: on loopback,
// by the same rule (package clients), whatever the host name's case.
func TestValidIssuerLoopback(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"https://id.example.org":          true,
		"http://localhost:8080":           true,
		"http://LOCALHOST:8080":           true,
		"http://127.0.0.1:8080":           true,
		"http://[::1]:8080":               true,
		"http://localhost.evil.example":   false,
		"http://evil.localhost:8080":      false,
		"http://127.0.0.1.nip.io":         false,
		"http://[fe80::1%25en0]:8080":     false,
		"http://id.example.org":           false,
		"http://127.0.0.1@id.example.org": false,
	} {
		if err := validIssuer(issuer); (err == nil) != ok {
			t.Errorf("validIssuer(%q) = %v, want accepted %v", issuer, err, ok)
		}
	}
}
