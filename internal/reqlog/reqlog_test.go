package reqlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddlewareTagsEveryRecord(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(Handler{slog.NewJSONHandler(&buf, nil)})
	h := Middleware(logger, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	id := rec.Header().Get("X-Request-ID")
	if len(id) != 16 {
		t.Fatalf("X-Request-ID = %q", id)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines, got %q", lines)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["request_id"] != id {
			t.Errorf("record %s lacks request_id %s", l, id)
		}
	}
	var last map[string]any
	json.Unmarshal([]byte(lines[1]), &last)
	if last["status"] != float64(http.StatusTeapot) {
		t.Errorf("logged status %v, want 418", last["status"])
	}
}
