package store

import (
	"context"
	"time"
)

// Throttles count failed attempts (passwords, codes) per key in windows,
// in the database, so a limit holds across every node. A window is fixed
// (HitThrottle: it ends window after its first attempt) or sliding
// (HitThrottleSliding, HitThrottleSpaced: every counted attempt moves its
// end to window after that attempt, so a run of attempts is forgotten only
// window after its last one).
type Throttles interface {
	// HitThrottle counts one attempt for key and returns the count in the
	// current window, which starts at the first attempt and lasts window.
	// It is one atomic upsert: concurrent hits on any node are all counted.
	// On a key also used with HitThrottleSpaced it counts whatever the
	// pause, and leaves the pause and the window's end as they are (a new
	// window has no pause).
	HitThrottle(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// HitThrottleSliding counts one attempt as HitThrottle does, and moves
	// the window's end to now+window (never earlier than it was).
	HitThrottleSliding(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// UnhitThrottle takes back one attempt counted at at: it lowers key's
	// count by one, never below zero, if the window that counted it (the
	// one running at at) is still key's window; else it does nothing. It is
	// one conditional update, so concurrent hits and takebacks all count.
	UnhitThrottle(ctx context.Context, key string, at time.Time) error
	// ThrottleCount returns the count in key's current window at now and
	// when that window ends; 0 and zero time when there is none.
	ThrottleCount(ctx context.Context, key string, now time.Time) (int, time.Time, error)
	// HitThrottleSpaced counts one attempt for key as HitThrottleSliding
	// does, unless an attempt counted earlier in key's window set a pause
	// that has not passed: then it counts nothing (Counted false) and moves
	// nothing. After counting the n-th attempt of a window it pauses key
	// for pause(n) (0: none); a pause ends with its window at the latest.
	// It runs in one transaction with key's row locked, so concurrent hits
	// on any node take turns and a burst cannot pass a pause.
	HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(n int) time.Duration) (ThrottleTurn, error)
	// ResetThrottle forgets key (after a success); no error when unknown.
	ResetThrottle(ctx context.Context, key string) error
	// DeleteExpiredThrottles removes at most limit windows that ended
	// before before.
	DeleteExpiredThrottles(ctx context.Context, before time.Time, limit int) (int, error)
}

// ThrottleTurn is what HitThrottleSpaced did.
type ThrottleTurn struct {
	Counted   bool
	Count     int       // attempts counted in the window, this one too when Counted
	NextAt    time.Time // the pause's end: no attempt counts before it
	WindowEnd time.Time
}
