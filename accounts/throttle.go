package accounts

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/propusk/propusk/store"
)

// Password-attempt limits, per window. Per address they stop one client
// spraying many accounts: a wall until the window ends. Per account they
// stop guessing one person's password, but as a slowdown, not a wall:
// after AccountAttempts attempts each further one waits FirstDelay,
// doubling up to MaxDelay, so anyone who knows a username cannot keep its
// owner out (targeted lock-out). A browser the person has signed in from
// before (a device cookie, NIST SP 800-63B §5.2.2) is not held back by the
// account's count at all; it has its own allowance, DeviceAttempts, so a
// stolen device cookie is not a free pass either. The account key is the
// normalised username as typed, whether or not such an account exists, so
// the limit behaves the same for both and reveals nothing.
const (
	AccountAttempts = 5
	AddressAttempts = 30
	DeviceAttempts  = 10
	AttemptWindow   = 15 * time.Minute
	FirstDelay      = time.Second
	MaxDelay        = time.Minute
)

// LoginThrottle counts password attempts in the database, so the limits
// hold across every node.
type LoginThrottle struct {
	Store           store.Throttles
	AccountAttempts int           // 0: AccountAttempts
	AddressAttempts int           // 0: AddressAttempts
	DeviceAttempts  int           // 0: DeviceAttempts
	Window          time.Duration // 0: AttemptWindow
	MaxDelay        time.Duration // 0: MaxDelay
	// DeviceKey signs device cookies (IssueDevice); every node must share
	// it. Without one no browser is known and every one is slowed alike.
	DeviceKey []byte
	Now       func() time.Time
}

type limits struct {
	acct, addr, device int
	window, maxDelay   time.Duration
}

func (t *LoginThrottle) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (t *LoginThrottle) limits() limits {
	return limits{
		acct:     orDefault(t.AccountAttempts, AccountAttempts),
		addr:     orDefault(t.AddressAttempts, AddressAttempts),
		device:   orDefault(t.DeviceAttempts, DeviceAttempts),
		window:   orDefault(t.Window, AttemptWindow),
		maxDelay: orDefault(t.MaxDelay, MaxDelay),
	}
}

// pause is the wait after the n-th attempt on an account in a window:
// none for the first acct-1, then FirstDelay doubling up to maxDelay.
func (l limits) pause(n int) time.Duration {
	if n < l.acct {
		return 0
	}
	return min(FirstDelay<<min(n-l.acct, 30), l.maxDelay)
}

func accountKey(username string) string {
	if n, err := NormalizeUsername(username); err == nil {
		username = n
	}
	return "login:account:" + username
}

// addressKey counts an IPv6 client by its /64: one subscriber usually holds
// a whole /64 and could otherwise take a fresh address for every guess.
// IPv4 addresses (also IPv4-mapped ones) count one by one.
func addressKey(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			addr = netip.PrefixFrom(ip, 64).Masked().String()
		} else {
			addr = ip.String()
		}
	}
	return "login:address:" + addr
}

func deviceKey(device string) string { return "login:device:" + device }

// waitFor is how long key's window still runs once max attempts were
// counted in it; 0 below max.
func (t *LoginThrottle) waitFor(ctx context.Context, key string, max int, now time.Time) (time.Duration, error) {
	n, end, err := t.Store.ThrottleCount(ctx, key, now)
	if err != nil {
		return 0, fmt.Errorf("read attempt counter: %w", err)
	}
	if n >= max {
		return end.Sub(now), nil
	}
	return 0, nil
}

// Reserve counts an attempt for username before its password is checked
// and says how long to wait first (0: go ahead). device is the device ID
// KnownDevice found for this account in the browser's cookie, "" for an
// unknown browser. Counting first means a burst of parallel guesses cannot
// all pass a check made before any of them is counted. After a wrong
// password call FailedAddress; after a right one, Succeeded.
//
// An address whose limit is used up waits for its window to end and
// counts nothing more. A known device counts against its own allowance
// only; once that is used up it is treated like any other browser, which
// counts against the account and waits out the account's pause.
func (t *LoginThrottle) Reserve(ctx context.Context, username, addr, device string) (time.Duration, error) {
	l := t.limits()
	now := t.now()
	if addr != "" {
		// Checked before anything is counted: a blocked address must not
		// use up the account's turns for everyone else.
		if wait, err := t.waitFor(ctx, addressKey(addr), l.addr, now); err != nil || wait > 0 {
			return wait, err
		}
	}
	if device != "" {
		n, err := t.Store.HitThrottle(ctx, deviceKey(device), now, l.window)
		if err != nil {
			return 0, fmt.Errorf("count sign-in attempt: %w", err)
		}
		if n <= l.device {
			return 0, nil
		}
	}
	turn, err := t.Store.HitThrottleSpaced(ctx, accountKey(username), now, l.window, l.pause)
	if err != nil {
		return 0, fmt.Errorf("count sign-in attempt: %w", err)
	}
	if turn.Counted {
		return 0, nil
	}
	return turn.NextAt.Sub(now), nil
}

// FailedAddress counts a wrong password against the client address (the
// account's or device's count was taken by Reserve).
func (t *LoginThrottle) FailedAddress(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	if _, err := t.Store.HitThrottle(ctx, addressKey(addr), t.now(), t.limits().window); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return nil
}

// Succeeded clears the counter the right password was reserved on: the
// device's for a known device, else the account's. Never the address's:
// one good password must not reset a spray from the same address. Nor the
// account's from a known device: the owner signing in at home must not
// hand a guesser elsewhere a fresh run of attempts.
func (t *LoginThrottle) Succeeded(ctx context.Context, username, device string) error {
	key := accountKey(username)
	if device != "" {
		key = deviceKey(device)
	}
	if err := t.Store.ResetThrottle(ctx, key); err != nil {
		return fmt.Errorf("reset attempt counter: %w", err)
	}
	return nil
}
