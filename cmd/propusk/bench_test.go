package main

// Benchmarks of the token endpoint over loopback HTTP against PostgreSQL,
// and of the primitives its cost is measured against: one ES256 signature,
// one single-row INSERT and one indexed read through the real store. Run
// them in one go so the figures share a machine and a database:
//
//	PROPUSK_TEST_POSTGRES=postgres://… go test -run '^$' -bench . -benchtime 2s -count 3 ./cmd/propusk/
//
// Budgets (from the issue): client_credentials at most 3× (ES256 sign +
// insert) per request; introspection at most 2× one indexed read.
//
// Every database benchmark counts the SQL statements it sends (a pgx tracer
// on the pool) and reports them as queries/op: with pgx's statement cache
// each statement is one round trip, so queries/op is round trips per
// request. prepares/op counts statement-cache misses (extra round trips);
// it should be ~0 once warm. With -v, the statements of one request are
// logged.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/postgres"
	"github.com/propusk/propusk/store/postgres/pgtest"
)

// ---- primitives ------------------------------------------------------------

// BenchmarkPrimitiveES256Sign is one ES256 JWS signature of an ID-token-sized
// payload, as go-jose computes it: SHA-256 of the signing input, ECDSA P-256,
// r||s fixed-width, base64url.
func BenchmarkPrimitiveES256Sign(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"bG9uZy1lbm91Z2gta2lkLXRodW1icHJpbnQtdmFsdWU","typ":"JWT"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"acr":"urn:propusk:acr:standard","amr":["pwd"],"at_hash":"q0aZ6pXbUq3L4PCd3o0Ikw",` +
		`"aud":["bench-client-id-000000"],"auth_time":1767225600,"exp":1767226500,"iat":1767225600,"iss":"http://127.0.0.1:54321",` +
		`"jti":"6f1c2a0e-8d3b-4d9a-9a59-0f1e6c5b7a21","nonce":"Yp3bq0vC2m8tX1kQ9zR4aA","rat":1767225600,` +
		`"sid":"3b9c1e7a-2d4f-4e8b-a1c6-5f0d9e8b7c6a","sub":"6c0e7f3a-1b2d-4c5e-8f9a-0b1c2d3e4f5a"}`))
	input := []byte(header + "." + payload)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		digest := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			b.Fatal(err)
		}
		var sig [64]byte
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		_ = base64.RawURLEncoding.EncodeToString(sig[:])
	}
}

// BenchmarkPrimitiveInsert is one single-row INSERT into oauth_records
// through the real store, a fresh row per iteration.
func BenchmarkPrimitiveInsert(b *testing.B) {
	db, tr := benchOpenDB(b)
	ctx := b.Context()
	prefix := random(b)
	clientID := benchStoreClient(b, db)
	data := make([]byte, 600) // about the size of a sealed access-token request
	rand.Read(data)
	rec := func(i int) store.OAuthRecord {
		now := time.Now().UTC()
		return store.OAuthRecord{Kind: store.OAuthAccess, Signature: fmt.Sprintf("%s-%d", prefix, i),
			RequestID: prefix, ClientID: clientID, Active: true,
			RequestedAt: now, ExpiresAt: now.Add(15 * time.Minute), Data: data}
	}
	// Warm the pool's statement caches.
	for i := -8; i < 0; i++ {
		if err := db.CreateOAuthRecord(ctx, rec(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.CreateOAuthRecord(ctx, rec(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	tr.report(b)
}

// BenchmarkPrimitiveIndexedRead is one GetOAuthRecord by primary key.
func BenchmarkPrimitiveIndexedRead(b *testing.B) {
	db, tr := benchOpenDB(b)
	ctx := b.Context()
	sig := benchStoredRecords(b, db)
	for i := 0; i < 8; i++ {
		if _, err := db.GetOAuthRecord(ctx, store.OAuthAccess, sig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.GetOAuthRecord(ctx, store.OAuthAccess, sig); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	tr.report(b)
}

// benchStoredRecords stores 2000 access-token rows of a realistic size, so
// that a read goes through the index of a table that is not trivially
// small, and returns the signature of one in the middle.
func benchStoredRecords(b *testing.B, db *postgres.DB) string {
	b.Helper()
	prefix := random(b)
	clientID := benchStoreClient(b, db)
	data := make([]byte, 600) // about the size of a sealed access-token request
	rand.Read(data)
	now := time.Now().UTC()
	err := db.InTx(b.Context(), func(ctx context.Context) error {
		for i := 0; i < 2000; i++ {
			err := db.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: store.OAuthAccess, Signature: fmt.Sprintf("%s-%d", prefix, i),
				RequestID: prefix, ClientID: clientID, Active: true,
				RequestedAt: now, ExpiresAt: now.Add(15 * time.Minute), Data: data})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return prefix + "-1000"
}

// BenchmarkPrimitiveHTTPIndexedRead is the least any HTTP endpoint that
// needs one database read can cost here: a keep-alive POST over loopback to
// a bare net/http handler (no router, middleware or OAuth) that parses the
// form, does the indexed read of BenchmarkPrimitiveIndexedRead through the
// real store and writes a three-field JSON object. Introspection can come
// near this, not below it: on a machine where the client, the server and
// PostgreSQL share two cores, the hops do not simply add up.
func BenchmarkPrimitiveHTTPIndexedRead(b *testing.B) {
	db, tr := benchOpenDB(b)
	sig := benchStoredRecords(b, db)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec, err := db.GetOAuthRecord(r.Context(), store.OAuthAccess, r.PostForm.Get("token"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"active": rec.Active, "client_id": rec.ClientID, "exp": rec.ExpiresAt.Unix()})
	}))
	b.Cleanup(srv.Close)
	hc := benchHTTPClient(b)
	body := url.Values{"token": {sig}}.Encode()
	for i := 0; i < 8; i++ {
		benchPost(b, hc, srv.URL, body, "client", "unused")
	}
	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, resp := benchPost(b, hc, srv.URL, body, "client", "unused"); status != http.StatusOK {
			b.Fatalf("bare read endpoint: %d %s", status, resp)
		}
	}
	b.StopTimer()
	tr.report(b)
}

// BenchmarkPrimitiveHTTPRoundTrip is one keep-alive POST over loopback to
// the same handler tree (GET /healthz behind the same middleware): what
// every endpoint pays before it does any work, with the benchmark's client
// and the server sharing the machine's cores.
func BenchmarkPrimitiveHTTPRoundTrip(b *testing.B) {
	p, _ := benchStartIDP(b)
	hc := benchHTTPClient(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := hc.Get(p.issuer + "/healthz")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// ---- token endpoint --------------------------------------------------------

// BenchmarkClientCredentials is POST /oauth2/token grant_type=
// client_credentials, client_secret_basic, over a keep-alive connection.
func BenchmarkClientCredentials(b *testing.B) {
	p, tr := benchStartIDP(b)
	id, secret := benchClient(b, p, clients.Registration{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	hc := benchHTTPClient(b)
	tokenURL := p.issuer + "/oauth2/token"
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}.Encode()

	status, resp := benchPost(b, hc, tokenURL, body, id, secret)
	if status != http.StatusOK {
		b.Fatalf("client_credentials: %d %s", status, resp)
	}
	for i := 0; i < 8; i++ {
		benchPost(b, hc, tokenURL, body, id, secret)
	}
	tr.traceOne(b, "client_credentials", func() { benchPost(b, hc, tokenURL, body, id, secret) })

	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, resp := benchPost(b, hc, tokenURL, body, id, secret); status != http.StatusOK {
			b.Fatalf("client_credentials: %d %s", status, resp)
		}
	}
	b.StopTimer()
	tr.report(b)
}

// BenchmarkIntrospection is POST /oauth2/introspect of a valid access token,
// authenticated with client_secret_basic.
func BenchmarkIntrospection(b *testing.B) {
	p, tr := benchStartIDP(b)
	id, secret := benchClient(b, p, clients.Registration{GrantTypes: []string{"client_credentials"}, Scopes: []string{"profile"}})
	hc := benchHTTPClient(b)
	status, resp := benchPost(b, hc, p.issuer+"/oauth2/token",
		url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}.Encode(), id, secret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(resp, &tok) != nil || tok.AccessToken == "" {
		b.Fatalf("client_credentials: %d %s", status, resp)
	}
	introURL := p.issuer + "/oauth2/introspect"
	body := url.Values{"token": {tok.AccessToken}}.Encode()

	status, resp = benchPost(b, hc, introURL, body, id, secret)
	var got struct {
		Active bool `json:"active"`
	}
	if status != http.StatusOK || json.Unmarshal(resp, &got) != nil || !got.Active {
		b.Fatalf("introspection: %d %s", status, resp)
	}
	for i := 0; i < 8; i++ {
		benchPost(b, hc, introURL, body, id, secret)
	}
	tr.traceOne(b, "introspection", func() { benchPost(b, hc, introURL, body, id, secret) })

	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, resp := benchPost(b, hc, introURL, body, id, secret); status != http.StatusOK {
			b.Fatalf("introspection: %d %s", status, resp)
		}
	}
	b.StopTimer()
	tr.report(b)
}

// BenchmarkCodeExchange is POST /oauth2/token grant_type=authorization_code
// (PKCE, openid and offline_access: an ID token and a refresh token). Each
// iteration needs a fresh code; it comes from a single-sign-on authorization
// (one redirect) made with the timer stopped.
func BenchmarkCodeExchange(b *testing.B) {
	p, tr := benchStartIDP(b)
	f := benchSignedIn(b, p)

	exchange := func(code string) (int, []byte) {
		return benchPost(b, f.hc, f.tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}.Encode(), f.id, f.secret)
	}
	if status, resp := exchange(f.code); status != http.StatusOK {
		b.Fatalf("code exchange: %d %s", status, resp)
	}
	for i := 0; i < 4; i++ {
		exchange(f.newCode(b))
	}
	code := f.newCode(b)
	tr.traceOne(b, "code exchange", func() { exchange(code) })

	b.ReportAllocs()
	var queries int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		code := f.newCode(b)
		tr.reset()
		b.StartTimer()
		status, resp := exchange(code)
		queries += tr.queries.Load()
		if status != http.StatusOK {
			b.Fatalf("code exchange: %d %s", status, resp)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
}

// BenchmarkRefresh is a chain of refresh-token grants: each iteration
// redeems the refresh token the previous one returned (strict rotation).
func BenchmarkRefresh(b *testing.B) {
	p, tr := benchStartIDP(b)
	f := benchSignedIn(b, p)
	status, resp := benchPost(b, f.hc, f.tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {f.code},
		"redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}.Encode(), f.id, f.secret)
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if status != http.StatusOK || json.Unmarshal(resp, &tok) != nil || tok.RefreshToken == "" {
		b.Fatalf("code exchange: %d %s", status, resp)
	}
	rt := tok.RefreshToken
	refresh := func() {
		status, resp := benchPost(b, f.hc, f.tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(), f.id, f.secret)
		tok.RefreshToken = ""
		if status != http.StatusOK || json.Unmarshal(resp, &tok) != nil || tok.RefreshToken == "" || tok.RefreshToken == rt {
			b.Fatalf("refresh: %d %s", status, resp)
		}
		rt = tok.RefreshToken
	}
	for i := 0; i < 8; i++ {
		refresh()
	}
	tr.traceOne(b, "refresh", refresh)

	b.ReportAllocs()
	tr.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		refresh()
	}
	b.StopTimer()
	tr.report(b)
}

// ---- helpers (testing.TB variants of the end-to-end helpers) ---------------

// benchTracer counts the statements pgx sends. With pgx's default statement
// cache each is one round trip; a cache miss adds a prepare.
type benchTracer struct {
	queries  atomic.Int64
	prepares atomic.Int64

	mu     sync.Mutex
	record bool
	sqls   []string
}

func (t *benchTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.queries.Add(1)
	t.mu.Lock()
	if t.record {
		sql := strings.Join(strings.Fields(d.SQL), " ")
		if len(sql) > 100 {
			sql = sql[:100] + "…"
		}
		if len(d.Args) > 0 {
			if a, ok := d.Args[0].(string); ok && len(a) <= 24 {
				sql += fmt.Sprintf("  [$1=%q]", a)
			}
		}
		t.sqls = append(t.sqls, sql)
	}
	t.mu.Unlock()
	return ctx
}

func (t *benchTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *benchTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (t *benchTracer) TracePrepareEnd(_ context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	if !d.AlreadyPrepared {
		t.prepares.Add(1)
	}
}

func (t *benchTracer) reset() { t.queries.Store(0); t.prepares.Store(0) }

// report adds queries/op and prepares/op; call it with the timer stopped.
func (t *benchTracer) report(b *testing.B) {
	b.ReportMetric(float64(t.queries.Load())/float64(b.N), "queries/op")
	b.ReportMetric(float64(t.prepares.Load())/float64(b.N), "prepares/op")
}

// traceOne runs fn (one request) and, with -v, logs the statements it sent.
func (t *benchTracer) traceOne(b *testing.B, what string, fn func()) {
	if !testing.Verbose() || b.N != 1 {
		fn()
		return
	}
	t.mu.Lock()
	t.record, t.sqls = true, nil
	t.mu.Unlock()
	fn()
	t.mu.Lock()
	sqls := t.sqls
	t.record, t.sqls = false, nil
	t.mu.Unlock()
	var sb strings.Builder
	for i, s := range sqls {
		fmt.Fprintf(&sb, "\n  %2d. %s", i+1, s)
	}
	b.Logf("%s: %d statements:%s", what, len(sqls), sb.String())
}

// benchOpenDB opens a fresh, migrated PostgreSQL schema with a counting
// tracer, or skips without PROPUSK_TEST_POSTGRES (even under CI: a
// benchmark is never a gate).
func benchOpenDB(b *testing.B) (*postgres.DB, *benchTracer) {
	b.Helper()
	if os.Getenv(pgtest.EnvVar) == "" {
		b.Skipf("%s not set: skipping PostgreSQL benchmarks", pgtest.EnvVar)
	}
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	tr := &benchTracer{}
	cfg.ConnConfig.Tracer = tr
	db, err := postgres.OpenConfig(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return db, tr
}

// benchStoreClient registers a client straight in the store (oauth_records
// rows reference one) and returns its ID.
func benchStoreClient(b *testing.B, db *postgres.DB) string {
	b.Helper()
	key := make([]byte, clients.MinSecretKeyLen)
	rand.Read(key)
	hasher, err := clients.NewSecretHasher(key)
	if err != nil {
		b.Fatal(err)
	}
	c, _, err := (&clients.Service{Store: db, Secrets: hasher}).Create(b.Context(), clients.Registration{
		Name: "Benchmark client", RedirectURIs: []string{rpRedirect}, GrantTypes: []string{"client_credentials"}})
	if err != nil {
		b.Fatal(err)
	}
	return c.ID
}

// benchStartIDP is startIDP over a fresh PostgreSQL schema, for benchmarks.
func benchStartIDP(b *testing.B) (*idp, *benchTracer) {
	b.Helper()
	db, tr := benchOpenDB(b)
	return startIDP(b, db, newRing(b)), tr
}

// benchClient registers a confidential client (client_secret_basic) and
// returns its ID and secret.
func benchClient(b *testing.B, p *idp, reg clients.Registration) (id, secret string) {
	b.Helper()
	key, err := serverSecret(b.Context(), p.db, p.ring, clientSecretKeyName, timeNow())
	if err != nil {
		b.Fatal(err)
	}
	hasher, err := clients.NewSecretHasher(key)
	if err != nil {
		b.Fatal(err)
	}
	if reg.Name == "" {
		reg.Name = "Benchmark client"
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = []string{rpRedirect}
	}
	c, secret, err := (&clients.Service{Store: p.db, Secrets: hasher}).Create(b.Context(), reg)
	if err != nil {
		b.Fatal(err)
	}
	return c.ID, secret
}

// benchHTTPClient is a keep-alive client for the benchmark's requests.
func benchHTTPClient(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// benchPost posts a form with client_secret_basic and returns the status
// and body (read to the end, so the connection is reused).
func benchPost(b *testing.B, hc *http.Client, endpoint, body, id, secret string) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, out
}

// benchFlow is a person signed in (SSO cookie) at a first-party client with
// the authorization_code and refresh_token grants.
type benchFlow struct {
	id, secret string
	authCfg    *oauth2.Config // only to build authorization URLs
	verifier   string
	tokenURL   string
	code       string // from the sign-in
	hc         *http.Client
	br         *browser
}

// newCode runs one single-sign-on authorization: one redirect, a code.
func (f *benchFlow) newCode(b *testing.B) string {
	b.Helper()
	pg := f.br.get(f.authCfg.AuthCodeURL(random(b), oauth2.S256ChallengeOption(f.verifier)))
	if pg.loc == nil || pg.loc.Query().Get("code") == "" {
		b.Fatalf("SSO authorization did not return a code: %d %s %.300s", pg.status, pg.url, pg.body)
	}
	return pg.loc.Query().Get("code")
}

func benchSignedIn(b *testing.B, p *idp) *benchFlow {
	b.Helper()
	p.person(b, "anna", "standard")
	id, secret := benchClient(b, p, clients.Registration{FirstParty: true,
		GrantTypes: []string{"authorization_code", "refresh_token"},
		Scopes:     []string{"openid", "profile", "email", "identity", "offline_access"}})
	f := &benchFlow{id: id, secret: secret, verifier: oauth2.GenerateVerifier(), tokenURL: p.issuer + "/oauth2/token",
		hc: benchHTTPClient(b), br: newBrowser(b)}
	f.authCfg = &oauth2.Config{ClientID: id, RedirectURL: rpRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: p.issuer + "/oauth2/auth", TokenURL: f.tokenURL},
		Scopes:   []string{"openid", "profile", "email", "identity", "offline_access"}}
	back := f.br.signIn(f.authCfg.AuthCodeURL(random(b), oauth2.S256ChallengeOption(f.verifier)), "anna", "correct horse battery", nil)
	if f.code = back.Query().Get("code"); f.code == "" {
		b.Fatalf("sign-in: %s", back)
	}
	return f
}
