package accounts_test

import (
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
)

// The account's run of failures was remembered in a fixed window that
// started at its first failure, and a new window started with no count
// and no pause. A guesser who spent one wrong password to open the window,
// waited until a day before it ended, and then guessed as fast as it was
// let got 99 guesses before the window ended and 100 more right after:
// some 200 consecutive wrong passwords in under two days, never a success
// in between. SP 800-63B-4 §3.2.2 bounds consecutive failures at 100; the
// window now slides (it ends FailureWindow after the last failure).
func TestThrottleAccountFailureWindowBoundary(t *testing.T) {
	th, _, clk := newThrottle(t)
	if d := reserve(t, th, "anna", otherAddr(0), ""); d != 0 {
		t.Fatalf("first guess: wait %v", d)
	}
	guess := func(until time.Time) int {
		n := 0
		for clk.Now().Before(until) {
			d := reserve(t, th, "anna", otherAddr(n), "")
			if d > 0 {
				clk.Advance(min(d, until.Sub(clk.Now())))
				continue
			}
			n++
			clk.Advance(time.Millisecond) // the password check
		}
		return n
	}
	edge := t0.Add(accounts.FailureWindow)
	clk.Advance(edge.Add(-22 * time.Hour).Sub(clk.Now()))
	before := guess(edge)
	after := guess(edge.Add(22 * time.Hour))
	if before+after > accounts.AccountFailures {
		t.Errorf("%d + %d consecutive wrong passwords checked in the 44 hours around the end of the account's window, want at most %d",
			before, after, accounts.AccountFailures)
	}
}

// A known browser's allowance is for consecutive failures too, forgotten
// FailureWindow after the last: a device cookie left on a shared computer,
// tried every few days, does not get a new allowance when a fixed window
// from its first failure ends.
func TestThrottleKnownDeviceFailuresSlide(t *testing.T) {
	th, _, clk := newThrottle(t)
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	for i := range accounts.DeviceAttempts {
		if d := reserve(t, th, "anna", otherAddr(i), device); d != 0 {
			t.Fatalf("known device, failure %d: wait %v", i+1, d)
		}
		clk.Advance(3 * 24 * time.Hour)
	}
	// Day 31, a day past the end of a window from the first failure: the
	// device is past its allowance, so an unknown browser to the account,
	// whose ten failures are not forgotten either.
	clk.Advance(accounts.FailureWindow + 24*time.Hour - clk.Now().Sub(t0))
	reserve(t, th, "anna", otherAddr(20), device)
	if d := reserve(t, th, "anna", otherAddr(21), device); d == 0 {
		t.Fatalf("known device past its allowance, its failures %d days apart: no wait", 3)
	}
	// FailureWindow after its last failure it has its allowance back.
	clk.Advance(accounts.FailureWindow)
	for i := range accounts.DeviceAttempts {
		if d := reserve(t, th, "anna", otherAddr(i), device); d != 0 {
			t.Fatalf("known device FailureWindow after its last failure, attempt %d: wait %v", i+1, d)
		}
	}
}
