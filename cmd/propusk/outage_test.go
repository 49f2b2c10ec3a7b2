package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/oauth"
)

// TestMetadataSurvivesDatabaseOutage: relying parties keep verifying tokens
// while the database is down, so the JWKS and the discovery documents are
// served from memory, with the right keys, even after the JWKS has to be
// rebuilt (a key change) and the rebuild fails.
func TestMetadataSurvivesDatabaseOutage(t *testing.T) {
	for _, backend := range testdb.Backends {
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			h, jobs, db := testHandler(t, backend)
			stored, err := db.ListSigningKeys(t.Context())
			if err != nil || len(stored) == 0 {
				t.Fatalf("signing keys: %v %v", stored, err)
			}
			var want []string
			for _, k := range stored {
				want = append(want, k.ID)
			}
			get := func(path string) (int, []byte) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				body, _ := io.ReadAll(rec.Body)
				return rec.Code, body
			}
			kids := func(body []byte) []string {
				var set struct{ Keys []struct{ Kid string } }
				if err := json.Unmarshal(body, &set); err != nil {
					t.Fatalf("JWKS: %v: %s", err, body)
				}
				var out []string
				for _, k := range set.Keys {
					out = append(out, k.Kid)
				}
				slices.Sort(out)
				return out
			}
			slices.Sort(want)
			if code, body := get(oauth.PathJWKS); code != http.StatusOK || !slices.Equal(kids(body), want) {
				t.Fatalf("JWKS before the outage: %d %s", code, body)
			}
			_, discovery := get(oauth.PathDiscovery)

			db.Close()
			// The key view is dropped (as after a rotation on this node), so
			// the next JWKS must be rebuilt — and the database is gone.
			if _, err := jobs.keys.Describe(t.Context()); err == nil {
				t.Fatal("the database still answers after Close")
			}
			if err := jobs.keys.RefreshPublished(t.Context()); err == nil {
				t.Fatal("a JWKS rebuild succeeded without a database")
			}
			code, body := get(oauth.PathJWKS)
			if code != http.StatusOK || !slices.Equal(kids(body), want) {
				t.Errorf("JWKS during the outage: %d %s, want 200 with %v", code, body, want)
			}
			for _, path := range []string{oauth.PathDiscovery, oauth.PathAuthorizationServerMetadata} {
				code, body := get(path)
				if code != http.StatusOK || string(body) != string(discovery) {
					t.Errorf("%s during the outage: %d %s", path, code, body)
				}
			}
		})
	}
}

// TestJWKSFollowsRotation: a key rotated in by another process (propusk
// keys rotate) reaches the served JWKS at the next background refresh.
func TestJWKSFollowsRotation(t *testing.T) {
	h, jobs, db := testHandler(t, "sqlite")
	other := &oauth.KeySet{Store: db, Ring: jobs.keys.Ring} // the keys command's view
	kid, err := other.Rotate(t.Context(), oauth.AlgES256, oauth.MinPublishAhead)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.keys.RefreshPublished(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, oauth.PathJWKS, nil))
	var set struct{ Keys []struct{ Kid string } }
	json.Unmarshal(rec.Body.Bytes(), &set)
	if !slices.ContainsFunc(set.Keys, func(k struct{ Kid string }) bool { return k.Kid == kid }) {
		t.Errorf("JWKS after a rotation elsewhere and a refresh lacks %s: %s", kid, rec.Body)
	}
}
