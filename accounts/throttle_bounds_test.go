package accounts_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
)

// The per-address limit must hold for a parallel burst as the account's
// does: requests from one address that all arrive before any password
// check has finished (the check is a slow hash) must not all be let
// through. Reserve counts the address before the check: were it only read
// there and counted after the check, every request of a burst would pass
// the read (check-then-count) and a sprayer would get as many guesses per
// window as it can keep in flight.
func TestThrottleAddressBurstReservesBeforeCheck(t *testing.T) {
	th, _, _ := newThrottle(t)
	const addr = "203.0.113.9"
	const burst = 3 * accounts.AddressAttempts
	var reserved, checked sync.WaitGroup
	reserved.Add(burst)
	allowed := make([]bool, burst)
	for i := range burst {
		checked.Add(1)
		go func() {
			defer checked.Done()
			// One guess at each of many accounts (a spray), so that only
			// the address's limit can hold any of them back.
			r, err := th.Reserve(context.Background(), fmt.Sprintf("user%03d", i), addr, "")
			if err != nil {
				t.Error(err)
			}
			allowed[i] = r.Wait == 0
			reserved.Done()
			reserved.Wait() // every request is in its password check, then fails
		}()
	}
	checked.Wait()
	n := 0
	for _, ok := range allowed {
		if ok {
			n++
		}
	}
	if n > accounts.AddressAttempts {
		t.Errorf("%d of %d parallel guesses from one address had their password checked, want at most %d", n, burst, accounts.AddressAttempts)
	}
}

// NIST SP 800-63B(-4) §3.2.2 (rev. 3 §5.2.2): at most 100 consecutive
// failed attempts on one account. An unknown browser guessing as fast as
// it is let, never succeeding, must be held to that. (Were the count and
// the pause to start afresh every 15-minute window, it would get some
// 2,300 guesses a day, without end.)
func TestThrottleAccountConsecutiveFailuresBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addrOf func(i int) string
	}{
		{"one address", func(int) string { return "203.0.113.9" }},
		{"many addresses", otherAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th, _, clk := newThrottle(t)
			end := clk.Now().Add(24 * time.Hour)
			guesses := 0
			for i := 0; clk.Now().Before(end); i++ {
				addr := tc.addrOf(guesses)
				d := reserve(t, th, "anna", addr, "")
				if d > 0 {
					clk.Advance(d)
					continue
				}
				guesses++
				clk.Advance(time.Millisecond) // the password check
			}
			if guesses > 100 {
				t.Errorf("%d wrong passwords checked on one account in a day from unknown browsers, want at most 100 consecutive", guesses)
			}
		})
	}
}

// The same bound for a known browser's wrong passwords: a device cookie
// left with someone who once signed in (a shared computer, a thief of the
// old password; the cookie lives a year and outlasts a password change)
// must not get DeviceAttempts on its own allowance renewed every window
// before it falls back to the account's count: its failures are the
// account's consecutive failures too.
func TestThrottleKnownDeviceConsecutiveFailuresBounded(t *testing.T) {
	th, _, clk := newThrottle(t)
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	end := clk.Now().Add(24 * time.Hour)
	guesses := 0
	for clk.Now().Before(end) {
		d := reserve(t, th, "anna", otherAddr(guesses), device)
		if d > 0 {
			clk.Advance(d)
			continue
		}
		guesses++
		clk.Advance(time.Millisecond)
	}
	if guesses > 100 {
		t.Errorf("%d wrong passwords checked on one account in a day from one known browser, want at most 100 consecutive", guesses)
	}
}
