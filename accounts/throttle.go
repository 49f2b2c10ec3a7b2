package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

// Password-attempt limits. Per address they stop one client spraying many
// accounts: AddressAttempts wrong passwords, then a wall until the
// AttemptWindow that counted them ends. Per account they bound online
// guessing at one person's password as NIST SP 800-63B-4 §3.2.2 asks (at
// most 100 consecutive failed attempts): the account counts its
// consecutive failures, forgotten only by a successful sign-in or
// FailureWindow after the last of them (a sliding window: with a fixed one
// a guesser who waits for its end gets another 100 right after it). From an unknown browser the first AccountAttempts go at
// once; each further one waits FirstDelay, doubling up to MaxDelay (a
// slowdown: whoever knows a username cannot keep its owner out for long);
// at AccountFailures unknown browsers are refused outright. A browser the
// person has signed in from before (a device cookie, SP 800-63B-4 §3.2.2)
// is held back by neither the address nor the account: it has its own
// allowance, DeviceAttempts consecutive failures, after which it is one
// more unknown browser, so a stolen device cookie is not a free pass. The
// account key is the normalised username as typed, whether or not such
// an account exists, so the limits behave the same for both and reveal
// nothing; a name that cannot be normalised is keyed by its SHA-256, so a
// 64 KiB one costs a row of fixed size for FailureWindow.
const (
	AccountAttempts = 5
	AccountFailures = 100
	AddressAttempts = 30
	DeviceAttempts  = 10
	AttemptWindow   = 15 * time.Minute
	FailureWindow   = 30 * 24 * time.Hour
	FirstDelay      = time.Second
	MaxDelay        = 15 * time.Minute
)

// LoginThrottle counts password attempts in the database, so the limits
// hold across every node.
type LoginThrottle struct {
	Store           store.Throttles
	AccountAttempts int           // 0: AccountAttempts
	AccountFailures int           // 0: AccountFailures
	AddressAttempts int           // 0: AddressAttempts
	DeviceAttempts  int           // 0: DeviceAttempts
	Window          time.Duration // the address's, fixed; 0: AttemptWindow
	FailureWindow   time.Duration // the account's and device's, sliding; 0: FailureWindow
	MaxDelay        time.Duration // 0: MaxDelay
	// DeviceKey signs device cookies (IssueDevice); every node must share
	// it. Without one no browser is known and every one is slowed alike.
	DeviceKey []byte
	Clock     clock.Func
}

type limits struct {
	acct, failures, addr, device int
	window, failWindow, maxDelay time.Duration
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (t *LoginThrottle) limits() limits {
	return limits{
		acct:       orDefault(t.AccountAttempts, AccountAttempts),
		failures:   orDefault(t.AccountFailures, AccountFailures),
		addr:       orDefault(t.AddressAttempts, AddressAttempts),
		device:     orDefault(t.DeviceAttempts, DeviceAttempts),
		window:     orDefault(t.Window, AttemptWindow),
		failWindow: orDefault(t.FailureWindow, FailureWindow),
		maxDelay:   orDefault(t.MaxDelay, MaxDelay),
	}
}

// pause is the wait after the n-th consecutive failure on an account: none
// for the first acct-1, then FirstDelay doubling up to maxDelay, and from
// the failures-th on the whole window (which that failure moved to
// failWindow after it): the lock.
func (l limits) pause(n int) time.Duration {
	switch {
	case n < l.acct:
		return 0
	case n >= l.failures:
		return l.failWindow
	}
	return min(FirstDelay<<min(n-l.acct, 30), l.maxDelay)
}

func accountKey(username string) string {
	if n, err := NormalizeUsername(username); err == nil {
		return "login:account:" + n
	}
	// Not a username any account can have, so nothing to share a count
	// with; hashed, so a request body's worth of name is not stored for
	// FailureWindow (a cheap way to fill the table).
	sum := sha256.Sum256([]byte(username))
	return "login:account#" + hex.EncodeToString(sum[:])
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

// A Reservation is Reserve's answer: whether the password may be checked
// now, and what was counted for it, for Succeeded to give back.
type Reservation struct {
	// Wait is how long to wait before trying again; 0: check the password.
	Wait time.Duration
	// Locked says the account refuses this browser after AccountFailures
	// consecutive failures: until a sign-in from a known browser, an
	// administrator's unlock, or Wait (the failures are forgotten).
	Locked bool

	username, device string
	addrKey          string    // the address counted, "" for none
	addrAt           time.Time // when
}

// Reserve counts an attempt for username before its password is checked
// and says whether to check it (Wait 0). device is the device ID
// KnownDevice found for this account in the browser's cookie, "" for an
// unknown browser. Counting first means a burst of parallel guesses cannot
// all pass a check made before any of them is counted. A refused attempt
// counts nothing. After a right password call Succeeded; a wrong one needs
// nothing more.
//
// A known device within its allowance counts against the device, and the
// account's consecutive failures, but neither the address nor the
// account can hold it back: a café's address or an account filled by an
// attacker does not lock its owner's browser out. Past its allowance it is
// treated like any other browser.
func (t *LoginThrottle) Reserve(ctx context.Context, username, addr, device string) (Reservation, error) {
	l := t.limits()
	now := t.Clock.Now()
	res := Reservation{username: username, device: device}
	acct := accountKey(username)
	if device != "" {
		n, err := t.Store.HitThrottleSliding(ctx, deviceKey(device), now, l.failWindow)
		if err != nil {
			return Reservation{}, fmt.Errorf("count sign-in attempt: %w", err)
		}
		if n <= l.device {
			// Still one of the account's consecutive failures if wrong:
			// counted, but not refused by the account's pause.
			if _, err := t.Store.HitThrottleSliding(ctx, acct, now, l.failWindow); err != nil {
				return Reservation{}, fmt.Errorf("count sign-in attempt: %w", err)
			}
			return res, nil
		}
	}
	if addr != "" {
		key := addressKey(addr)
		n, err := t.Store.HitThrottle(ctx, key, now, l.window)
		if err != nil {
			return Reservation{}, fmt.Errorf("count sign-in attempt: %w", err)
		}
		res.addrKey, res.addrAt = key, now
		if n > l.addr {
			_, end, err := t.Store.ThrottleCount(ctx, key, now)
			if err != nil {
				return Reservation{}, fmt.Errorf("read attempt counter: %w", err)
			}
			// The wall holds until the window ends, whatever the refused
			// attempts: their turns go back.
			return t.refuse(ctx, res, Reservation{Wait: max(end.Sub(now), time.Nanosecond)})
		}
	}
	// Known devices' failures count on the account without a pause, so the
	// wall is checked on the count too (a pause set before them would have
	// ended).
	n, end, err := t.Store.ThrottleCount(ctx, acct, now)
	if err != nil {
		return Reservation{}, fmt.Errorf("read attempt counter: %w", err)
	}
	if n >= l.failures {
		return t.refuse(ctx, res, Reservation{Wait: end.Sub(now), Locked: true})
	}
	turn, err := t.Store.HitThrottleSpaced(ctx, acct, now, l.failWindow, l.pause)
	if err != nil {
		return Reservation{}, fmt.Errorf("count sign-in attempt: %w", err)
	}
	if !turn.Counted {
		next := turn.NextAt
		if next.After(turn.WindowEnd) {
			next = turn.WindowEnd
		}
		return t.refuse(ctx, res, Reservation{Wait: max(next.Sub(now), time.Nanosecond), Locked: turn.Count >= l.failures})
	}
	return res, nil
}

// refuse gives back the address's turn res took and answers with no.
func (t *LoginThrottle) refuse(ctx context.Context, res, no Reservation) (Reservation, error) {
	if res.addrKey != "" {
		if err := t.Store.UnhitThrottle(ctx, res.addrKey, res.addrAt); err != nil {
			return Reservation{}, fmt.Errorf("give back sign-in attempt: %w", err)
		}
	}
	return no, nil
}

// Succeeded is called after the right password on a Reservation that let
// it be checked. It gives the address its turn back (people behind one
// NAT are not walled by their good sign-ins, while a sprayer's failures
// stay counted) and ends the consecutive failures of the account and, for
// a known device, of the device: the owner has broken the sequence.
func (t *LoginThrottle) Succeeded(ctx context.Context, r Reservation) error {
	if r.addrKey != "" {
		if err := t.Store.UnhitThrottle(ctx, r.addrKey, r.addrAt); err != nil {
			return fmt.Errorf("give back sign-in attempt: %w", err)
		}
	}
	if r.device != "" {
		if err := t.Store.ResetThrottle(ctx, deviceKey(r.device)); err != nil {
			return fmt.Errorf("reset attempt counter: %w", err)
		}
	}
	return t.Unlock(ctx, r.username)
}

// Unlock forgets the consecutive failures on username's account, so
// unknown browsers may try again at once (an administrator's act after
// the owner is walled out, or the owner's own sign-in).
func (t *LoginThrottle) Unlock(ctx context.Context, username string) error {
	if err := t.Store.ResetThrottle(ctx, accountKey(username)); err != nil {
		return fmt.Errorf("reset attempt counter: %w", err)
	}
	return nil
}
