package accounts_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store/sqlite"
)

func newThrottle(t *testing.T) (*accounts.LoginThrottle, *sqlite.DB, *clock) {
	t.Helper()
	db := openDB(t)
	clk := &clock{now: t0}
	return &accounts.LoginThrottle{Store: db, Now: clk.Now}, db, clk
}

func wait(t *testing.T, th *accounts.LoginThrottle, username, addr string) time.Duration {
	t.Helper()
	d, err := th.Wait(t.Context(), username, addr)
	if err != nil {
		t.Fatalf("Wait(%q, %q): %v", username, addr, err)
	}
	return d
}

func fail(t *testing.T, th *accounts.LoginThrottle, username, addr string) {
	t.Helper()
	if err := th.Failed(t.Context(), username, addr); err != nil {
		t.Fatalf("Failed(%q, %q): %v", username, addr, err)
	}
}

// accountLimit runs the per-account scenario for username, one failure a
// minute from a different address each time (so only the account limit
// can apply), and returns the waits it saw.
func accountLimit(t *testing.T, username string) []time.Duration {
	t.Helper()
	th, _, clk := newThrottle(t)
	var waits []time.Duration
	for i := range accounts.AccountAttempts {
		if d := wait(t, th, username, ""); d != 0 {
			t.Fatalf("after %d failures: wait %v, want 0", i, d)
		}
		fail(t, th, username, fmt.Sprintf("192.0.2.%d", i))
		clk.Advance(time.Minute)
	}
	// The window started at the first failure, AccountAttempts minutes ago.
	left := accounts.AttemptWindow - time.Duration(accounts.AccountAttempts)*time.Minute
	for _, addr := range []string{"", "198.51.100.1"} {
		d := wait(t, th, username, addr)
		if d != left {
			t.Fatalf("after %d failures (from %q): wait %v, want %v", accounts.AccountAttempts, addr, d, left)
		}
		waits = append(waits, d)
	}
	if d := wait(t, th, "someone-else", "192.0.2.0"); d != 0 {
		t.Errorf("another account from an address used once: wait %v, want 0", d)
	}
	clk.Advance(left - time.Second)
	if d := wait(t, th, username, ""); d != time.Second {
		t.Fatalf("a second before the window ends: wait %v", d)
	}
	waits = append(waits, time.Second)
	clk.Advance(time.Second)
	if d := wait(t, th, username, ""); d != 0 {
		t.Fatalf("when the window ends: wait %v, want 0", d)
	}
	// A new window counts from scratch.
	fail(t, th, username, "")
	if d := wait(t, th, username, ""); d != 0 {
		t.Fatalf("one failure in a new window: wait %v, want 0", d)
	}
	return waits
}

func TestThrottleAccount(t *testing.T) {
	accountLimit(t, "anna")
}

func TestThrottleAccountUnknownUsernameBehavesTheSame(t *testing.T) {
	var known, unknown []time.Duration
	t.Run("existing account", func(t *testing.T) { known = accountLimit(t, "anna") })
	t.Run("no such account", func(t *testing.T) { unknown = accountLimit(t, "no-such-person") })
	if !slices.Equal(known, unknown) {
		t.Fatalf("waits differ: %v for an account, %v for none", known, unknown)
	}
}

func TestThrottleAccountKeyIsNormalised(t *testing.T) {
	th, _, _ := newThrottle(t)
	spellings := []string{"Anna", "ANNA", " anna ", "Ａｎｎａ", "aNnA"}
	for _, u := range spellings {
		fail(t, th, u, "")
	}
	if len(spellings) != accounts.AccountAttempts {
		t.Fatal("test needs AccountAttempts spellings")
	}
	for _, u := range append(spellings, "anna") {
		if d := wait(t, th, u, ""); d <= 0 || d > accounts.AttemptWindow {
			t.Errorf("Wait(%q) = %v: spellings of one username count apart", u, d)
		}
	}
	if d := wait(t, th, "ann\u0430", ""); d != 0 { // Cyrillic а: another username
		t.Errorf("a look-alike username shares the counter: wait %v", d)
	}
}

func TestThrottleAddress(t *testing.T) {
	th, _, clk := newThrottle(t)
	const addr = "203.0.113.9"
	for i := range accounts.AddressAttempts {
		u := fmt.Sprintf("user%02d", i)
		if d := wait(t, th, u, addr); d != 0 {
			t.Fatalf("after %d failures from the address: wait %v, want 0", i, d)
		}
		fail(t, th, u, addr)
	}
	clk.Advance(time.Minute)
	for _, u := range []string{"fresh", "anna", "user00"} {
		if d := wait(t, th, u, addr); d != accounts.AttemptWindow-time.Minute {
			t.Errorf("Wait(%q) from the spraying address = %v, want %v", u, d, accounts.AttemptWindow-time.Minute)
		}
	}
	for _, u := range []string{"fresh", "user00"} {
		if d := wait(t, th, u, "203.0.113.10"); d != 0 {
			t.Errorf("Wait(%q) from another address = %v, want 0", u, d)
		}
	}
	if d := wait(t, th, "fresh", ""); d != 0 {
		t.Errorf("Wait without an address = %v, want 0", d)
	}
	clk.Advance(accounts.AttemptWindow - time.Minute)
	if d := wait(t, th, "fresh", addr); d != 0 {
		t.Errorf("after the window: wait %v, want 0", d)
	}
}

// An IPv6 client counts by its /64 (one subscriber's block); IPv4 and
// IPv4-mapped addresses count one by one.
func TestThrottleAddressIPv6Prefix(t *testing.T) {
	th, _, _ := newThrottle(t)
	th.AddressAttempts = 3
	for i, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:DB8:1:2:0:0:0:abcd"} {
		fail(t, th, fmt.Sprintf("user%d", i), addr)
	}
	if d := wait(t, th, "fresh", "2001:db8:1:2::77"); d <= 0 {
		t.Error("another address of the same /64 is not held back")
	}
	if d := wait(t, th, "fresh", "2001:db8:1:3::1"); d != 0 {
		t.Errorf("the next /64 is held back: %v", d)
	}
	for i, addr := range []string{"198.51.100.1", "::ffff:198.51.100.1", "198.51.100.1"} {
		fail(t, th, fmt.Sprintf("v4user%d", i), addr)
	}
	if d := wait(t, th, "fresh", "198.51.100.1"); d <= 0 {
		t.Error("an IPv4 address and its IPv4-mapped form count apart")
	}
	if d := wait(t, th, "fresh", "198.51.100.2"); d != 0 {
		t.Errorf("a neighbouring IPv4 address is held back: %v", d)
	}
}

func TestThrottleSucceededResetsAccountOnly(t *testing.T) {
	th, _, _ := newThrottle(t)
	th.AccountAttempts, th.AddressAttempts, th.Window = 3, 5, 10*time.Minute
	const addr = "203.0.113.9"
	for range 5 {
		fail(t, th, "anna", addr)
	}
	if d := wait(t, th, "anna", "198.51.100.1"); d != 10*time.Minute {
		t.Fatalf("account limit: wait %v", d)
	}
	if d := wait(t, th, "boris", addr); d != 10*time.Minute {
		t.Fatalf("address limit: wait %v", d)
	}
	if err := th.Succeeded(t.Context(), "ANNA"); err != nil {
		t.Fatal(err)
	}
	if d := wait(t, th, "anna", "198.51.100.1"); d != 0 {
		t.Errorf("after Succeeded the account still waits %v", d)
	}
	if d := wait(t, th, "anna", addr); d != 10*time.Minute {
		t.Errorf("after Succeeded the address waits %v, want the full window still", d)
	}
	// The account counts from zero again: two more failures stay below 3.
	fail(t, th, "anna", "")
	fail(t, th, "anna", "")
	if d := wait(t, th, "anna", ""); d != 0 {
		t.Errorf("two failures after a reset: wait %v", d)
	}
	if err := th.Succeeded(t.Context(), "never-failed"); err != nil {
		t.Errorf("Succeeded for a username with no counter: %v", err)
	}
}

func TestThrottleCustomLimits(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountAttempts, th.Window = 2, time.Minute
	fail(t, th, "anna", "")
	if d := wait(t, th, "anna", ""); d != 0 {
		t.Fatalf("one failure of 2: wait %v", d)
	}
	fail(t, th, "anna", "")
	if d := wait(t, th, "anna", ""); d != time.Minute {
		t.Fatalf("two failures of 2: wait %v, want the 1m window", d)
	}
	clk.Advance(time.Minute)
	if d := wait(t, th, "anna", ""); d != 0 {
		t.Fatalf("after the 1m window: wait %v", d)
	}
}

// Reserve counts before the password is checked: a burst of parallel
// attempts gets no more tries than the limit.
func TestThrottleReserveCountsFirst(t *testing.T) {
	th, _, _ := newThrottle(t)
	var wg sync.WaitGroup
	waits := make([]time.Duration, 20)
	for i := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := th.Reserve(context.Background(), "anna", "192.0.2.7")
			if err != nil {
				t.Error(err)
			}
			waits[i] = d
		}()
	}
	wg.Wait()
	allowed := 0
	for _, d := range waits {
		if d == 0 {
			allowed++
		}
	}
	if allowed != accounts.AccountAttempts {
		t.Fatalf("%d of %d parallel attempts were let through, want %d", allowed, len(waits), accounts.AccountAttempts)
	}
}
