package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

type idKey struct{}
type addrKey struct{}

// WithID returns ctx carrying the request ID.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// ID is the request ID in ctx, "" when there is none.
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// WithRemoteAddr returns ctx carrying the client's address (host only).
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addrKey{}, addr)
}

// RemoteAddr is the client address in ctx, "" when there is none.
func RemoteAddr(ctx context.Context) string {
	a, _ := ctx.Value(addrKey{}).(string)
	return a
}

// NewID returns a short random request ID: 64 bits are plenty to find one
// request in the logs, and short enough for a person to read out from an
// error page.
func NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handler wraps a slog.Handler and adds request_id to every record whose
// context carries one, so code deep in a request logs with plain
// logger.InfoContext(ctx, …).
type Handler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(as []slog.Attr) slog.Handler { return Handler{h.Handler.WithAttrs(as)} }

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }

// Middleware gives each request an ID (also sent back as X-Request-ID),
// puts the ID and the client address (Proxies.ClientAddr) in its context,
// and logs one line per request once it is done.
func Middleware(logger *slog.Logger, proxies Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := NewID()
		host := proxies.ClientAddr(r)
		ctx := WithRemoteAddr(WithID(r.Context(), id), host)
		w.Header().Set("X-Request-ID", id)
		rec := NewRecorder(w)
		next.ServeHTTP(rec, r.WithContext(ctx))
		logger.LogAttrs(ctx, slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote_addr", host))
	})
}

// Recorder is a ResponseWriter that remembers the status written through
// it (for logs and metrics).
type Recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

// NewRecorder wraps w; the status is 200 until something else is written.
func NewRecorder(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, status: http.StatusOK}
}

// Status is the status written (200 when only a body was).
func (r *Recorder) Status() int { return r.status }

func (r *Recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
