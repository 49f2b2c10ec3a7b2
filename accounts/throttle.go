package accounts

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/propusk/propusk/store"
)

// Password-attempt limits. Per account they stop guessing one person's
// password; per address they stop one client spraying many accounts. The
// account key is the normalised username as typed, whether or not such an
// account exists, so the limit behaves the same for both and reveals
// nothing.
const (
	AccountAttempts = 5
	AddressAttempts = 30
	AttemptWindow   = 15 * time.Minute
)

// LoginThrottle counts failed password attempts in the database, so the
// limits hold across every node.
type LoginThrottle struct {
	Store           store.Throttles
	AccountAttempts int           // 0: AccountAttempts
	AddressAttempts int           // 0: AddressAttempts
	Window          time.Duration // 0: AttemptWindow
	Now             func() time.Time
}

func (t *LoginThrottle) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

func (t *LoginThrottle) limits() (acct, addr int, window time.Duration) {
	acct, addr, window = t.AccountAttempts, t.AddressAttempts, t.Window
	if acct <= 0 {
		acct = AccountAttempts
	}
	if addr <= 0 {
		addr = AddressAttempts
	}
	if window <= 0 {
		window = AttemptWindow
	}
	return acct, addr, window
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

// Wait says how long the person must wait before another attempt for
// username from addr; 0 means go ahead.
func (t *LoginThrottle) Wait(ctx context.Context, username, addr string) (time.Duration, error) {
	acctMax, addrMax, _ := t.limits()
	now := t.now()
	wait, err := t.waitFor(ctx, accountKey(username), acctMax, now)
	if err != nil || addr == "" {
		return wait, err
	}
	w, err := t.waitFor(ctx, addressKey(addr), addrMax, now)
	return max(wait, w), err
}

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

// Failed counts a failed attempt against both keys.
func (t *LoginThrottle) Failed(ctx context.Context, username, addr string) error {
	_, _, window := t.limits()
	if _, err := t.Store.HitThrottle(ctx, accountKey(username), t.now(), window); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return t.FailedAddress(ctx, addr)
}

// Succeeded clears the account's counter (not the address's: one good
// password must not reset a spray from the same address).
func (t *LoginThrottle) Succeeded(ctx context.Context, username string) error {
	return t.Store.ResetThrottle(ctx, accountKey(username))
}

// Reserve counts an attempt for username before its password is checked
// and says how long to wait if the account's limit is used up (0: go
// ahead). Counting first means a burst of parallel guesses cannot all pass
// a check made before any of them is counted. After a wrong password call
// FailedAddress; after a right one, Succeeded. The address limit is checked
// as in Wait.
func (t *LoginThrottle) Reserve(ctx context.Context, username, addr string) (time.Duration, error) {
	acctMax, addrMax, window := t.limits()
	now := t.now()
	n, err := t.Store.HitThrottle(ctx, accountKey(username), now, window)
	if err != nil {
		return 0, fmt.Errorf("count sign-in attempt: %w", err)
	}
	var wait time.Duration
	if n > acctMax {
		if wait, err = t.waitFor(ctx, accountKey(username), acctMax, now); err != nil {
			return 0, err
		}
	}
	if addr == "" {
		return wait, nil
	}
	w, err := t.waitFor(ctx, addressKey(addr), addrMax, now)
	return max(wait, w), err
}

// FailedAddress counts a wrong password against the client address (the
// account's count was taken by Reserve).
func (t *LoginThrottle) FailedAddress(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	_, _, window := t.limits()
	if _, err := t.Store.HitThrottle(ctx, addressKey(addr), t.now(), window); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return nil
}
