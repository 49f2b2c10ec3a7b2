package page

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Body limits. OAuth requests are small: the largest are a pushed
// authorization request with a claims parameter and a client assertion
// (private_key_jwt), a few KB. Pages' forms hold a few short fields.
const (
	DefaultAPIBodyLimit  = 16 << 10
	DefaultPageBodyLimit = 64 << 10
)

// BodyLimits reads and checks every request body before any handler does,
// so that nothing further in can be made to spend disk or memory on it:
//
//   - a body is read whole, at most its limit (http.MaxBytesReader); more is
//     413. Bounded, a flood of 40 MB bodies costs a few KB each (memory
//     exhaustion);
//   - multipart bodies are refused: nothing takes one, and parsing one spools
//     files to the temporary directory, which net/http removes only for
//     the request it handed out, not for the shallow copies middlewares
//     make (r.WithContext), so each was left on disk for good;
//   - a body that does not arrive before the server's read timeout is 408,
//     the client's fault, not a 503;
//   - on pages, query and form values that are not valid UTF-8 or hold a
//     NUL are 400: PostgreSQL refuses such text, and its refusal would
//     read as an outage (503).
//
// API paths answer in JSON with RFC 6749 error codes; every other path is
// a page and gets the localised error page.
type BodyLimits struct {
	Pages  *Renderer
	Logger *slog.Logger
	// API lists the paths that answer in JSON (token, PAR, introspection,
	// revocation, userinfo); they take APILimit.
	API []string
	// Unchecked lists the paths whose text is left to their handler, which
	// answers by its own protocol (the authorization endpoint redirects its
	// errors to the client).
	Unchecked []string
	// APILimit and PageLimit are in bytes; 0 means the defaults.
	APILimit, PageLimit int64
}

// Handler wraps next.
func (l *BodyLimits) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := slices.Contains(l.API, r.URL.Path)
		limit := l.PageLimit
		if limit <= 0 {
			limit = DefaultPageBodyLimit
		}
		if api {
			limit = l.APILimit
			if limit <= 0 {
				limit = DefaultAPIBodyLimit
			}
		}
		// fail answers pe on a page; on an API path, an RFC 6749 error,
		// with pe's status unless that is 415, which OAuth clients do not
		// expect: 400 invalid_request (§5.2).
		fail := func(pe *PageError, oauthCode, description string) {
			if api {
				status := pe.Status
				if status == http.StatusUnsupportedMediaType {
					status = http.StatusBadRequest
				}
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]string{"error": oauthCode, "error_description": description})
				return
			}
			l.Pages.Error(w, r, ChooseLanguage(r, ""), l.Logger, pe)
		}

		if r.Body != nil && r.Body != http.NoBody {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(strings.ToLower(mt), "multipart/") {
				fail(&PageError{http.StatusUnsupportedMediaType, "error.unsupported_form.title", "error.unsupported_form.message", errors.New("multipart body refused")},
					"invalid_request", "Multipart bodies are not accepted; send application/x-www-form-urlencoded.")
				return
			}
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
				fail(tooLarge(r.ContentLength), "invalid_request", "The request body is too large.")
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			r.Body.Close()
			if err != nil {
				var tooBig *http.MaxBytesError
				switch {
				case errors.As(err, &tooBig):
					fail(tooLarge(-1), "invalid_request", "The request body is too large.")
				case isTimeout(err):
					w.Header().Set("Connection", "close")
					fail(&PageError{http.StatusRequestTimeout, "error.timeout.title", "error.timeout.message", err},
						"invalid_request", "The request body did not arrive in time.")
				default:
					fail(BadRequest(err), "invalid_request", "The request body could not be read.")
				}
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			if !api && !slices.Contains(l.Unchecked, r.URL.Path) && !formText(r.Header.Get("Content-Type"), body) {
				fail(badText(), "", "")
				return
			}
		}
		if !api && !slices.Contains(l.Unchecked, r.URL.Path) && !queryText(r.URL.RawQuery) {
			fail(badText(), "", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(n int64) *PageError {
	err := errors.New("request body over the limit")
	if n >= 0 {
		err = errors.New("declared request body over the limit")
	}
	return &PageError{http.StatusRequestEntityTooLarge, "error.too_large.title", "error.too_large.message", err}
}

func badText() *PageError {
	return &PageError{http.StatusBadRequest, "error.bad_text.title", "error.bad_text.message", errors.New("form text is not valid UTF-8 or holds NUL")}
}

// isTimeout reports a read that ran into the server's read deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// formText reports whether a URL-encoded form body holds only text that
// can be stored; other bodies are not parsed as forms by anyone.
func formText(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return true
	}
	return queryText(string(body))
}

// queryText reports whether every key and value of a URL-encoded string is
// valid UTF-8 without NUL. Pairs that do not parse are skipped, as
// net/http's form parsing skips them; the values it keeps are checked.
func queryText(raw string) bool {
	if raw == "" {
		return true
	}
	vs, _ := url.ParseQuery(raw)
	ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	for k, list := range vs {
		if !ok(k) {
			return false
		}
		for _, v := range list {
			if !ok(v) {
				return false
			}
		}
	}
	return true
}
