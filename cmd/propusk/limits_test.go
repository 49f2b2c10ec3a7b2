package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/language"

	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/testdb"
	"github.com/propusk/propusk/oauth"
	"github.com/propusk/propusk/web/page"
)

// testHandler is the real handler tree (as serve builds it) over a fresh
// database, and its background jobs, not started.
func testHandler(t *testing.T, backend string) (http.Handler, *background, database) {
	t.Helper()
	db := testdb.Open(t, backend)
	logger := slog.New(reqlog.Handler{Handler: slog.NewTextHandler(io.Discard, nil)})
	h, jobs, err := newHandler(t.Context(), "http://127.0.0.1:8080", db, newRing(t), logger, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h, jobs, db
}

// endlessBody yields n bytes of a URL-encoded form and counts what was
// read of it.
type endlessBody struct {
	left int64
	read atomic.Int64
}

func (b *endlessBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	copy(p, "a=")
	b.left -= n
	b.read.Add(n)
	return int(n), nil
}

// TestBodyLimitsNoTempFiles: a multipart body, to the token endpoint (read
// before the client is authenticated) or to a page, leaves no file in the
// temporary directory. net/http removes a parsed multipart form's files
// only for the request it handed out; the handlers parsed shallow copies
// (middlewares' r.WithContext), so each file stayed for good.
func TestBodyLimitsNoTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // multipart spools to os.TempDir()
	h, _, _ := testHandler(t, "sqlite")
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, tc := range []struct {
		path string
		want int
	}{
		{oauth.PathToken, http.StatusBadRequest},
		{oauth.PathPAR, http.StatusBadRequest},
		{"/login?flow=x", http.StatusUnsupportedMediaType},
		{"/account/password", http.StatusUnsupportedMediaType},
	} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("grant_type", "client_credentials")
		fw, _ := mw.CreateFormFile("upload", "big.bin")
		fw.Write(bytes.Repeat([]byte{'x'}, 2<<20)) // over fosite's 1 MB in memory: spooled to disk
		mw.Close()
		resp, err := http.Post(srv.URL+tc.path, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatalf("POST %s: %v", tc.path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("multipart POST %s: %d, want %d: %s", tc.path, resp.StatusCode, tc.want, got)
		}
		if tc.want == http.StatusBadRequest {
			var e struct{ Error string }
			if json.Unmarshal(got, &e); e.Error != "invalid_request" {
				t.Errorf("multipart POST %s: %s, want an invalid_request error", tc.path, got)
			}
		}
	}
	srv.Close() // every request finished: what is left stays
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left in the temporary directory: %s", e.Name())
	}
}

// TestBodyLimitsBoundMemory: 16 concurrent 40 MB bodies are read only up to
// the limit, so memory stays bounded (bytes read and allocations, not time).
func TestBodyLimitsBoundMemory(t *testing.T) {
	h, _, _ := testHandler(t, "sqlite")
	const huge = 40 << 20
	paths := []string{oauth.PathToken, oauth.PathIntrospect, oauth.PathRevoke, oauth.PathPAR, "/login?flow=x", "/account/password", "/consent?flow=x", "/oauth2/auth"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			path := paths[i%len(paths)]
			body := &endlessBody{left: huge}
			req := httptest.NewRequest(http.MethodPost, path, body)
			req.ContentLength = -1 // chunked: the size is not known up front
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("40 MB to %s: %d, want 413: %s", path, rec.Code, rec.Body)
			}
			limit := int64(page.DefaultPageBodyLimit)
			if strings.HasPrefix(path, "/oauth2/") && path != oauth.PathAuthorize {
				limit = page.DefaultAPIBodyLimit
			}
			if n := body.read.Load(); n > limit+1 {
				t.Errorf("40 MB to %s: %d bytes read, want at most %d", path, n, limit+1)
			}
			total.Add(body.read.Load())
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("16 requests of 40 MB allocated %d MB (read %d KB in all)", alloc>>20, total.Load()>>10)
	}

	// A declared length over the limit is refused before any read.
	body := &endlessBody{left: huge}
	req := httptest.NewRequest(http.MethodPost, oauth.PathToken, body)
	req.ContentLength = huge
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || body.read.Load() != 0 {
		t.Errorf("declared 40 MB: %d after reading %d bytes", rec.Code, body.read.Load())
	}
	var e struct{ Error string }
	if json.Unmarshal(rec.Body.Bytes(), &e); e.Error != "invalid_request" {
		t.Errorf("413 from the token endpoint is not an OAuth error: %s", rec.Body)
	}
}

// TestBodyLimitsLargeEnough: what relying parties legitimately send fits —
// a pushed request with a large claims parameter and a long assertion.
func TestBodyLimitsLargeEnough(t *testing.T) {
	h, _, _ := testHandler(t, "sqlite")
	form := url.Values{
		"client_id":             {"card"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {strings.Repeat("A", 2500)}, // a PS256 assertion with a 4096-bit key is about 1 KB
		"claims":                {`{"id_token":{"acr":{"essential":true}},"userinfo":{` + strings.Repeat(`"given_name":null,`, 300) + `"email":null}}`},
		"response_type":         {"code"},
		"redirect_uri":          {"https://card.example.org/callback"},
	}
	req := httptest.NewRequest(http.MethodPost, oauth.PathPAR, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if len(form.Encode()) < 8<<10 {
		t.Fatalf("bad test: the form is only %d bytes", len(form.Encode()))
	}
	// The unknown client is refused by the endpoint (invalid_client, 400
	// for a failed assertion), not by the limit (413).
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"invalid_client"`) {
		t.Errorf("a %d-byte PAR request: %d, want 400 invalid_client from the endpoint: %s", len(form.Encode()), rec.Code, rec.Body)
	}
}

// TestSlowBodyIs408: a body that does not arrive before the server's read
// timeout is the client's failure (408), not an outage (503).
func TestSlowBodyIs408(t *testing.T) {
	h, _, _ := testHandler(t, "sqlite")
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 300e6 // 300 ms: the body never comes, so the timeout must strike
	srv.Start()
	defer srv.Close()
	for _, path := range []string{oauth.PathToken, oauth.PathRevoke, "/login?flow=x", "/account/authenticators"} {
		t.Run(path, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=", path, srv.Listener.Addr())
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("%d, want 408: %s", resp.StatusCode, body)
			}
		})
	}
}

// TestPageTextNotStorable: a NUL or invalid UTF-8 in a page's form is the
// sender's mistake, answered 400 with a localised page — not the 503 that
// PostgreSQL's refusal of such text used to become.
func TestPageTextNotStorable(t *testing.T) {
	eachE2EBackend(t, func(t *testing.T, p *idp) {
		p.accountPerson(t, "zoya", "en")
		br := newBrowser(t)
		russian := page.NewLocalizer(language.Russian)
		// The browser asks for no language: the page is in Russian.
		badText := russian.T("error.bad_text.message")

		// The login page: a username with NUL.
		login := br.get(p.issuer + "/account")
		got := br.submit(login, "/login", url.Values{"username": {"zoya\x00"}, "password": {accountPassword}})
		if got.status != http.StatusBadRequest || !pageShows(got, badText) {
			t.Errorf("a username with NUL: %d\n%s", got.status, got.body)
		}
		// A flow ID in the query, invalid UTF-8.
		if got := br.get(p.issuer + "/login?flow=%ff%fe"); got.status != http.StatusBadRequest {
			t.Errorf("a flow ID of invalid UTF-8: %d\n%s", got.status, got.body)
		}

		// The account page: an authenticator name of invalid UTF-8.
		page := signInToAccount(t, p, br, "zoya", accountPassword, "", &appSteps{})
		for _, name := range []string{"phone\xff", "pho\x00ne"} {
			got := br.submit(page, "/account/authenticators", url.Values{"name": {name}})
			if got.status != http.StatusBadRequest || !pageShows(got, badText) {
				t.Errorf("authenticator name %q: %d\n%s", name, got.status, got.body)
			}
		}
		// Sound text still works.
		if got := br.submit(page, "/account/authenticators", url.Values{"name": {"телефон"}}); got.status != http.StatusOK {
			t.Errorf("a sound name: %d\n%s", got.status, got.body)
		}
	})
}
