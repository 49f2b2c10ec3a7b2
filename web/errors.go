package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/web/page"
)

// Errors of the pages, in one place. Handlers return their failures;
// showError turns them into what the person sees. A form the person can
// simply fill in again (a wrong password or code, a stale token) is not a
// failure: the page is shown again with a notice (formAgain, mfaError).

// showError is the one place that turns a failure of a page into what the
// person sees: an error page in the flow's language (or the browser's,
// without a flow), or, for a flow of another browser, the page that says
// so. Handlers return their errors; the adapters (page, flowPage, step)
// bring them here.
func (h *Handler) showError(w http.ResponseWriter, r *http.Request, f *flow.Flow, err error) {
	var pe *page.PageError
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, flow.ErrOtherBrowser):
		h.otherBrowser(w, r, f, err)
		return
	case errors.Is(err, flow.ErrNotFound), errors.Is(err, flow.ErrExpired):
		err = page.FlowExpired(err)
	case errors.Is(err, flow.ErrCSRF):
		err = page.CSRF(err)
	case errors.As(err, new(*flow.IllegalMoveError)):
		err = page.FlowExpired(err) // finished in another tab
	default:
		err = page.Unavailable(err)
	}
	h.Pages.Error(w, r, h.lang(r, f), h.Logger, err)
}

// formAgain is a form to show again with what the person typed and a
// notice (the view says which), answered with status: a wrong password, a
// throttled attempt, a stale form. It is not a failure of the page.
type formAgain struct{ status int }

func (e *formAgain) Error() string { return fmt.Sprintf("form shown again (%d)", e.status) }

// errStaleForm is a second-factor form posted without the flow's token
// (an old page, a tampered form): the page is shown again, nothing checked.
var errStaleForm = errors.New("second-factor form without the flow's token")

// mfaError turns a second-factor error into a message key (and a wait
// from now), the status to answer with, and whether it is one a person
// can act on.
func mfaError(err error, now time.Time) (key string, wait int, status int, ok bool) {
	var le *mfa.LockedError
	switch {
	case errors.As(err, &le) && le.Hard:
		return "mfa.error.locked_hard", 0, http.StatusForbidden, true
	case errors.As(err, &le):
		return "mfa.error.locked", waitSeconds(le.Until.Sub(now)), http.StatusTooManyRequests, true
	case errors.Is(err, mfa.ErrMalformedCode):
		return "mfa.error.malformed", 0, http.StatusBadRequest, true
	case errors.Is(err, mfa.ErrWrongCode):
		return "mfa.error.wrong", 0, http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrReplayed):
		return "mfa.error.replayed", 0, http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrWrongRecoveryCode):
		return "mfa.error.recovery_wrong", 0, http.StatusUnauthorized, true
	case errors.Is(err, errStaleForm):
		return "mfa.error.stale", 0, http.StatusForbidden, true
	}
	return "", 0, 0, false
}

// setRetryAfter tells a client when a throttled second-factor page (429)
// may be tried again, as the sign-in page does.
func setRetryAfter(w http.ResponseWriter, status, wait int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(wait))
	}
}

// codeRefused fills in the notice for a code the person can try again
// (mfaError) and returns the status to show the page with, or returns err
// when it is not one of those.
func (h *Handler) codeRefused(w http.ResponseWriter, err error, key *string, wait *int) (int, error) {
	k, wt, status, ok := mfaError(err, h.Clock.Now())
	if !ok {
		return 0, err
	}
	*key, *wait = k, wt
	setRetryAfter(w, status, wt)
	return status, nil
}
