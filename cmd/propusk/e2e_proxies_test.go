package main

import (
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/testdb"
)

// forwardedBy makes a browser's requests arrive as a reverse proxy would
// pass them on: with the client's address in X-Forwarded-For.
type forwardedBy struct {
	client string
	next   http.RoundTripper
}

func (f forwardedBy) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.client)
	return f.next.RoundTrip(r)
}

// Behind a trusted proxy the client's address comes from X-Forwarded-For
// (sessions, the audit log and per-address limits name the person, not
// the proxy); from anyone else the header is ignored.
func TestEndToEndTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
		want    string
	}{
		{"behind a trusted proxy", "127.0.0.1", "203.0.113.9"},
		{"no trusted proxy", "", "127.0.0.1"},
		{"another proxy trusted", "10.0.0.0/8", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := reqlog.ParseProxies(tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			p := startIDPWith(t, testdb.Open(t, "sqlite"), newRing(t), false, proxies)
			id := p.person(t, "ilya", "simplified")
			cfg, _ := p.rp(t, clients.Registration{FirstParty: true})
			br := newBrowser(t)
			br.client.Transport = forwardedBy{client: "203.0.113.9", next: http.DefaultTransport}
			if back := br.signIn(cfg.AuthCodeURL("s-proxy", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "ilya", "correct horse battery", nil); back.Query().Get("code") == "" {
				t.Fatalf("sign-in: %v", back)
			}
			sessions, err := p.db.ListBrowserSessions(t.Context(), id)
			if err != nil || len(sessions) != 1 {
				t.Fatalf("sessions: %v, %v", sessions, err)
			}
			if got := sessions[0].RemoteAddr; got != tc.want {
				t.Errorf("the session's address is %q, want %q", got, tc.want)
			}
		})
	}
}
