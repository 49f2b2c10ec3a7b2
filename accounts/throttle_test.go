package accounts_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	return &accounts.LoginThrottle{Store: db, Now: clk.Now, DeviceKey: []byte("0123456789abcdef0123456789abcdef")}, db, clk
}

func reserve(t *testing.T, th *accounts.LoginThrottle, username, addr, device string) time.Duration {
	t.Helper()
	d, err := th.Reserve(t.Context(), username, addr, device)
	if err != nil {
		t.Fatalf("Reserve(%q, %q, %q): %v", username, addr, device, err)
	}
	return d
}

func failAddress(t *testing.T, th *accounts.LoginThrottle, addr string) {
	t.Helper()
	if err := th.FailedAddress(t.Context(), addr); err != nil {
		t.Fatalf("FailedAddress(%q): %v", addr, err)
	}
}

// otherAddr is a fresh address for attempt i, so that only the account's
// count can hold an attempt back.
func otherAddr(i int) string { return fmt.Sprintf("192.0.2.%d", i%250) }

// slowdown runs guesses at username from an unknown browser, each as soon
// as it is allowed, and returns the pauses it was told to wait.
func slowdown(t *testing.T, th *accounts.LoginThrottle, clk *clock, username string, attempts int) []time.Duration {
	t.Helper()
	var waits []time.Duration
	for i := range attempts {
		d := reserve(t, th, username, otherAddr(i), "")
		if d > 0 {
			waits = append(waits, d)
			clk.Advance(d)
			if d := reserve(t, th, username, otherAddr(i), ""); d != 0 {
				t.Fatalf("attempt %d after waiting: told to wait %v more", i+1, d)
			}
		}
	}
	return waits
}

// The per-account limit is a growing delay, not a wall: after five
// attempts each further one waits 1 s, 2 s, 4 s … up to a minute.
func TestThrottleAccountSlowsDown(t *testing.T) {
	th, _, clk := newThrottle(t)
	s := time.Second
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, time.Minute, time.Minute}
	if got := slowdown(t, th, clk, "anna", accounts.AccountAttempts+len(want)); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	// A new window starts from scratch.
	clk.Advance(accounts.AttemptWindow)
	for i := range accounts.AccountAttempts {
		if d := reserve(t, th, "anna", "", ""); d != 0 {
			t.Fatalf("attempt %d of a new window: wait %v", i+1, d)
		}
	}
}

// Attempts refused during a pause count nothing and do not move it: a
// guesser hammering the form cannot stretch the slowdown into a wall.
func TestThrottleRefusedAttemptsDoNotGrowTheDelay(t *testing.T) {
	th, _, clk := newThrottle(t)
	for range accounts.AccountAttempts {
		reserve(t, th, "anna", "", "")
	}
	for i := range 50 {
		if d := reserve(t, th, "anna", otherAddr(i), ""); d != time.Second {
			t.Fatalf("hammering during the first pause: wait %v, want 1s", d)
		}
	}
	clk.Advance(time.Second)
	if d := reserve(t, th, "anna", "", ""); d != 0 {
		t.Fatalf("after the pause: wait %v", d)
	}
	if d := reserve(t, th, "anna", "", ""); d != 2*time.Second {
		t.Fatalf("the next pause: %v, want 2s", d)
	}
}

func TestThrottleAccountUnknownUsernameBehavesTheSame(t *testing.T) {
	var known, unknown []time.Duration
	t.Run("existing account", func(t *testing.T) {
		th, _, clk := newThrottle(t)
		known = slowdown(t, th, clk, "anna", 12)
	})
	t.Run("no such account", func(t *testing.T) {
		th, _, clk := newThrottle(t)
		unknown = slowdown(t, th, clk, "no-such-person", 12)
	})
	if len(known) == 0 || !slices.Equal(known, unknown) {
		t.Fatalf("waits differ: %v for an account, %v for none", known, unknown)
	}
}

func TestThrottleAccountKeyIsNormalised(t *testing.T) {
	th, _, _ := newThrottle(t)
	spellings := []string{"Anna", "ANNA", " anna ", "Ａｎｎａ", "aNnA"}
	if len(spellings) != accounts.AccountAttempts {
		t.Fatal("test needs AccountAttempts spellings")
	}
	for _, u := range spellings {
		if d := reserve(t, th, u, "", ""); d != 0 {
			t.Fatalf("Reserve(%q): wait %v", u, d)
		}
	}
	if d := reserve(t, th, "anna", "", ""); d <= 0 {
		t.Error("spellings of one username count apart")
	}
	if d := reserve(t, th, "ann\u0430", "", ""); d != 0 { // Cyrillic а: another username
		t.Errorf("a look-alike username shares the counter: wait %v", d)
	}
}

func TestThrottleAddress(t *testing.T) {
	th, _, clk := newThrottle(t)
	const addr = "203.0.113.9"
	device := th.KnownDevice("acct-anna", th.IssueDevice("acct-anna"))
	for i := range accounts.AddressAttempts {
		u := fmt.Sprintf("user%02d", i)
		if d := reserve(t, th, u, addr, ""); d != 0 {
			t.Fatalf("after %d failures from the address: wait %v, want 0", i, d)
		}
		failAddress(t, th, addr)
	}
	clk.Advance(time.Minute)
	left := accounts.AttemptWindow - time.Minute
	// The address limit stays a wall, for a known device too.
	for _, dev := range []string{"", device} {
		for _, u := range []string{"fresh", "anna", "user00"} {
			if d := reserve(t, th, u, addr, dev); d != left {
				t.Errorf("Reserve(%q, device %t) from the spraying address = %v, want %v", u, dev != "", d, left)
			}
		}
	}
	// Refused at the address, those attempts used none of anna's turns.
	for i := range accounts.AccountAttempts {
		if d := reserve(t, th, "anna", "203.0.113.10", ""); d != 0 {
			t.Fatalf("anna's attempt %d from another address: wait %v", i+1, d)
		}
	}
	if d := reserve(t, th, "fresh", "", ""); d != 0 {
		t.Errorf("Reserve without an address = %v, want 0", d)
	}
	clk.Advance(left)
	if d := reserve(t, th, "fresh", addr, ""); d != 0 {
		t.Errorf("after the window: wait %v, want 0", d)
	}
}

// An IPv6 client counts by its /64 (one subscriber's block); IPv4 and
// IPv4-mapped addresses count one by one.
func TestThrottleAddressIPv6Prefix(t *testing.T) {
	th, _, _ := newThrottle(t)
	th.AddressAttempts = 3
	for _, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:DB8:1:2:0:0:0:abcd"} {
		failAddress(t, th, addr)
	}
	if d := reserve(t, th, "fresh", "2001:db8:1:2::77", ""); d <= 0 {
		t.Error("another address of the same /64 is not held back")
	}
	if d := reserve(t, th, "fresh", "2001:db8:1:3::1", ""); d != 0 {
		t.Errorf("the next /64 is held back: %v", d)
	}
	for _, addr := range []string{"198.51.100.1", "::ffff:198.51.100.1", "198.51.100.1"} {
		failAddress(t, th, addr)
	}
	if d := reserve(t, th, "fresh2", "198.51.100.1", ""); d <= 0 {
		t.Error("an IPv4 address and its IPv4-mapped form count apart")
	}
	if d := reserve(t, th, "fresh2", "198.51.100.2", ""); d != 0 {
		t.Errorf("a neighbouring IPv4 address is held back: %v", d)
	}
}

// A browser that signed in to the account before is not held back by
// guesses from elsewhere; its own wrong passwords count for it, and once
// its allowance is used up it waits like any other browser.
func TestThrottleKnownDevice(t *testing.T) {
	th, _, clk := newThrottle(t)
	for i := range 40 { // a guesser, from many addresses
		reserve(t, th, "anna", otherAddr(i), "")
	}
	if d := reserve(t, th, "anna", "198.51.100.7", ""); d <= 0 {
		t.Fatal("an unknown browser is not slowed after 40 guesses")
	}
	device := th.KnownDevice("acct-anna", th.IssueDevice("acct-anna"))
	if device == "" {
		t.Fatal("a fresh device token is not known")
	}
	for i := range accounts.DeviceAttempts {
		if d := reserve(t, th, "anna", "198.51.100.7", device); d != 0 {
			t.Fatalf("known device, attempt %d: wait %v", i+1, d)
		}
	}
	// A stolen cookie is not a free pass: past its own allowance the
	// device is slowed by the account's count like everyone else.
	if d := reserve(t, th, "anna", "198.51.100.7", device); d <= 0 || d > accounts.MaxDelay {
		t.Fatalf("known device past its allowance: wait %v, want the account's pause", d)
	}
	other := th.KnownDevice("acct-anna", th.IssueDevice("acct-anna"))
	if d := reserve(t, th, "anna", "198.51.100.8", other); d != 0 {
		t.Errorf("another known device of the account: wait %v", d)
	}
	// The right password from the device gives it its allowance back…
	if err := th.Succeeded(t.Context(), "anna", device); err != nil {
		t.Fatal(err)
	}
	if d := reserve(t, th, "anna", "198.51.100.7", device); d != 0 {
		t.Errorf("known device after its success: wait %v", d)
	}
	// …but does not reset the account's count for the guesser.
	clk.Advance(time.Millisecond)
	if d := reserve(t, th, "anna", "203.0.113.1", ""); d <= 0 {
		t.Error("a success from a known device reset the account's count")
	}
}

func TestThrottleSucceeded(t *testing.T) {
	th, _, _ := newThrottle(t)
	th.AccountAttempts, th.AddressAttempts = 3, 5
	const addr = "203.0.113.9"
	for range 3 {
		reserve(t, th, "anna", addr, "")
		failAddress(t, th, addr)
	}
	if d := reserve(t, th, "anna", "198.51.100.1", ""); d <= 0 {
		t.Fatal("account not slowed after 3 attempts of 3")
	}
	for range 2 {
		failAddress(t, th, addr)
	}
	if d := reserve(t, th, "boris", addr, ""); d != accounts.AttemptWindow {
		t.Fatalf("address limit: wait %v", d)
	}
	if err := th.Succeeded(t.Context(), "ANNA", ""); err != nil {
		t.Fatal(err)
	}
	// The account counts from zero again; the address still waits.
	for i := range 3 {
		if d := reserve(t, th, "anna", "198.51.100.1", ""); d != 0 {
			t.Fatalf("attempt %d after Succeeded: wait %v", i+1, d)
		}
	}
	if d := reserve(t, th, "anna", addr, ""); d != accounts.AttemptWindow {
		t.Errorf("after Succeeded the address waits %v, want the full window still", d)
	}
	if err := th.Succeeded(t.Context(), "never-failed", ""); err != nil {
		t.Errorf("Succeeded for a username with no counter: %v", err)
	}
}

func TestThrottleCustomLimits(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountAttempts, th.Window, th.MaxDelay = 2, time.Minute, 3*time.Second
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	if got := slowdown(t, th, clk, "anna", 6); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}

// Reserve counts before the password is checked: a burst of parallel
// attempts gets no more tries than the limits allow.
func TestThrottleReserveCountsFirst(t *testing.T) {
	th, _, _ := newThrottle(t)
	device := th.KnownDevice("acct-anna", th.IssueDevice("acct-anna"))
	for _, tc := range []struct {
		name, username, device string
		want                   int
	}{
		{"unknown browser", "anna", "", accounts.AccountAttempts},
		// A stolen device cookie: its own allowance, then the account's.
		{"known device", "boris", device, accounts.DeviceAttempts + accounts.AccountAttempts},
	} {
		var wg sync.WaitGroup
		waits := make([]time.Duration, 30)
		for i := range waits {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := th.Reserve(context.Background(), tc.username, "192.0.2.7", tc.device)
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
		if allowed != tc.want {
			t.Errorf("%s: %d of %d parallel attempts were let through, want %d", tc.name, allowed, len(waits), tc.want)
		}
	}
}

func TestDeviceTokens(t *testing.T) {
	th, _, clk := newThrottle(t)
	tok := th.IssueDevice("acct-anna")
	id := th.KnownDevice("acct-anna", tok)
	if id == "" || strings.Contains(tok, "acct-anna") {
		t.Fatalf("token %q: device %q", tok, id)
	}
	if again := th.KnownDevice("acct-anna", th.IssueDevice("acct-anna")); again == id {
		t.Error("two tokens share a device ID")
	}
	otherKey := *th
	otherKey.DeviceKey = []byte("another key, another deployment!")
	noKey := *th
	noKey.DeviceKey = nil
	flip := []byte(tok)
	flip[len(flip)-2] ^= 1
	for name, bad := range map[string]func() string{
		"another account":      func() string { return th.KnownDevice("acct-boris", tok) },
		"tampered":             func() string { return th.KnownDevice("acct-anna", string(flip)) },
		"device swapped":       func() string { return th.KnownDevice("acct-anna", strings.Repeat("A", 22)+tok[22:]) },
		"another key":          func() string { return otherKey.KnownDevice("acct-anna", tok) },
		"no key":               func() string { return noKey.KnownDevice("acct-anna", tok) },
		"empty":                func() string { return th.KnownDevice("acct-anna", "") },
		"no account":           func() string { return th.KnownDevice("", tok) },
		"garbage":              func() string { return th.KnownDevice("acct-anna", "a.b.c") },
		"issued without a key": func() string { return th.KnownDevice("acct-anna", noKey.IssueDevice("acct-anna")) },
	} {
		if got := bad(); got != "" {
			t.Errorf("%s: known as device %q", name, got)
		}
	}
	clk.Advance(accounts.DeviceLifetime - time.Second)
	if th.KnownDevice("acct-anna", tok) != id {
		t.Error("token not known just before its lifetime ends")
	}
	clk.Advance(time.Second)
	if th.KnownDevice("acct-anna", tok) != "" {
		t.Error("token known after its lifetime")
	}
	// A token from a node whose clock runs far ahead is refused.
	ahead := *th
	ahead.Now = func() time.Time { return clk.Now().Add(time.Hour) }
	if th.KnownDevice("acct-anna", ahead.IssueDevice("acct-anna")) != "" {
		t.Error("a token issued an hour in the future is known")
	}
}

// The device cookie comes from the browser: whatever it holds, KnownDevice
// does not panic, and what it accepts is a whole token for that account
// only. (Each fuzzing process issues its own good token.)
func FuzzKnownDevice(f *testing.F) {
	th := &accounts.LoginThrottle{DeviceKey: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return t0 }}
	good := th.IssueDevice("acct-anna")
	for _, s := range []string{good, good + ".", "." + good, "a.b.c", "..", strings.Repeat("A", 22) + ".zzzzzzzzzzzzz.x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		id := th.KnownDevice("acct-anna", tok)
		if id == "" {
			return
		}
		if strings.Count(tok, ".") != 2 || !strings.HasPrefix(tok, id+".") || th.KnownDevice("acct-boris", tok) != "" {
			t.Fatalf("token %q known as device %q", tok, id)
		}
		flip := []byte(tok)
		flip[len(flip)-1] ^= 0x20
		if th.KnownDevice("acct-anna", string(flip)) != "" {
			t.Fatalf("token %q with its last byte changed is still known", tok)
		}
	})
}
