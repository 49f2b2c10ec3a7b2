package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestKeysListAndRotate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		stdout, stderr, code := b.run(t, "", "keys", "list", "--json")
		wantOK(t, code, stdout, stderr)
		var keys []struct {
			KID, Alg, State string
		}
		if err := json.Unmarshal([]byte(stdout), &keys); err != nil || len(keys) != 2 {
			t.Fatalf("keys list: %v %s", err, stdout)
		}
		stdout, stderr, code = b.run(t, "", "keys", "rotate", "--alg", "ES256", "--publish-ahead", "1h")
		wantOK(t, code, stdout, stderr)
		if !strings.Contains(stdout, "published now") {
			t.Fatalf("rotate: %s", stdout)
		}
		stdout, _, _ = b.run(t, "", "keys", "list")
		if !strings.Contains(stdout, "next") || strings.Count(stdout, "current") != 2 {
			t.Fatalf("after rotation:\n%s", stdout)
		}
		_, stderr, code = b.run(t, "", "keys", "rotate", "--alg", "HS256")
		wantFail(t, code, stderr, exitUsage, "propusk keys: ", "HS256")
		// A key that would sign before cached JWKS have it needs --force.
		_, stderr, code = b.run(t, "", "keys", "rotate", "--publish-ahead", "1m")
		wantFail(t, code, stderr, exitUsage, "propusk keys: ", "--publish-ahead 1m0s is shorter than relying parties may cache the JWKS", "--force")
		stdout, stderr, code = b.run(t, "", "keys", "rotate", "--publish-ahead", "1m", "--force")
		wantOK(t, code, stdout, stderr)
	})
}
