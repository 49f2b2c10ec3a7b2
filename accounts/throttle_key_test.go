package accounts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/accounts"
	"github.com/propusk/propusk/store"
)

// keyLog records the keys a throttle writes.
type keyLog struct {
	store.Throttles
	keys []string
}

func (k *keyLog) HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(int) time.Duration) (store.ThrottleTurn, error) {
	k.keys = append(k.keys, key)
	return k.Throttles.HitThrottleSpaced(ctx, key, now, window, pause)
}

// A username that cannot be normalised was the account key as sent, up
// to the whole request body, kept FailureWindow: a few thousand posts of a
// 64 KiB name each store gigabytes. Such a name is keyed by a fixed-size
// digest, still its own count (it is slowed down like any other).
func TestThrottleUnnormalisableUsernameKey(t *testing.T) {
	th, db, _ := newThrottle(t)
	log := &keyLog{Throttles: db}
	th.Store = log
	long := strings.Repeat("\x01", 64<<10) // control characters: never a username
	for range accounts.AccountAttempts {
		if d := reserve(t, th, long, "", ""); d != 0 {
			t.Fatalf("wait %v within the free attempts", d)
		}
	}
	if d := reserve(t, th, long, "", ""); d == 0 {
		t.Error("an unnormalisable name is not slowed down")
	}
	if d := reserve(t, th, long+"x", "", ""); d != 0 {
		t.Errorf("another unnormalisable name shares its count: wait %v", d)
	}
	for _, k := range log.keys {
		if len(k) > 100 {
			t.Fatalf("account key of %d bytes stored", len(k))
		}
	}
	if len(log.keys) == 0 || log.keys[0] == log.keys[len(log.keys)-1] {
		t.Fatalf("keys %q: want one per name", log.keys)
	}
}
