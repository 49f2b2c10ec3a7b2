package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/testdb"
)

// In-process benchmarks of the whole handler tree (middleware included)
// without the network: the server's own CPU per request.

// inProcess runs bench over the handler tree of each backend
// (backend=postgres skips without PROPUSK_TEST_POSTGRES).
func inProcess(b *testing.B, bench func(b *testing.B, h http.Handler, p *idp)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run("backend="+backend, func(b *testing.B) {
			var db database
			if backend == "postgres" {
				db, _ = benchOpenDB(b)
			} else {
				db = testdb.Open(b, backend)
			}
			ring := newRing(b)
			p := startIDP(b, db, ring)
			logger := slog.New(reqlog.Handler{Handler: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})})
			h, _, err := newHandler(b.Context(), p.issuer, db, ring, logger, prometheus.NewRegistry(), nil)
			if err != nil {
				b.Fatal(err)
			}
			bench(b, h, p)
		})
	}
}

func BenchmarkInProcessJWKS(b *testing.B) {
	inProcess(b, func(b *testing.B, h http.Handler, p *idp) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodGet, p.issuer+"/.well-known/jwks.json", nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
}

func BenchmarkInProcessHealthz(b *testing.B) {
	inProcess(b, func(b *testing.B, h http.Handler, p *idp) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodGet, p.issuer+"/healthz", nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
		}
	})
}

func BenchmarkInProcessIntrospection(b *testing.B) {
	inProcess(b, func(b *testing.B, h http.Handler, p *idp) {
		id, secret := benchClient(b, p, clients.Registration{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
		post := func(path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, p.issuer+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		rec := post("/oauth2/token", "grant_type=client_credentials&scope=profile")
		tok := rec.Body.String()
		tok = tok[strings.Index(tok, `"access_token":"`)+16:]
		tok = tok[:strings.Index(tok, `"`)]
		body := "token=" + url.QueryEscape(tok)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if rec := post("/oauth2/introspect", body); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"active":true`) {
				b.Fatal(rec.Code, rec.Body.String())
			}
		}
	})
}

func BenchmarkInProcessClientCredentials(b *testing.B) {
	inProcess(b, func(b *testing.B, h http.Handler, p *idp) {
		id, secret := benchClient(b, p, clients.Registration{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest(http.MethodPost, p.issuer+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=profile"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code, rec.Body.String())
			}
		}
	})
}
