package page

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"golang.org/x/text/language"

	"github.com/propusk/propusk/internal/reqlog"
)

// PageError is an error to show as an error page: Status, and the catalogue
// keys of the title and message a person reads. Err is the cause, for the
// log only; the person never sees it.
type PageError struct {
	Status     int
	TitleKey   string
	MessageKey string
	Err        error
}

func (e *PageError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("%d %s: %v", e.Status, http.StatusText(e.Status), e.Err)
}

// Unwrap returns the cause.
func (e *PageError) Unwrap() error { return e.Err }

// BadRequest is a malformed or incomplete request (400).
func BadRequest(err error) *PageError {
	return &PageError{http.StatusBadRequest, "error.bad_request.title", "error.bad_request.message", err}
}

// NotFound is an unknown page (404).
func NotFound(err error) *PageError {
	return &PageError{http.StatusNotFound, "error.not_found.title", "error.not_found.message", err}
}

// FlowExpired is a sign-in, consent or logout flow that is unknown, used up
// or too old (400): the person must start again from the relying party.
func FlowExpired(err error) *PageError {
	return &PageError{http.StatusBadRequest, "error.flow_expired.title", "error.flow_expired.message", err}
}

// CSRF is a form whose CSRF token does not match, or a cross-origin post
// (403).
func CSRF(err error) *PageError {
	return &PageError{http.StatusForbidden, "error.csrf.title", "error.csrf.message", err}
}

// Internal is a failure on Propusk's side (500).
func Internal(err error) *PageError {
	return &PageError{http.StatusInternalServerError, "error.internal.title", "error.internal.message", err}
}

// Unavailable is a dependency being down, the database say (503): the page
// asks to try again shortly.
func Unavailable(err error) *PageError {
	return &PageError{http.StatusServiceUnavailable, "error.unavailable.title", "error.unavailable.message", err}
}

// Error answers with the error page for err: a *PageError (anywhere in the
// chain) as it says, anything else as Internal. The page shows a reference —
// the request ID, or a fresh one — and the same reference goes into the
// log with the error: at Error level for 5xx, Info for 4xx. The cause is
// never shown. logger nil means slog.Default().
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, lang language.Tag, logger *slog.Logger, err error) {
	if err == nil {
		err = errors.New("page: Renderer.Error called with a nil error")
	}
	var pe *PageError
	if !errors.As(err, &pe) {
		pe = Internal(err)
	}
	view := ErrorView{TitleKey: pe.TitleKey, MessageKey: pe.MessageKey, Status: pe.Status}
	if view.Status < 400 || view.Status > 599 {
		view.Status = http.StatusInternalServerError
	}
	if view.TitleKey == "" || view.MessageKey == "" {
		d := Internal(nil)
		if view.Status < 500 {
			d = BadRequest(nil)
		}
		view.TitleKey, view.MessageKey = d.TitleKey, d.MessageKey
	}

	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	view.RefID = reqlog.ID(ctx)
	if view.RefID == "" {
		view.RefID = newRef()
	}

	if logger == nil {
		logger = slog.Default()
	}
	level := slog.LevelInfo
	if view.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.Int("status", view.Status), slog.String("ref", view.RefID), slog.String("error", err.Error())}
	if r != nil {
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	logger.LogAttrs(ctx, level, "error page", attrs...)

	if rerr := rd.Render(w, r, view.Status, lang, ErrorPage, view); rerr != nil {
		logger.LogAttrs(ctx, slog.LevelError, "rendering the error page", slog.String("ref", view.RefID), slog.String("error", rerr.Error()))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(view.Status)
		fmt.Fprintf(w, "%d %s\nRef: %s\n", view.Status, http.StatusText(view.Status), view.RefID)
	}
}

// newRef is a reference for a request that has no request ID: 8 hex digits.
func newRef() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
