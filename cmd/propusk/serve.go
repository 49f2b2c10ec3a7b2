package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/clients"
	"github.com/propusk/propusk/consent"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/reqlog"
	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/internal/sweeper"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/oauth"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web"
	"github.com/propusk/propusk/web/page"
)

// serveGCPercent is serve's garbage-collection target unless GOGC is set.
const serveGCPercent = 400

// serve runs the HTTP server until ctx is cancelled (SIGTERM/SIGINT), then
// lets requests in flight finish.
func (a *app) serve(ctx context.Context, c *Config) error {
	logger := a.logger
	if os.Getenv("GOGC") == "" { // the runtime reads the real environment, not a.getenv
		// Propusk's live heap is small (tens of MB) and every request
		// allocates: collecting at 4× the live heap instead of 2× costs a
		// few tens of MB and saves about a seventh of the server's CPU per
		// request (make bench-load). GOGC, when set, wins.
		debug.SetGCPercent(serveGCPercent)
	}
	db, err := openMigrated(ctx, c, !c.NoMigrate)
	if err != nil {
		return err
	}
	defer db.Close()
	ring, err := secretsRing(c)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	proxies, _ := reqlog.ParseProxies(c.TrustedProxies) // checked by Validate
	handler, jobs, err := newHandler(ctx, c.IssuerURL(), db, ring, logger, reg, proxies)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	b, _ := c.backend()
	logger.Info("propusk serving", "addr", ln.Addr().String(), "issuer", c.IssuerURL(), "database", b.kind, "version", versionString())
	if a.listening != nil {
		a.listening(ln.Addr().String())
	}

	// The background jobs run while the server does and stop before the
	// database closes (defers run last-registered first).
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); jobs.run(jobsCtx) }()
	defer func() { stopJobs(); <-jobsDone }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", c.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// newHandler builds Propusk's whole handler tree over db: every
// dependency and every handler is wired here, in one visible block. Tests
// build the same tree behind httptest.
func newHandler(ctx context.Context, issuer string, db database, ring *seal.Ring, logger *slog.Logger, reg *prometheus.Registry, proxies reqlog.Proxies) (http.Handler, *background, error) {
	now := time.Now().UTC()
	clientKey, err := serverSecret(ctx, db, ring, clientSecretKeyName, now)
	if err != nil {
		return nil, nil, err
	}
	tokenKey, err := serverSecret(ctx, db, ring, tokenKeyName, now)
	if err != nil {
		return nil, nil, err
	}
	recoveryKey, err := serverSecret(ctx, db, ring, recoveryKeyName, now)
	if err != nil {
		return nil, nil, err
	}
	deviceKey, err := serverSecret(ctx, db, ring, deviceKeyName, now)
	if err != nil {
		return nil, nil, err
	}
	hasher, err := clients.NewSecretHasher(clientKey)
	if err != nil {
		return nil, nil, err
	}
	keys := &oauth.KeySet{Store: db, Ring: ring}
	if err := keys.Ensure(ctx); err != nil {
		return nil, nil, fmt.Errorf("signing keys: %w", err)
	}
	pages, err := page.NewRenderer()
	if err != nil {
		return nil, nil, err
	}
	secure := strings.HasPrefix(issuer, "https://")
	sessions := &accounts.Sessions{Store: db}
	flows := &flow.Service{Store: db, Ring: ring}
	consents := &consent.Service{Store: db, Grants: db}
	factors := &mfa.Service{Store: db, Ring: ring, RecoveryKey: recoveryKey}

	provider := &oauth.Handler{
		Config:   oauth.Config{Issuer: issuer, TokenKey: tokenKey, SecretsHasher: hasher},
		Storage:  &oauth.Storage{Store: db, Ring: ring, NewSession: oauth.NewFositeSession, PARLifespan: oauth.DefaultPARLifespan},
		Keys:     keys,
		Accounts: db,
		Sessions: sessions,
		Flows:    flows,
		Consents: consents,
		Ring:     ring,
		Pages:    pages,
		Logger:   logger,
	}
	flowPages := &web.Handler{
		Pages:         pages,
		Flows:         flows,
		Accounts:      &accounts.Service{Store: db},
		Sessions:      sessions,
		Throttle:      &accounts.LoginThrottle{Store: db, DeviceKey: deviceKey},
		Consents:      consents,
		Clients:       db,
		Provider:      provider,
		Logger:        logger,
		SessionCookie: oauth.SessionCookieName(secure),
		SecureCookies: secure,
		MFA:           factors,
		AchievedACR:   oauth.AchievedACR,
	}

	r := mux.NewRouter()
	r.Handle("/healthz", health()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", ready(db, logger)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})).Methods(http.MethodGet)
	if err := provider.Mount(r); err != nil {
		return nil, nil, err
	}
	flowPages.Mount(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.Error(w, r, page.ChooseLanguage(r, ""), logger, page.NotFound(nil))
	})

	jobs := &background{
		sweep:  &sweeper.Sweeper{Store: db, Keys: keys, Logger: logger, SessionIdle: accounts.DefaultSessionIdle},
		keys:   keys,
		logger: logger,
	}
	limits := &page.BodyLimits{
		Pages:     pages,
		Logger:    logger,
		API:       []string{oauth.PathToken, oauth.PathPAR, oauth.PathIntrospect, oauth.PathRevoke, oauth.PathUserinfo},
		Unchecked: []string{oauth.PathAuthorize, oauth.PathEndSession},
	}
	return reqlog.Middleware(logger, proxies, page.SecurityHeaders(limits.Handler(instrument(reg, r)))), jobs, nil
}

// background is what serve runs beside the server: the sweeper, and the
// JWKS refresh that keeps it served from memory.
type background struct {
	sweep  *sweeper.Sweeper
	keys   *oauth.KeySet
	logger *slog.Logger
}

// run runs every job until ctx ends and returns when all have stopped.
func (b *background) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { b.sweep.Run(ctx) })
	wg.Go(func() { b.keys.KeepPublished(ctx, b.logger) })
	wg.Wait()
}

// health answers while the process is up: liveness, nothing more.
func health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
}

// ready answers 200 only while the database does, so a load balancer stops
// sending people to a node that cannot sign them in.
func ready(db store.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			logger.WarnContext(r.Context(), "database not reachable", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unreachable")
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// instrument counts requests and their durations by route template (not raw
// path, which would let clients create unbounded label values).
func instrument(reg prometheus.Registerer, r *mux.Router) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "propusk_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	reg.MustRegister(requests, duration)
	// The router matches once; a middleware it runs after the match
	// reports the route template back through the request's context.
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if h, ok := req.Context().Value(routeKey{}).(*string); ok {
				if tpl, err := mux.CurrentRoute(req).GetPathTemplate(); err == nil {
					*h = tpl
				}
			}
			next.ServeHTTP(w, req)
		})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		route := "unmatched"
		start := time.Now()
		rec := reqlog.NewRecorder(w)
		r.ServeHTTP(rec, req.WithContext(context.WithValue(req.Context(), routeKey{}, &route)))
		requests.WithLabelValues(route, req.Method, strconv.Itoa(rec.Status())).Inc()
		duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type routeKey struct{}
