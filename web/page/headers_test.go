package page

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	rd := newRenderer(t)
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Render(w, r, http.StatusOK, russian, LoggedOutPage, LoggedOutView{})
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/logged-out", nil))
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	// Also on responses that are not pages.
	w = httptest.NewRecorder()
	SecurityHeaders(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	for k := range want {
		if w.Header().Get(k) == "" {
			t.Errorf("404: no %s", k)
		}
	}
}

func TestAllowFormAction(t *testing.T) {
	tests := []struct {
		origins []string
		want    string // the form-action directive
	}{
		{[]string{"https://card.example.org"}, "form-action 'self' https://card.example.org"},
		{[]string{"https://card.example.org/callback?x=1#f"}, "form-action 'self' https://card.example.org"},
		{[]string{"https://User:pw@Card.Example.org:8443/cb"}, "form-action 'self' https://card.example.org:8443"},
		{[]string{"http://127.0.0.1:9000/cb"}, "form-action 'self' http://127.0.0.1:9000"},
		{[]string{"https://a.example", "https://b.example", "https://a.example"}, "form-action 'self' https://a.example https://b.example"},
		// Not an http(s) origin: unchanged.
		{[]string{""}, "form-action 'self'"},
		{[]string{"javascript:alert(1)"}, "form-action 'self'"},
		{[]string{"ru.example.entry:/callback"}, "form-action 'self'"},
		{[]string{"https://"}, "form-action 'self'"},
		{[]string{"https://a.example; script-src *"}, "form-action 'self'"},
		{[]string{"https://a.example 'unsafe-inline'"}, "form-action 'self'"},
		{[]string{"https://a.example\r\nSet-Cookie: x=1"}, "form-action 'self'"},
		{[]string{"*"}, "form-action 'self'"},
		{[]string{"/relative"}, "form-action 'self'"},
	}
	for _, tt := range tests {
		h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, o := range tt.origins {
				AllowFormAction(w, o)
			}
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		csp := w.Header().Get("Content-Security-Policy")
		var got string
		for _, d := range strings.Split(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "form-action") {
				got = d
			}
		}
		if got != tt.want {
			t.Errorf("%q: form-action %q, want %q", tt.origins, got, tt.want)
		}
		// The rest of the policy stays.
		want := strings.Replace(ContentSecurityPolicy, "form-action 'self'", tt.want, 1)
		if csp != want {
			t.Errorf("%q: CSP %q, want %q", tt.origins, csp, want)
		}
	}

	// Without SecurityHeaders in front, it starts from the standard policy.
	w := httptest.NewRecorder()
	AllowFormAction(w, "https://rp.example/cb")
	if got, want := w.Header().Get("Content-Security-Policy"), strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' https://rp.example", 1); got != want {
		t.Errorf("bare: %q, want %q", got, want)
	}
}

// The form_post page, as a handler would send it: CSP lets its form go to
// the relying party.
func TestFormPostPageCSP(t *testing.T) {
	rd := newRenderer(t)
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := FormPostView{Action: "https://card.example.org/callback", Params: [][2]string{{"code", "c"}}}
		AllowFormAction(w, v.Action)
		if err := rd.Render(w, r, http.StatusOK, english, FormPostPage, v); err != nil {
			t.Error(err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/oauth2/auth")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://card.example.org;") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(string(body), `action="https://card.example.org/callback"`) || !strings.Contains(string(body), "Continue") {
		t.Errorf("body %s", body)
	}
}

func TestStaticHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", StaticHandler())
	h := SecurityHeaders(mux)

	url := staticURL("style.css")
	if !strings.HasPrefix(url, "/static/style.css?v=") {
		t.Fatalf("staticURL = %q", url)
	}
	for _, tt := range []struct {
		target, cache string
		status        int
	}{
		{url, "public, max-age=31536000, immutable", 200},
		{"/static/style.css", "public, max-age=300", 200},
		{"/static/style.css?v=old", "public, max-age=300", 200},
		{"/static/", "no-store", 404},
		{"/static/nope.css", "no-store", 404},
		{"/static/../static/style.css", "no-store", 0},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.target, nil))
		if tt.status != 0 && w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.target, w.Code, tt.status)
		}
		if w.Code == 200 {
			if got := w.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("%s: Cache-Control %q, want %q", tt.target, got, tt.cache)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
				t.Errorf("%s: Content-Type %q", tt.target, ct)
			}
			if !strings.Contains(w.Body.String(), "font-family") {
				t.Errorf("%s: not the stylesheet", tt.target)
			}
		} else if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", tt.target, w.Code, got)
		}
	}
}

// The stylesheet uses nothing from elsewhere.
func TestStylesheetSelfContained(t *testing.T) {
	data, err := fs.ReadFile(staticFS, "style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(data)
	for _, bad := range []string{"@import", "url(", "http:", "https:", "@font-face"} {
		if strings.Contains(css, bad) {
			t.Errorf("style.css contains %q", bad)
		}
	}
	for _, want := range []string{"system-ui", "max-width: 28rem", ":focus-visible"} {
		if !strings.Contains(css, want) {
			t.Errorf("style.css lacks %q", want)
		}
	}
}
