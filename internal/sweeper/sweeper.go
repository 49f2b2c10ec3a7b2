// Package sweeper removes expired rows in the background: codes, tokens,
// pushed requests, client-assertion IDs, flows, sessions, throttle windows,
// abandoned enrolments and long-retired signing keys. It works in small batches so it never
// holds a lock for long, and it is never on a request path. Several nodes
// may run it at once: every delete is idempotent.
package sweeper

import (
	"context"
	"log/slog"
	"time"

	"github.com/propusk/propusk/internal/clock"
	"github.com/propusk/propusk/store"
)

// Store is what the sweeper deletes from.
type Store interface {
	store.OAuthRecords
	store.ClientAssertions
	store.Flows
	store.BrowserSessions
	store.Throttles
	store.Authenticators
}

// enrolmentLifetime is how long an unconfirmed enrolment is kept.
const enrolmentLifetime = 24 * time.Hour

// KeyPruner deletes signing keys retired for long enough (oauth.KeySet).
type KeyPruner interface {
	Prune(ctx context.Context) ([]string, error)
}

// Sweeper holds its dependencies and settings.
type Sweeper struct {
	Store       Store
	Keys        KeyPruner
	Logger      *slog.Logger
	Interval    time.Duration // between sweeps; 0: 5 minutes
	Batch       int           // rows per statement; 0: 500
	SessionIdle time.Duration // sessions unused this long are removed
	Clock       clock.Func
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	interval := s.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "sweep failed", "err", err, "removed", n)
		} else if n > 0 {
			s.Logger.InfoContext(ctx, "swept expired rows", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep removes everything expired now, batch by batch, and returns how
// many rows went.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	now := s.Clock.Now()
	idleBefore := time.Time{}
	if s.SessionIdle > 0 {
		idleBefore = now.Add(-s.SessionIdle)
	}
	jobs := []func() (int, error){
		func() (int, error) { return s.Store.DeleteExpiredOAuthRecords(ctx, now, batch) },
		func() (int, error) { return s.Store.DeleteExpiredClientAssertions(ctx, now, batch) },
		func() (int, error) { return s.Store.DeleteExpiredFlows(ctx, now, batch) },
		func() (int, error) { return s.Store.DeleteExpiredBrowserSessions(ctx, now, idleBefore, batch) },
		func() (int, error) { return s.Store.DeleteExpiredThrottles(ctx, now, batch) },
		func() (int, error) {
			return s.Store.DeleteUnconfirmedAuthenticators(ctx, now.Add(-enrolmentLifetime), batch)
		},
	}
	total := 0
	for _, job := range jobs {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, err := job()
			total += n
			if err != nil {
				return total, err
			}
			if n < batch {
				break
			}
		}
	}
	if s.Keys != nil {
		gone, err := s.Keys.Prune(ctx)
		total += len(gone)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
