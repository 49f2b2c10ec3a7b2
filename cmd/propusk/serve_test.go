package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// server is a serve command running in the background.
type server struct {
	addr   string
	stderr *lockedBuffer
	cancel context.CancelFunc
	done   chan int
}

// startServe runs serve on a free port and returns once it listens.
func startServe(t *testing.T, b *backendFixture, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &server{stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	addrc := make(chan string, 1)
	a := &app{stdin: strings.NewReader(""), stdout: &lockedBuffer{}, stderr: s.stderr, getenv: mapEnv(b.env),
		listening: func(addr string) { addrc <- addr }}
	args := append([]string{"serve", "--addr", "127.0.0.1:0"}, extra...)
	args = append(args, b.args...)
	go func() { s.done <- a.run(ctx, args) }()
	select {
	case s.addr = <-addrc:
	case code := <-s.done:
		cancel()
		t.Fatalf("serve exited with %d before listening: %s", code, s.stderr)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start listening: %s", s.stderr)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels serve's context (SIGTERM) and returns its exit status.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code, ok := <-s.done:
		if !ok {
			return -1 // already stopped
		}
		close(s.done)
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after its context was cancelled")
		return -1
	}
}

func (s *server) get(t *testing.T, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+s.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestServe(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		s := startServe(t, b)

		var ids []string
		for _, tc := range []struct {
			method, path string
			status       int
			body         string
		}{
			{"GET", "/healthz", 200, "ok\n"},
			{"HEAD", "/healthz", 200, ""},
			{"GET", "/readyz", 200, "ok\n"},
			{"POST", "/healthz", 405, ""},
			{"GET", "/nope", 404, ""},
		} {
			resp, body := s.get(t, tc.method, tc.path)
			if resp.StatusCode != tc.status || (tc.status == 200 && body != tc.body) {
				t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
			}
			id := resp.Header.Get("X-Request-ID")
			if !requestIDRE.MatchString(id) || slices.Contains(ids, id) {
				t.Errorf("%s %s: X-Request-ID %q, want a fresh 16-hex-digit ID", tc.method, tc.path, id)
			}
			ids = append(ids, id)
			if tc.status == 200 && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s: Cache-Control %q", tc.method, tc.path, resp.Header.Get("Cache-Control"))
			}
		}

		resp, body := s.get(t, "GET", "/metrics")
		if resp.StatusCode != 200 || resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("GET /metrics: %d, X-Request-ID %q", resp.StatusCode, resp.Header.Get("X-Request-ID"))
		}
		for _, want := range []string{
			`propusk_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
			`propusk_http_requests_total{code="200",method="GET",route="/readyz"} 1`,
			`propusk_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
			`propusk_http_request_duration_seconds_bucket{route="/healthz"`,
			"go_goroutines",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, `route="/nope"`) {
			t.Error("/metrics labels an unmatched request with its raw path")
		}

		// SIGTERM: run returns 0 once the server has shut down.
		if code := s.stop(t); code != exitOK {
			t.Errorf("serve exited with %d after cancellation, want 0; stderr:\n%s", code, s.stderr)
		}
		logs := s.stderr.String()
		for _, want := range []string{"propusk serving", "addr=" + s.addr, "database=" + b.name, "http request", "request_id=" + ids[0], "shutting down", "stopped"} {
			if !strings.Contains(logs, want) {
				t.Errorf("serve log lacks %q:\n%s", want, logs)
			}
		}
		if _, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
			t.Errorf("%s still accepts connections after shutdown", s.addr)
		}

		// A restart on the same database (now migrated) serves again.
		s2 := startServe(t, b, "--no-migrate", "--log-format", "json", "--issuer", "https://id.example.org")
		if resp, _ := s2.get(t, "GET", "/readyz"); resp.StatusCode != 200 {
			t.Errorf("second start: /readyz %d", resp.StatusCode)
		}
		if code := s2.stop(t); code != exitOK {
			t.Errorf("second serve exited with %d", code)
		}
		if logs := s2.stderr.String(); !strings.Contains(logs, `"msg":"propusk serving"`) || !strings.Contains(logs, `"issuer":"https://id.example.org"`) {
			t.Errorf("--log-format json --issuer: log:\n%s", logs)
		}
	})
}

// TestServeNoMigrateEmpty: serve --no-migrate refuses a database that was
// never migrated, and tells what to do.
func TestServeNoMigrateEmpty(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b *backendFixture) {
		_, stderr, code := serveOrRun(t, b, "serve", "--no-migrate", "--addr", "127.0.0.1:0")
		wantFail(t, code, stderr, exitFailure, "propusk serve: ",
			fmt.Sprintf("database schema is at version 0, this binary needs %d: run propusk migrate", b.latest()))
		// It did not migrate either.
		stdout, stderr, code := b.run(t, "", "migrate")
		wantOK(t, code, stdout, stderr)
		if !strings.HasPrefix(stdout, "migrated schema from version 0") {
			t.Errorf("after serve --no-migrate, migrate printed %q", stdout)
		}
		// PROPUSK_NO_MIGRATE is the same switch.
		env := b.withEnv(map[string]string{"PROPUSK_NO_MIGRATE": "true"})
		fresh := &backendFixture{name: b.name, env: env, args: b.args}
		s := startServe(t, fresh)
		if code := s.stop(t); code != exitOK {
			t.Errorf("serve with PROPUSK_NO_MIGRATE on a migrated database: exit %d", code)
		}
	})
}

// TestServeConfigValidate: every configuration problem is reported at once,
// on one line, before any database or socket is opened.
func TestServeConfigValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PROPUSK_DATA_DIR": dir}
	_, stderr, code := runCLI(t, env, "", "serve", "--addr", "nohostport", "--issuer", "http://example.org", "--log-level", "loud", "--shutdown-timeout", "0s",
		"--trusted-proxies", "10.0.0.0/8,proxy.example.org")
	wantFail(t, code, stderr, exitUsage, "propusk serve: ",
		`--addr "nohostport": want host:port`,
		`--issuer "http://example.org": http is only for loopback hosts; use https`,
		`--log-level "loud": want debug, info, warn or error`,
		"--shutdown-timeout must be positive",
		`--trusted-proxies: "proxy.example.org" is neither an IP address nor a CIDR prefix`)
	emptyDir(t, dir)

	for _, tc := range []struct{ issuer, phrase string }{
		{"https://id.example.org/", "no query, fragment or trailing slash"},
		{"https://id.example.org?x=1", "no query, fragment or trailing slash"},
		{"ftp://id.example.org", "scheme must be https"},
		{"id.example.org", "want an absolute URL"},
	} {
		_, stderr, code := runCLI(t, env, "", "serve", "--issuer", tc.issuer)
		wantFail(t, code, stderr, exitUsage, "propusk serve: ", fmt.Sprintf("--issuer %q: %s", tc.issuer, tc.phrase))
	}
	_, stderr, code = runCLI(t, map[string]string{"PROPUSK_DATA_DIR": dir, "PROPUSK_ADDR": "bad"}, "", "serve")
	wantFail(t, code, stderr, exitUsage, "propusk serve: ", `--addr "bad"`)
	_, stderr, code = runCLI(t, env, "", "serve", "extra")
	wantFail(t, code, stderr, exitUsage, "propusk serve: ", `unexpected argument "extra"`)
	emptyDir(t, dir)
}

// TestServeAddrInUse: a taken port is a failure (exit 1) with one line.
func TestServeAddrInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b := newSQLite(t)
	_, stderr, code := serveOrRun(t, b, "serve", "--addr", ln.Addr().String())
	wantFail(t, code, stderr, exitFailure, "propusk serve: ", "listen on "+ln.Addr().String(), "address already in use")
	if !exists(filepath.Join(b.cfg.DataDir, "propusk.db")) {
		t.Error("serve did not create the embedded database")
	}
	if fi, err := os.Stat(filepath.Join(b.cfg.DataDir, "secrets.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets.key: %v, %v; want a file readable by its owner only", fi, err)
	}
}
