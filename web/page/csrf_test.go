package page

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCrossOrigin(t *testing.T) {
	reached := false
	h := CrossOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	for _, tt := range []struct {
		name    string
		method  string
		headers map[string]string
		allowed bool
	}{
		{"same-origin post", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"typed-in", "POST", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"cross-site post", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"same-site post", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"old browser, foreign origin", "POST", map[string]string{"Origin": "https://evil.example"}, false},
		{"old browser, own origin", "POST", map[string]string{"Origin": "http://id.example"}, true},
		{"no browser headers", "POST", nil, true},
		{"cross-site get", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
	} {
		reached = false
		r := httptest.NewRequest(tt.method, "http://id.example/login", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if reached != tt.allowed {
			t.Errorf("%s: reached %v, want %v", tt.name, reached, tt.allowed)
		}
		if !tt.allowed && w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tt.name, w.Code)
		}
	}
}
