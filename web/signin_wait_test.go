package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/flow"
	"github.com/propusk/propusk/internal/token"
	"github.com/propusk/propusk/mfa"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/web/page"
)

// pausedThrottles answers every spaced hit with a pause ending left after
// now, as the store does for an attempt arriving just before a pause ends.
type pausedThrottles struct {
	store.Throttles
	left time.Duration
}

func (p pausedThrottles) HitThrottle(context.Context, string, time.Time, time.Duration) (int, error) {
	return 1, nil
}

func (p pausedThrottles) UnhitThrottle(context.Context, string, time.Time) error { return nil }

func (p pausedThrottles) ThrottleCount(context.Context, string, time.Time) (int, time.Time, error) {
	return 0, time.Time{}, nil
}

func (p pausedThrottles) HitThrottleSpaced(_ context.Context, _ string, now time.Time, window time.Duration, _ func(int) time.Duration) (store.ThrottleTurn, error) {
	return store.ThrottleTurn{Count: 5, NextAt: now.Add(p.left), WindowEnd: now.Add(window)}, nil
}

// A wait of less than a second is rounded up, never down: told "0 s"
// (Retry-After: 0, and a page whose message keeps its raw "%d", since the
// view's WaitSeconds is 0) a client retries at once and is refused again.
// int(wait.Seconds()+0.999) rounds any wait whose fraction is under a
// millisecond down: 500 µs becomes 0, 2.0005 s becomes 2.
func TestPostLoginWaitRoundsUp(t *testing.T) {
	for _, left := range []time.Duration{500 * time.Microsecond, 2*time.Second + 500*time.Microsecond} {
		h := &Handler{Throttle: &accounts.LoginThrottle{Store: pausedThrottles{left: left}}}
		csrf := token.New()
		f := &flow.Flow{Flow: store.Flow{CSRFHash: token.Hash(csrf)}}
		form := url.Values{"username": {"anna"}, "password": {"guess"}, "csrf": {csrf}}
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		view := &page.LoginView{}
		done, status := answered(h.postLogin(w, r, f, view))
		if done || status != http.StatusTooManyRequests {
			t.Fatalf("wait %v: done %t, status %d, want the page again with 429", left, done, status)
		}
		want := int((left + time.Second - 1) / time.Second)
		if view.WaitSeconds != want || w.Header().Get("Retry-After") != strconvItoa(want) {
			t.Errorf("wait %v: page says %d s, Retry-After %q; want %d", left, view.WaitSeconds, w.Header().Get("Retry-After"), want)
		}
	}
}

func strconvItoa(n int) string { return strconv.Itoa(n) }

// answered reads postLogin's result as before it returned an error: done
// when it answered (or failed), else the status to show the form with.
func answered(err error) (done bool, status int) {
	var again *formAgain
	if errors.As(err, &again) {
		return false, again.status
	}
	return true, 0
}

// The second factor's lock-out wait is measured on the handler's clock
// (the one mfa.Service locked with), not the wall clock, and rounded up
// like the sign-in's: time.Until against an injected clock told nonsense,
// and int(s+0.999) said 0 s for a wait under a millisecond.
func TestSecondFactorLockWaitRoundsUp(t *testing.T) {
	now := time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC) // far from the wall clock
	for left, want := range map[time.Duration]int{
		500 * time.Microsecond:                    1,
		2*time.Second + 500*time.Microsecond:      3,
		30 * time.Second:                          30,
		-time.Second /* ended while answering */ : 1,
	} {
		key, wait, status, ok := mfaError(&mfa.LockedError{Until: now.Add(left)}, now)
		if key != "mfa.error.locked" || wait != want || status != http.StatusTooManyRequests || !ok {
			t.Errorf("locked for %v more: %q, %d s, %d, %t; want mfa.error.locked, %d s, 429", left, key, wait, status, ok, want)
		}
	}
}

// lockedThrottles says every account already has AccountFailures
// consecutive failures, for an hour more.
type lockedThrottles struct{ pausedThrottles }

func (lockedThrottles) ThrottleCount(_ context.Context, _ string, now time.Time) (int, time.Time, error) {
	return accounts.AccountFailures, now.Add(time.Hour), nil
}

// An account that refuses unknown browsers says how to get in, not "try
// again in 3600 seconds"; Retry-After still tells a client how long.
func TestPostLoginLockedAccount(t *testing.T) {
	h := &Handler{Throttle: &accounts.LoginThrottle{Store: lockedThrottles{}}}
	csrf := token.New()
	f := &flow.Flow{Flow: store.Flow{CSRFHash: token.Hash(csrf)}}
	form := url.Values{"username": {"anna"}, "password": {"guess"}, "csrf": {csrf}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	view := &page.LoginView{}
	done, status := answered(h.postLogin(w, r, f, view))
	if done || status != http.StatusTooManyRequests || view.ErrorKey != "login.error.locked" || view.WaitSeconds != 0 || w.Header().Get("Retry-After") != "3600" {
		t.Errorf("locked account: done %t, status %d, view %+v, Retry-After %q; want the page with login.error.locked, 429, Retry-After 3600",
			done, status, view, w.Header().Get("Retry-After"))
	}
}

// failingThrottles is a throttle store whose database is gone.
type failingThrottles struct{ store.Throttles }

var errThrottleDown = errors.New("throttle store unavailable")

func (failingThrottles) HitThrottle(context.Context, string, time.Time, time.Duration) (int, error) {
	return 0, errThrottleDown
}

func (failingThrottles) ThrottleCount(context.Context, string, time.Time) (int, time.Time, error) {
	return 0, time.Time{}, errThrottleDown
}

func (failingThrottles) HitThrottleSpaced(context.Context, string, time.Time, time.Duration, func(int) time.Duration) (store.ThrottleTurn, error) {
	return store.ThrottleTurn{}, errThrottleDown
}

// A sign-in whose attempt cannot be counted is not attempted: the
// password is never checked (no Accounts here: checking it would panic),
// and the person is told to try again shortly (503), not that the
// password is wrong.
func TestPostLoginThrottleStoreDown(t *testing.T) {
	pages, err := page.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Throttle: &accounts.LoginThrottle{Store: failingThrottles{}}, Pages: pages}
	csrf := token.New()
	f := &flow.Flow{Flow: store.Flow{CSRFHash: token.Hash(csrf)}}
	form := url.Values{"username": {"anna"}, "password": {"correct horse battery"}, "csrf": {csrf}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	err = h.postLogin(w, r, f, &page.LoginView{})
	if done, _ := answered(err); !done || !errors.Is(err, errThrottleDown) {
		t.Fatalf("postLogin with the throttle store down: %v, want its failure", err)
	}
	h.showError(w, r, f, err)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
}
