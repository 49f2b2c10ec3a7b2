package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/propusk/propusk/store"
)

// hitThrottle is one upsert that either starts a window or counts into
// the current one; windowEnd is the new end of a running window. Concurrent
// hits on one key queue on the row lock (or the write lock) and each
// re-reads the row the previous one wrote, so none is lost. SET
// expressions all read the old row, so the CASEs agree on whether the
// window had ended.
func (s *Store) hitThrottle(ctx context.Context, what, key string, now time.Time, window time.Duration, windowEnd string) (int, error) {
	var n int
	err := s.conn.ReturningRow(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
		VALUES ($1, 1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttles.window_end <= $2 THEN 1 ELSE throttles.count + 1 END,
			window_start = CASE WHEN throttles.window_end <= $2 THEN excluded.window_start ELSE throttles.window_start END,
			window_end = `+windowEnd+`,
			next_at = CASE WHEN throttles.window_end <= $2 THEN NULL ELSE throttles.next_at END
		RETURNING count`, key, s.timeArg(now), s.timeArg(now.Add(window))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, s.d.MapErr(err))
	}
	return n, nil
}

// HitThrottle implements store.Throttles: the end of a running window
// stays.
func (s *Store) HitThrottle(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	return s.hitThrottle(ctx, "hit throttle", key, now, window,
		`CASE WHEN throttles.window_end <= $2 THEN excluded.window_end ELSE throttles.window_end END`)
}

// HitThrottleSliding implements store.Throttles like HitThrottle, with
// the end pushed to now+window (the greater of the two keeps a later end
// another hit set).
func (s *Store) HitThrottleSliding(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	return s.hitThrottle(ctx, "hit sliding throttle", key, now, window,
		s.d.Greatest+`(throttles.window_end, excluded.window_end)`)
}

// UnhitThrottle implements store.Throttles.
func (s *Store) UnhitThrottle(ctx context.Context, key string, at time.Time) error {
	_, err := s.count(ctx, "take back a throttle hit", `UPDATE throttles SET count = count - 1
		WHERE key = $1 AND count > 0 AND window_start <= $2 AND window_end > $2`, key, s.timeArg(at))
	return err
}

// ThrottleCount implements store.Throttles.
func (s *Store) ThrottleCount(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var n int
	var end time.Time
	err := s.conn.QueryRow(ctx, `SELECT count, window_end FROM throttles WHERE key = $1 AND window_end > $2`,
		key, s.timeArg(now)).Scan(&n, s.d.ScanTime(&end))
	if err = s.d.MapErr(err); errors.Is(err, store.ErrNotFound) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read throttle: %w", err)
	}
	return n, end, nil
}

// HitThrottleSpaced implements store.Throttles. One upsert inserts key's
// row (a placeholder that looks like an ended window and never outlives
// the transaction as such) or locks the existing one, and returns it, so
// the first hits on a new key take turns too and nothing can take the row
// away in between: with an insert-if-missing and then a SELECT … FOR
// UPDATE the sweeper could delete an ended row between the two, and the
// sign-in failed.
func (s *Store) HitThrottleSpaced(ctx context.Context, key string, now time.Time, window time.Duration, pause func(n int) time.Duration) (store.ThrottleTurn, error) {
	var turn store.ThrottleTurn
	now = now.UTC().Truncate(time.Microsecond) // what the columns keep
	err := s.InTx(ctx, func(ctx context.Context) error {
		var n int
		var start, end, next time.Time // next: zero when no pause is set
		err := s.conn.ReturningRow(ctx, `INSERT INTO throttles (key, count, window_start, window_end)
			VALUES ($1, 0, $2, $2)
			ON CONFLICT (key) DO UPDATE SET count = throttles.count
			RETURNING count, window_start, window_end, next_at`, key, s.timeArg(now)).Scan(
			&n, s.d.ScanTime(&start), s.d.ScanTime(&end), s.d.ScanTime(&next))
		if err != nil {
			return s.d.MapErr(err)
		}
		if !end.After(now) { // a new window starts
			n, start, end, next = 0, now, now.Add(window), time.Time{}
		}
		if !next.IsZero() && now.Before(next) {
			turn = store.ThrottleTurn{Count: n, NextAt: next, WindowEnd: end}
			return nil
		}
		n++
		if e := now.Add(window); e.After(end) { // sliding: window after this attempt
			end = e
		}
		at := now.Add(max(pause(n), 0)).Truncate(time.Microsecond)
		_, err = s.conn.Exec(ctx, `UPDATE throttles SET count = $2, window_start = $3, window_end = $4, next_at = $5
			WHERE key = $1`, key, n, s.timeArg(start), s.timeArg(end), s.timeArg(at))
		if err != nil {
			return s.d.MapErr(err)
		}
		turn = store.ThrottleTurn{Counted: true, Count: n, NextAt: at, WindowEnd: end}
		return nil
	})
	if err != nil {
		return store.ThrottleTurn{}, fmt.Errorf("hit spaced throttle: %w", err)
	}
	return turn, nil
}

// ResetThrottle implements store.Throttles.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	_, err := s.count(ctx, "reset throttle", `DELETE FROM throttles WHERE key = $1`, key)
	return err
}

// DeleteExpiredThrottles implements store.Throttles. The outer window_end
// test is re-checked on a row a hit renewed while the DELETE waited for its
// lock (PostgreSQL's READ COMMITTED re-reads it); without it the subquery's
// stale answer would wipe a live count.
func (s *Store) DeleteExpiredThrottles(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.sweep(ctx, "delete expired throttles", limit, `DELETE FROM throttles WHERE key IN
		(SELECT key FROM throttles WHERE window_end < $1 LIMIT $2) AND window_end < $1`, s.timeArg(before))
}
