package page

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/reqlog"
)

func TestPageError(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range []struct {
		pe     *PageError
		status int
	}{
		{BadRequest(cause), 400},
		{NotFound(cause), 404},
		{FlowExpired(cause), 400},
		{CSRF(cause), 403},
		{Internal(cause), 500},
		{Unavailable(cause), 503},
	} {
		if c.pe.Status != c.status {
			t.Errorf("%s: status %d, want %d", c.pe.TitleKey, c.pe.Status, c.status)
		}
		if !errors.Is(c.pe, cause) {
			t.Errorf("%s: does not unwrap to the cause", c.pe.TitleKey)
		}
		if !strings.Contains(c.pe.Error(), "connection refused") || !strings.Contains(c.pe.Error(), fmt.Sprint(c.status)) {
			t.Errorf("Error() = %q", c.pe.Error())
		}
		l := NewLocalizer(russian)
		if !l.Has(c.pe.TitleKey) || !l.Has(c.pe.MessageKey) {
			t.Errorf("%s / %s not in the catalogue", c.pe.TitleKey, c.pe.MessageKey)
		}
	}
	if got := NotFound(nil).Error(); got != "404 Not Found" {
		t.Errorf("Error() without cause = %q", got)
	}
}

// logLines decodes the JSON log records written to buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestRendererError(t *testing.T) {
	rd := newRenderer(t)
	secret := "pq: password authentication failed for user propusk"
	tests := []struct {
		name   string
		err    error
		status int
		level  string
		title  string
	}{
		{"database down", fmt.Errorf("loading flow: %w", Unavailable(errors.New(secret))), 503, "ERROR", "Temporarily unavailable"},
		{"plain error is internal", errors.New(secret), 500, "ERROR", "Something went wrong"},
		{"flow expired", FlowExpired(errors.New(secret)), 400, "INFO", "This page has expired"},
		{"csrf", CSRF(errors.New(secret)), 403, "INFO", "The form could not be accepted"},
		{"not found", NotFound(nil), 404, "INFO", "Page not found"},
		{"nil", nil, 500, "ERROR", "Something went wrong"},
		{"bare status", &PageError{Status: 429}, 429, "INFO", "Something is wrong with the request"},
		{"bogus status", &PageError{Status: 200, Err: errors.New(secret)}, 500, "ERROR", "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			r := httptest.NewRequest("GET", "/login?flow=x", nil)
			r = r.WithContext(reqlog.WithID(r.Context(), "req-1234abcd"))
			w := httptest.NewRecorder()
			rd.Error(w, r, english, logger, tt.err)

			body := w.Body.String()
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if !strings.Contains(body, "<h1>"+tt.title+"</h1>") {
				t.Errorf("no title %q in\n%s", tt.title, body)
			}
			if !strings.Contains(body, "Reference: <code>req-1234abcd</code>") {
				t.Errorf("no reference in\n%s", body)
			}
			if strings.Contains(body, "password authentication") || strings.Contains(body, "pq:") {
				t.Error("internal error text shown to the person")
			}
			recs := logLines(t, &logs)
			if len(recs) != 1 {
				t.Fatalf("%d log records: %s", len(recs), logs.String())
			}
			rec := recs[0]
			if rec["level"] != tt.level || rec["ref"] != "req-1234abcd" || rec["status"] != float64(tt.status) {
				t.Errorf("log record %v", rec)
			}
			if tt.err != nil && !strings.Contains(fmt.Sprint(rec["error"]), secret) && strings.Contains(tt.err.Error(), secret) {
				t.Errorf("cause not logged: %v", rec)
			}
		})
	}
}

func TestRendererErrorFreshRef(t *testing.T) {
	rd := newRenderer(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	w := httptest.NewRecorder()
	rd.Error(w, httptest.NewRequest("GET", "/", nil), russian, logger, Internal(errors.New("x")))
	m := regexp.MustCompile(`<code>([0-9a-f]{8})</code>`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no 8-hex reference in\n%s", w.Body.String())
	}
	recs := logLines(t, &logs)
	if len(recs) != 1 || recs[0]["ref"] != m[1] {
		t.Errorf("page ref %s, log %v", m[1], recs)
	}
	if !strings.Contains(w.Body.String(), `<html lang="ru">`) || !strings.Contains(w.Body.String(), "Код ошибки:") {
		t.Errorf("not Russian:\n%s", w.Body.String())
	}
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d", w.Code)
	}
}
