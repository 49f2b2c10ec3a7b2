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
	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
	"github.com/propusk/propusk/store/sqlite"
)

// anna is the account device tokens are issued for; her password hash is
// the tokens' epoch.
var anna = store.Account{ID: "acct-anna", Username: "anna", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"}

func account(id string) store.Account { return store.Account{ID: id, PasswordHash: "hash of " + id} }

func newThrottle(t *testing.T) (*accounts.LoginThrottle, *sqlite.DB, *clock.Fake) {
	t.Helper()
	db := openDB(t)
	clk := clock.NewFake(t0)
	return &accounts.LoginThrottle{Store: db, Clock: clk.Now, DeviceKey: []byte("0123456789abcdef0123456789abcdef")}, db, clk
}

func reserveTurn(t *testing.T, th *accounts.LoginThrottle, username, addr, device string) accounts.Reservation {
	t.Helper()
	r, err := th.Reserve(t.Context(), username, addr, device)
	if err != nil {
		t.Fatalf("Reserve(%q, %q, %q): %v", username, addr, device, err)
	}
	return r
}

// reserve is the wait Reserve answers; a wrong password needs nothing more.
func reserve(t *testing.T, th *accounts.LoginThrottle, username, addr, device string) time.Duration {
	t.Helper()
	return reserveTurn(t, th, username, addr, device).Wait
}

func unlock(t *testing.T, th *accounts.LoginThrottle, username string) {
	t.Helper()
	if err := th.Unlock(t.Context(), username); err != nil {
		t.Fatal(err)
	}
}

// signIn is a right password: let through, then Succeeded.
func signIn(t *testing.T, th *accounts.LoginThrottle, username, addr, device string) {
	t.Helper()
	r := reserveTurn(t, th, username, addr, device)
	if r.Wait != 0 {
		t.Fatalf("sign-in as %q from %q (device %t): wait %v", username, addr, device != "", r.Wait)
	}
	if err := th.Succeeded(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// otherAddr is a fresh address for attempt i, so that only the account's
// count can hold an attempt back.
func otherAddr(i int) string { return fmt.Sprintf("192.0.2.%d", i%250) }

// slowdown runs guesses at username from an unknown browser, each as soon
// as it is allowed, and returns the pauses it was told to wait.
func slowdown(t *testing.T, th *accounts.LoginThrottle, clk *clock.Fake, username string, attempts int) []time.Duration {
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

// The per-account limit is a growing delay: after five consecutive
// failures each further one waits 1 s, 2 s, 4 s … up to 15 minutes. The
// failures are consecutive ones, not a window's: fifteen minutes later the
// pauses go on; only FailureWindow after the last failure do they start
// afresh.
func TestThrottleAccountSlowsDown(t *testing.T) {
	th, _, clk := newThrottle(t)
	var want []time.Duration
	for d := time.Second; d < accounts.MaxDelay; d *= 2 {
		want = append(want, d)
	}
	want = append(want, accounts.MaxDelay, accounts.MaxDelay)
	if got := slowdown(t, th, clk, "anna", accounts.AccountAttempts+len(want)); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	clk.Advance(accounts.AttemptWindow)
	if d := reserve(t, th, "anna", "", ""); d != 0 {
		t.Fatalf("after a pause: wait %v", d)
	}
	if d := reserve(t, th, "anna", "", ""); d != accounts.MaxDelay {
		t.Fatalf("fifteen minutes on, the failures still count: wait %v, want %v", d, accounts.MaxDelay)
	}
	clk.Advance(accounts.FailureWindow)
	for i := range accounts.AccountAttempts {
		if d := reserve(t, th, "anna", "", ""); d != 0 {
			t.Fatalf("attempt %d after FailureWindow: wait %v", i+1, d)
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

// An address that sprayed 30 wrong passwords waits out its window: every
// unknown browser there, at any account. A browser known to an account is
// not held back by it (a café's address filled by an attacker).
func TestThrottleAddress(t *testing.T) {
	th, _, clk := newThrottle(t)
	const addr = "203.0.113.9"
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	for i := range accounts.AddressAttempts {
		u := fmt.Sprintf("user%02d", i)
		if d := reserve(t, th, u, addr, ""); d != 0 {
			t.Fatalf("after %d failures from the address: wait %v, want 0", i, d)
		}
	}
	clk.Advance(time.Minute)
	left := accounts.AttemptWindow - time.Minute
	for _, u := range []string{"fresh", "anna", "user00"} {
		if d := reserve(t, th, u, addr, ""); d != left {
			t.Errorf("Reserve(%q) from the spraying address = %v, want %v", u, d, left)
		}
	}
	signIn(t, th, "anna", addr, device)
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

// The address counts wrong passwords only: a good sign-in, or an attempt
// refused before its check, gives its turn back, so people behind one NAT
// are not walled by each other's sign-ins.
func TestThrottleAddressCountsOnlyFailures(t *testing.T) {
	th, _, _ := newThrottle(t)
	const addr = "203.0.113.9"
	for i := range accounts.AddressAttempts - 1 {
		reserve(t, th, fmt.Sprintf("user%02d", i), addr, "")
	}
	for i := range 3 * accounts.AddressAttempts {
		signIn(t, th, fmt.Sprintf("colleague%02d", i), addr, "")
	}
	// Refused by boris's pause: counted nothing at the address either.
	for range accounts.AccountAttempts {
		reserve(t, th, "boris", "198.51.100.1", "")
	}
	for range 10 {
		if d := reserve(t, th, "boris", addr, ""); d != time.Second {
			t.Fatalf("boris's pause from the address: %v", d)
		}
	}
	if d := reserve(t, th, "last", addr, ""); d != 0 {
		t.Fatalf("the address's last turn: wait %v", d)
	}
	if d := reserve(t, th, "one-more", addr, ""); d != accounts.AttemptWindow {
		t.Fatalf("after %d failures: wait %v, want the window", accounts.AddressAttempts, d)
	}
}

// An IPv6 client counts by its /64 (one subscriber's block); IPv4 and
// IPv4-mapped addresses count one by one.
func TestThrottleAddressIPv6Prefix(t *testing.T) {
	th, _, _ := newThrottle(t)
	th.AddressAttempts = 3
	for i, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:DB8:1:2:0:0:0:abcd"} {
		reserve(t, th, fmt.Sprint("six", i), addr, "")
	}
	if d := reserve(t, th, "fresh", "2001:db8:1:2::77", ""); d <= 0 {
		t.Error("another address of the same /64 is not held back")
	}
	if d := reserve(t, th, "fresh", "2001:db8:1:3::1", ""); d != 0 {
		t.Errorf("the next /64 is held back: %v", d)
	}
	for i, addr := range []string{"198.51.100.1", "::ffff:198.51.100.1", "198.51.100.1"} {
		reserve(t, th, fmt.Sprint("four", i), addr, "")
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
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	if device == "" {
		t.Fatal("a fresh device token is not known")
	}
	for i := range accounts.DeviceAttempts {
		if d := reserve(t, th, "anna", "198.51.100.7", device); d != 0 {
			t.Fatalf("known device, attempt %d: wait %v", i+1, d)
		}
	}
	// A stolen cookie is not a free pass: past its own allowance the
	// device is slowed by the account's count like everyone else, even a
	// day later (consecutive failures, not a window's).
	if d := reserve(t, th, "anna", "198.51.100.7", device); d <= 0 || d > accounts.MaxDelay {
		t.Fatalf("known device past its allowance: wait %v, want the account's pause", d)
	}
	clk.Advance(24 * time.Hour)
	if d := reserve(t, th, "anna", "198.51.100.7", device); d != 0 {
		t.Fatalf("known device past its allowance, after the pause: wait %v", d)
	}
	if d := reserve(t, th, "anna", "198.51.100.7", device); d != accounts.MaxDelay {
		t.Fatalf("known device past its allowance, a day on: wait %v, want %v", d, accounts.MaxDelay)
	}
	other := th.KnownDevice(anna, th.IssueDevice(anna))
	if d := reserve(t, th, "anna", "198.51.100.8", other); d != 0 {
		t.Errorf("another known device of the account: wait %v", d)
	}
	// The right password from the device gives it its allowance back and
	// ends the account's run of failures: the owner broke the sequence.
	clk.Advance(accounts.MaxDelay)
	signIn(t, th, "anna", "198.51.100.7", device)
	for i := range accounts.AccountAttempts {
		if d := reserve(t, th, "anna", otherAddr(i), ""); d != 0 {
			t.Fatalf("unknown browser after the owner's sign-in, attempt %d: wait %v", i+1, d)
		}
	}
	for i := range accounts.DeviceAttempts {
		if d := reserve(t, th, "anna", "198.51.100.7", device); d != 0 {
			t.Fatalf("known device after its success, attempt %d: wait %v", i+1, d)
		}
	}
}

// At AccountFailures consecutive failures unknown browsers are refused,
// not slowed, until the owner signs in from a known browser, an
// administrator unlocks the account, or FailureWindow has passed since the
// last failure.
func TestThrottleAccountLocksUnknownBrowsersAtTheLimit(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountFailures = 20 // the rule is the same; the test is shorter
	var last time.Time      // the last failure counted
	lockOut := func() {
		t.Helper()
		for n := 0; n < th.AccountFailures; {
			r := reserveTurn(t, th, "anna", otherAddr(n), "")
			if r.Locked {
				t.Fatalf("locked after %d failures", n)
			}
			if r.Wait > 0 {
				clk.Advance(r.Wait)
				continue
			}
			n++
			last = clk.Now()
		}
	}
	lockOut()
	wantLocked := func(what string) {
		t.Helper()
		r := reserveTurn(t, th, "anna", "198.51.100.9", "")
		if left := last.Add(accounts.FailureWindow).Sub(clk.Now()); !r.Locked || r.Wait != left {
			t.Fatalf("%s: %+v, want locked for %v", what, r, left)
		}
	}
	wantLocked("after the limit")
	clk.Advance(accounts.MaxDelay)
	wantLocked("after the longest pause") // refused attempts move nothing
	// A known browser still gets in; its sign-in lifts the lock.
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	reserve(t, th, "anna", "198.51.100.9", device) // a typo first
	last = clk.Now()
	wantLocked("after a known browser's wrong password")
	signIn(t, th, "anna", "198.51.100.9", device)
	if d := reserve(t, th, "anna", "198.51.100.9", ""); d != 0 {
		t.Fatalf("after the owner's sign-in: wait %v", d)
	}

	// An administrator's unlock lifts it too.
	clk.Advance(time.Hour)
	unlock(t, th, "anna") // the attempt above began a run: start afresh
	lockOut()
	wantLocked("again")
	unlock(t, th, "ANNA")
	if d := reserve(t, th, "anna", "198.51.100.9", ""); d != 0 {
		t.Fatalf("after Unlock: wait %v", d)
	}

	// And the failures are forgotten FailureWindow after the last, not
	// before.
	unlock(t, th, "anna")
	lockOut()
	clk.Advance(last.Add(accounts.FailureWindow - time.Second).Sub(clk.Now()))
	wantLocked("a second before FailureWindow after the last failure")
	clk.Advance(time.Second)
	if d := reserve(t, th, "anna", "198.51.100.9", ""); d != 0 {
		t.Fatalf("FailureWindow after the last failure: wait %v", d)
	}
}

// A known device's failures are the account's consecutive failures too:
// once they and an unknown browser's reach the limit, unknown browsers are
// refused, though no pause was set for them.
func TestThrottleKnownDeviceFailuresCountOnTheAccount(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountFailures = 12
	for range th.AccountFailures - accounts.DeviceAttempts {
		reserve(t, th, "anna", "", "")
	}
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	for range accounts.DeviceAttempts {
		reserve(t, th, "anna", "", device)
	}
	clk.Advance(accounts.MaxDelay)
	if r := reserveTurn(t, th, "anna", "", ""); !r.Locked {
		t.Fatalf("after %d failures from a known device and an unknown browser: %+v, want locked", th.AccountFailures, r)
	}
}

func TestThrottleSucceeded(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountAttempts, th.AddressAttempts = 3, 5
	const addr = "203.0.113.9"
	for range 3 {
		reserve(t, th, "anna", addr, "")
	}
	if d := reserve(t, th, "anna", "198.51.100.1", ""); d <= 0 {
		t.Fatal("account not slowed after 3 attempts of 3")
	}
	reserve(t, th, "boris", addr, "")
	reserve(t, th, "vera", addr, "")
	if d := reserve(t, th, "boris", addr, ""); d != accounts.AttemptWindow {
		t.Fatalf("address limit: wait %v", d)
	}
	clk.Advance(time.Second)
	signIn(t, th, "ANNA", "198.51.100.2", "")
	// The account counts from zero again; the address still waits.
	for i := range 3 {
		if d := reserve(t, th, "anna", "198.51.100.1", ""); d != 0 {
			t.Fatalf("attempt %d after Succeeded: wait %v", i+1, d)
		}
	}
	if d := reserve(t, th, "anna", addr, ""); d != accounts.AttemptWindow-time.Second {
		t.Errorf("after Succeeded the address waits %v, want the rest of its window still", d)
	}
	signIn(t, th, "never-failed", "", "")
}

func TestThrottleCustomLimits(t *testing.T) {
	th, _, clk := newThrottle(t)
	th.AccountAttempts, th.FailureWindow, th.MaxDelay = 2, time.Minute, 3*time.Second
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	if got := slowdown(t, th, clk, "anna", 6); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	clk.Advance(time.Minute)
	if d := reserve(t, th, "anna", "", ""); d != 0 {
		t.Fatalf("after FailureWindow: wait %v", d)
	}
}

// Reserve counts before the password is checked: a burst of parallel
// attempts gets no more tries than the limits allow.
func TestThrottleReserveCountsFirst(t *testing.T) {
	th, _, _ := newThrottle(t)
	device := th.KnownDevice(anna, th.IssueDevice(anna))
	for _, tc := range []struct {
		name, username, device string
		least, most            int
	}{
		{"unknown browser", "anna", "", accounts.AccountAttempts, accounts.AccountAttempts},
		// A stolen device cookie: its own allowance, then what the
		// account has left once the allowance's failures are counted on it
		// too (in whatever order the burst arrives).
		{"known device", "boris", device, accounts.DeviceAttempts + 1, accounts.DeviceAttempts + accounts.AccountAttempts},
	} {
		var wg sync.WaitGroup
		waits := make([]time.Duration, 30)
		for i := range waits {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := th.Reserve(context.Background(), tc.username, "192.0.2.7", tc.device)
				if err != nil {
					t.Error(err)
				}
				waits[i] = r.Wait
			}()
		}
		wg.Wait()
		allowed := 0
		for _, d := range waits {
			if d == 0 {
				allowed++
			}
		}
		if allowed < tc.least || allowed > tc.most {
			t.Errorf("%s: %d of %d parallel attempts were let through, want %d to %d", tc.name, allowed, len(waits), tc.least, tc.most)
		}
	}
}

func TestDeviceTokens(t *testing.T) {
	th, _, clk := newThrottle(t)
	tok := th.IssueDevice(anna)
	id := th.KnownDevice(anna, tok)
	if id == "" || strings.Contains(tok, anna.ID) {
		t.Fatalf("token %q: device %q", tok, id)
	}
	if again := th.KnownDevice(anna, th.IssueDevice(anna)); again == id {
		t.Error("two tokens share a device ID")
	}
	otherKey := *th
	otherKey.DeviceKey = []byte("another key, another deployment!")
	noKey := *th
	noKey.DeviceKey = nil
	flip := []byte(tok)
	flip[len(flip)-2] ^= 1
	newPassword := anna
	newPassword.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ldw$aGFzaGhhc2hoYXNo"
	for name, bad := range map[string]func() string{
		"another account":      func() string { return th.KnownDevice(account("acct-boris"), tok) },
		"tampered":             func() string { return th.KnownDevice(anna, string(flip)) },
		"device swapped":       func() string { return th.KnownDevice(anna, strings.Repeat("A", 22)+tok[22:]) },
		"another key":          func() string { return otherKey.KnownDevice(anna, tok) },
		"no key":               func() string { return noKey.KnownDevice(anna, tok) },
		"empty":                func() string { return th.KnownDevice(anna, "") },
		"no account":           func() string { return th.KnownDevice(store.Account{PasswordHash: anna.PasswordHash}, tok) },
		"garbage":              func() string { return th.KnownDevice(anna, "a.b.c") },
		"issued without a key": func() string { return th.KnownDevice(anna, noKey.IssueDevice(anna)) },
		// A new password (a new salt) ends every device's exemption.
		"password changed": func() string { return th.KnownDevice(newPassword, tok) },
	} {
		if got := bad(); got != "" {
			t.Errorf("%s: known as device %q", name, got)
		}
	}
	clk.Advance(accounts.DeviceLifetime - time.Second)
	if th.KnownDevice(anna, tok) != id {
		t.Error("token not known just before its lifetime ends")
	}
	clk.Advance(time.Second)
	if th.KnownDevice(anna, tok) != "" {
		t.Error("token known after its lifetime")
	}
	// A token from a node whose clock runs far ahead is refused.
	ahead := *th
	ahead.Clock = func() time.Time { return clk.Now().Add(time.Hour) }
	if th.KnownDevice(anna, ahead.IssueDevice(anna)) != "" {
		t.Error("a token issued an hour in the future is known")
	}
}

// The device cookie comes from the browser: whatever it holds, KnownDevice
// does not panic, and what it accepts is a whole token for that account
// only. (Each fuzzing process issues its own good token.)
func FuzzKnownDevice(f *testing.F) {
	th := &accounts.LoginThrottle{DeviceKey: []byte("0123456789abcdef0123456789abcdef"), Clock: func() time.Time { return t0 }}
	good := th.IssueDevice(anna)
	for _, s := range []string{good, good + ".", "." + good, "a.b.c", "..", strings.Repeat("A", 22) + ".zzzzzzzzzzzzz.x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		id := th.KnownDevice(anna, tok)
		if id == "" {
			return
		}
		if strings.Count(tok, ".") != 2 || !strings.HasPrefix(tok, id+".") || th.KnownDevice(account("acct-boris"), tok) != "" {
			t.Fatalf("token %q known as device %q", tok, id)
		}
		flip := []byte(tok)
		flip[len(flip)-1] ^= 0x20
		if th.KnownDevice(anna, string(flip)) != "" {
			t.Fatalf("token %q with its last byte changed is still known", tok)
		}
	})
}
